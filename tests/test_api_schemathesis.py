"""Schemathesis against ``/api/v1/openapi.json``: the API never fails and never strays
from its document, for an operator and for a department head, on demo-like data.

The run is what ``st run`` does (schemathesis' engine: examples, coverage with boundary
values and undeclared methods, fuzzing, stateful sequences) against the app served in a
thread of this process. Every response is checked: no server error, a documented status,
content type and body, invalid input rejected, ``Allow`` on every 405. Generation is
deterministic with a fixed seed, so a run is repeatable, and nothing depends on timing.

Why a live server rather than the WSGI app: schemathesis 4.32's pytest plugin does not
run under pytest 9.2 (it rewrites ``node._nodeid``) and its engine's coverage phase passes
``max_redirects`` to werkzeug's test client when it calls a WSGI app directly.
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.engine import Status, events

from desk.demo.commands import load_demo
from desk.demo.direct import DIRECT_APPEALS
from desk.extensions import db
from desk.models import ApiToken, Ticket, User

DEMO_TICKETS = 30
ROLES = {"operator": "operator@belogorsk.demo", "head": "head.housing@belogorsk.demo"}

CONFIG = schemathesis.Config.from_dict({
    "seed": 20240901,
    "workers": 1,
    "generation": {"mode": "all", "deterministic": True, "max-examples": 15, "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": True}},
    "checks": {
        "enabled": True,
        # A schema cannot say which ids exist, nor whether a cursor is one the server made:
        # an unknown id or a forged cursor in a schema-valid request is a documented 422.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
    },
})


def run_schemathesis(schema) -> tuple[int, list[str]]:
    """Run every phase as ``st run`` does; return the number of test cases and each
    failure as one line (operation, code, title, the request to reproduce it)."""
    cases, failures = 0, []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(f"{event.label}: {failure.code} {failure.title}: {failure.message[:300]}\n"
                                        f"    {check.failure_info.code_sample[:400]}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"error in {getattr(event, 'phase', None)} {getattr(event, 'label', '')}: {event.info.message}")
    return cases, sorted(set(failures))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_api_conforms_to_its_document(app, live_server, role):
    load_demo(DEMO_TICKETS, show_progress=False)
    user = db.session.scalars(db.select(User).where(User.email == ROLES[role])).one()
    token, plain = ApiToken.issue(user, "schemathesis")
    db.session.add(token)
    db.session.commit()
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=CONFIG)
    schema.config.headers = {"Authorization": f"Bearer {plain}"}

    cases, failures = run_schemathesis(schema)

    assert not failures, "\n".join(failures)
    assert cases > 200  # every operation was really exercised


def test_the_demo_gives_both_roles_something_to_see(app):
    """Guard for the test above: fuzzing an empty queue would prove little."""
    load_demo(DEMO_TICKETS, show_progress=False)
    head = db.session.scalars(db.select(User).where(User.email == ROLES["head"])).one()
    theirs = db.session.scalar(db.select(db.func.count(Ticket.id)).where(Ticket.department_id == head.department_id))
    assert theirs >= 2 and db.session.scalar(db.select(db.func.count(Ticket.id))) == \
        DEMO_TICKETS + len(DIRECT_APPEALS)  # the demo's comments and its web-form/Open311 appeals
