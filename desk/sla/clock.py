"""The SLA module's clock, one place for tests to replace with a fake one."""
from ..models import utcnow


def now():
    return utcnow()
