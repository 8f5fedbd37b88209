"""Statuses carry their traits, actions are objects in one registry.

The derived sets are compared with the literal sets the modules restated before the
traits moved onto the enum, so a trait edited by mistake shows up here.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from desk import labels
from desk.models import JOINABLE_STATUSES, OPEN_STATUSES, Priority, Role, TicketStatus
from desk.models.types import StatusTraits
from desk.tickets.actions import ACTIONS, Action, Bulk, bulk_actions
from desk.tickets.permissions import head_statuses, refusal, role_actions, role_has
from desk.tickets.workflow import ALLOWED_TRANSITIONS

S = TicketStatus

# The sets as the modules wrote them before (desk/models/types.py, desk/sla/services.py,
# desk/replies/services.py, desk/tickets/services.py, desk/reports/filters.py,
# desk/inbox/views.py, desk/tickets/workflow.py, desk/tickets/permissions.py).
OLD_OPEN = {S.NEW, S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT}
OLD_JOINABLE = OLD_OPEN | {S.RESOLVED}
OLD_PAUSING = {S.WAITING_RESIDENT, S.RESOLVED, S.NOT_APPEAL, S.SPAM}
OLD_RESUMING = {S.NEW, S.TRIAGED, S.IN_PROGRESS}
OLD_REPLYABLE = {S.NEW, S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT, S.RESOLVED}
OLD_ROUTABLE = {S.NEW, S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT}
OLD_MERGE_TARGET_REFUSED = {S.MERGED, S.SPAM, S.NOT_APPEAL, S.CLOSED}
OLD_CLOSED_AT = {S.CLOSED, S.MERGED, S.NOT_APPEAL, S.SPAM}
OLD_REPORT_EXCLUDED = {S.NOT_APPEAL, S.SPAM, S.MERGED}
OLD_INBOX_TABS = [S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT, S.RESOLVED]
OLD_TRANSITIONS = {
    S.NEW: {S.TRIAGED, S.NOT_APPEAL, S.SPAM, S.MERGED},
    S.TRIAGED: {S.IN_PROGRESS, S.WAITING_RESIDENT, S.RESOLVED, S.NEW, S.MERGED},
    S.IN_PROGRESS: {S.WAITING_RESIDENT, S.RESOLVED, S.NEW, S.MERGED},
    S.WAITING_RESIDENT: {S.IN_PROGRESS, S.RESOLVED, S.MERGED},
    S.RESOLVED: {S.CLOSED, S.IN_PROGRESS},
    S.CLOSED: set(),
    S.NOT_APPEAL: {S.NEW},
    S.SPAM: {S.NEW},
    S.MERGED: {S.NEW},  # "Undo" separates a wrongly merged ticket (issue 14)
}
OLD_HEAD_STATUS_EXCLUDED = {S.NEW, S.MERGED, S.CLOSED, S.NOT_APPEAL, S.SPAM}
_OPEN = frozenset(OLD_OPEN)
_TRIAGING = frozenset({S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT})
_ANY = frozenset(TicketStatus)
OLD_OPERATOR_ACTIONS = {
    "route": _OPEN, "not_appeal": {S.NEW}, "spam": {S.NEW}, "undo": {S.NOT_APPEAL, S.SPAM, S.MERGED},
    "category": _OPEN, "department": _OPEN, "priority": _OPEN, "assignee": _TRIAGING, "merge": _OPEN,
    "note": _ANY, "close": {S.RESOLVED},
}
OLD_HEAD_ACTIONS = {
    "accept": {S.TRIAGED}, "return": {S.TRIAGED, S.IN_PROGRESS}, "status": _TRIAGING | {S.RESOLVED},
    "note": _ANY,  # the draft answer was removed with issue 14: heads write real answers
}
# Added with the public status page (issue 11): administrators rotate its link wherever
# the page opens (spam and "not an appeal" have none).
ADMIN_ACTIONS = {**OLD_OPERATOR_ACTIONS, "status_link": _ANY - {S.SPAM, S.NOT_APPEAL}}
OLD_ROLE_ACTIONS = {Role.OPERATOR: OLD_OPERATOR_ACTIONS, Role.ADMIN: ADMIN_ACTIONS,
                    Role.DEPARTMENT_HEAD: OLD_HEAD_ACTIONS, Role.MANAGER: {}}
OLD_BULK_ACTIONS = ("route", "not_appeal", "spam", "undo", "merge")  # undo: the toast after a bulk spam (issue 14)
# Where the card showed the routing form and the re-routing fields (``ticket.status == 'new'``).
OLD_ROUTE_FORM_SHOWN = {S.NEW}
OLD_REROUTE_FIELDS_SHOWN = OLD_OPEN - {S.NEW}


@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda s: s.value)
def test_every_status_declares_a_label_a_css_class_and_every_trait(status):
    assert status.label and status.label != status.value
    assert status.css == f"status-{status.value}"
    assert isinstance(status.traits, StatusTraits)
    for trait in dataclasses.fields(StatusTraits):
        value = getattr(status, trait.name) if trait.name != "next" else status.traits.next
        assert value is not None, trait.name
        if trait.type == "bool":
            assert isinstance(value, bool), trait.name
    assert status.set_by and all(isinstance(role, Role) for role in status.set_by)
    assert all(value in TicketStatus.values() for value in status.traits.next)
    assert labels.css("status", status.value) == status.css


def test_labels_come_from_the_enums(app):
    with app.test_request_context(), force_locale("en"):
        assert {k: str(v) for k, v in labels.STATUS.items()} == {s.value: s.label for s in TicketStatus}
        assert {k: str(v) for k, v in labels.PRIORITY.items()} == {p.value: p.label for p in Priority}
        assert {k: str(v) for k, v in labels.ROLE.items()} == {r.value: r.label for r in Role}
    with app.test_request_context(), force_locale("ru"):  # every label is translated
        for kind, enum in (("status", TicketStatus), ("priority", Priority), ("role", Role)):
            for member in enum:
                assert labels.label(kind, member.value) != member.label, (kind, member)


def test_priorities_have_a_css_class():
    for priority in Priority:
        assert priority.label and labels.css("priority", priority.value) == f"priority-{priority.value}"


def test_derived_sets_equal_the_sets_the_modules_used_to_restate():
    assert set(S.having("is_open")) == OLD_OPEN == set(OPEN_STATUSES)
    assert set(S.open_values()) == {s.value for s in OLD_OPEN}
    assert set(S.having("joinable")) == OLD_JOINABLE == set(JOINABLE_STATUSES)
    assert set(S.joinable_values()) == {s.value for s in OLD_JOINABLE}
    assert set(S.having("pauses_sla")) == OLD_PAUSING
    assert set(S.having("resumes_sla")) == OLD_RESUMING
    assert set(S.having("replyable")) == OLD_REPLYABLE
    assert set(S.replyable_values()) == {s.value for s in OLD_REPLYABLE}
    assert set(S.having("routable")) == OLD_ROUTABLE
    assert {s for s in S if not s.joinable} == OLD_MERGE_TARGET_REFUSED
    assert set(S.having("closes")) == OLD_CLOSED_AT
    assert set(S.unreported_values()) == {s.value for s in OLD_REPORT_EXCLUDED}
    assert list(S.department_values()) == [s.value for s in OLD_INBOX_TABS]
    assert {old: set(new) for old, new in ALLOWED_TRANSITIONS.items()} == OLD_TRANSITIONS



@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda s: s.value)
def test_a_head_may_set_what_it_could_before(status):
    ticket = SimpleNamespace(id=1, status=status.value)
    old = [s for s in sorted(OLD_TRANSITIONS[status], key=list(S).index) if s not in OLD_HEAD_STATUS_EXCLUDED]
    assert head_statuses(ticket) == old


@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_action_has_a_label_a_handler_a_form_and_a_permission_rule(name):
    action = ACTIONS[name]
    assert isinstance(action, Action) and action.name == name
    assert str(action.label)
    assert callable(action.handler) and action.form is not None
    assert action.roles and all(isinstance(role, Role) for role in action.roles)
    assert callable(action.when)
    assert action.slot in ("route", "button", "field", "note")
    if action.slot != "button":
        assert action.slot == "route" or action.field
    if action.bulk is not None:
        assert isinstance(action.bulk, Bulk) and callable(action.bulk.apply) and callable(action.bulk.done)


def test_the_registry_grants_what_the_role_tables_granted():
    for role, table in OLD_ROLE_ACTIONS.items():
        user = SimpleNamespace(role=role.value)
        assert role_actions(role) == set(table), role
        for name in ACTIONS:
            assert role_has(user, name) == (name in table), (role, name)
        for name, statuses in table.items():
            for status in TicketStatus:
                ticket = SimpleNamespace(id=1, status=status.value)
                assert ACTIONS[name].applies(status) == (status in statuses), (name, status)
                # The head's status form also needs a status to move to.
                expected = status in statuses and (name != "status" or bool(head_statuses(ticket)))
                assert (refusal(user, name, ticket) is None) == expected, (role, name, status)


def test_bulk_actions_are_the_ones_the_queue_offered():
    assert tuple(a.name for a in bulk_actions()) == OLD_BULK_ACTIONS
    assert [a.name for a in bulk_actions() if a.bulk.needs_target] == ["merge"]


def test_the_card_shows_the_routing_form_and_fields_where_it_did():
    route = ACTIONS["route"]
    for status in TicketStatus:
        ticket = SimpleNamespace(status=status.value)
        if route.applies(status):
            assert route.on_card(ticket) == (status in OLD_ROUTE_FORM_SHOWN)
        for name in ("department", "category", "priority"):
            if ACTIONS[name].applies(status):
                assert ACTIONS[name].on_card(ticket) == (status in OLD_REROUTE_FIELDS_SHOWN)
