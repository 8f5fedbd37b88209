"""The SLA module's clock, one place for tests to replace with a fake one."""
from datetime import datetime

from ..models import utcnow


def now() -> datetime:
    return utcnow()
