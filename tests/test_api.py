"""JSON API v1: token auth, department scope, routing, status changes, validation,
and the OpenAPI document checked against the app and its real responses."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from desk.api.openapi import OPENAPI
from desk.extensions import db
from desk.models import ApiToken, Role, Ticket, TicketEvent, TicketStatus, utcnow
from desk.tickets import services
from desk.tickets.workflow import change_status


def issue_token(user) -> str:
    token, plain = ApiToken.issue(user, "test")
    db.session.add(token)
    db.session.commit()
    return plain


@pytest.fixture
def api(client):
    """``api(user).get(path)`` / ``.post(path, json=...)`` with the user's bearer token."""

    class Caller:
        def __init__(self, user):
            self.headers = {"Authorization": f"Bearer {issue_token(user)}"}

        def get(self, path, **kw):
            return client.get("/api/v1" + path, headers=self.headers, **kw)

        def post(self, path, **kw):
            return client.post("/api/v1" + path, headers=self.headers, **kw)

    return Caller


@pytest.fixture
def org(make):
    """Two departments, a head of each, an operator and a manager."""
    roads, schools = make.department("Roads"), make.department("Schools")
    return {
        "roads": roads,
        "schools": schools,
        "roads_head": make.user(Role.DEPARTMENT_HEAD, department=roads),
        "schools_head": make.user(Role.DEPARTMENT_HEAD, department=schools),
        "operator": make.user(Role.OPERATOR),
        "manager": make.user(Role.MANAGER),
    }


def routed_ticket(make, operator, department, **kw) -> Ticket:
    ticket = make.ticket(**kw)
    services.route(ticket, operator, department=department)
    db.session.commit()
    return ticket


def assert_error(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error", "message", "fields"} and body["message"]
    for name in fields:
        assert name in body["fields"], body
    return body


def events(ticket: Ticket, kind: str) -> list[TicketEvent]:
    return db.session.scalars(
        db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
        .order_by(TicketEvent.id)
    ).all()


# --- authentication -------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer ", "Bearer dsk_not-a-real-token"])
def test_missing_or_unknown_token_is_401_json(client, make, header):
    make.ticket()
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/tickets/1", headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_and_deactivated_user_are_refused(client, make):
    user = make.user(Role.OPERATOR)
    ticket = make.ticket()
    plain = issue_token(user)
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).status_code == 200

    user.is_active_user = False
    db.session.commit()
    assert_error(client.get(f"/api/v1/tickets/{ticket.id}", headers=headers), 401)

    user.is_active_user = True
    db.session.scalars(db.select(ApiToken)).one().revoked = True
    db.session.commit()
    assert_error(client.get(f"/api/v1/tickets/{ticket.id}", headers=headers), 401)


def test_last_used_at_is_written_at_most_once_a_minute(client, make):
    user = make.user(Role.OPERATOR)
    ticket = make.ticket()
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    token = db.session.scalars(db.select(ApiToken)).one()
    assert token.last_used_at is None

    client.get(f"/api/v1/tickets/{ticket.id}", headers=headers)
    db.session.refresh(token)
    assert token.last_used_at is not None

    recent = utcnow() - timedelta(seconds=20)
    token.last_used_at = recent
    db.session.commit()
    client.get(f"/api/v1/tickets/{ticket.id}", headers=headers)
    db.session.refresh(token)
    assert token.last_used_at == recent  # too soon to write again

    stale = utcnow() - timedelta(minutes=5)
    token.last_used_at = stale
    db.session.commit()
    client.get(f"/api/v1/tickets/{ticket.id}", headers=headers)
    db.session.refresh(token)
    assert token.last_used_at > stale


def test_an_expired_token_is_refused_with_a_clear_401(client, make):
    user = make.user(Role.OPERATOR)
    ticket = make.ticket()
    token, plain = ApiToken.issue(user, "for a week", expires_at=utcnow() + timedelta(days=7))
    db.session.add(token)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).status_code == 200

    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    body = assert_error(client.get(f"/api/v1/tickets/{ticket.id}", headers=headers), 401)
    assert body["error"] == "unauthorized" and "expired" in body["message"]


def test_cli_token_with_an_expiry(app, client, make):
    make.user(Role.MANAGER, email="boss@city.test")
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--user", "boss@city.test",
                                                "--expires-in-days", "30"])
    assert result.exit_code == 0, result.output
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
    refused = app.test_cli_runner().invoke(args=["tokens", "create", "--user", "boss@city.test",
                                                 "--expires-in-days", "0"])
    assert refused.exit_code != 0


def test_cli_token_works_on_the_api(app, client, make):
    user = make.user(Role.MANAGER, email="boss@city.test")
    ticket = make.ticket()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--user", "Boss@City.test"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    response = client.get(f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.get_json()["id"] == ticket.id
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert stored.user_id == user.id and plain not in stored.token_hash


def test_unknown_api_paths_and_methods_answer_json(api, org):
    caller = api(org["operator"])
    for response, status in ((caller.get("/nowhere"), 404), (caller.post("/tickets"), 405)):
        assert response.status_code == status
        assert response.is_json and response.get_json()["fields"] == {}


# --- scope ----------------------------------------------------------------------------

def test_head_gets_404_for_another_departments_ticket_on_every_route(api, make, org):
    foreign = routed_ticket(make, org["operator"], org["schools"])
    head = api(org["roads_head"])
    assert_error(head.get(f"/tickets/{foreign.id}"), 404)
    assert_error(head.post(f"/tickets/{foreign.id}/status", json={"status": "in_progress"}), 404)
    assert_error(head.post(f"/tickets/{foreign.id}/route", json={"priority": "high"}), 404)
    db.session.refresh(foreign)
    assert foreign.status == "triaged" and foreign.priority == "normal"


def test_detail_has_messages_notes_and_events(api, make, org):
    ticket = routed_ticket(make, org["operator"], org["roads"], text="Яма на Партизанской")
    services.add_note(ticket, org["operator"], "Уже звонили в ЖЭК")
    db.session.commit()
    for who in ("manager", "roads_head"):
        body = api(org[who]).get(f"/tickets/{ticket.id}").get_json()
        assert body["subject"] == "Яма на Партизанской"
        assert [m["text"] for m in body["messages"]] == ["Яма на Партизанской"]
        assert [n["text"] for n in body["notes"]] == ["Уже звонили в ЖЭК"]
        assert {"status", "note"} <= {e["kind"] for e in body["events"]}
        assert body["department_name"] == "Roads"
        assert body["created_at"].endswith("Z")


# --- route ----------------------------------------------------------------------------

def test_operator_routes_a_new_ticket_and_events_are_written(api, make, org):
    ticket = make.ticket()
    potholes = make.category("Potholes")
    response = api(org["operator"]).post(
        f"/tickets/{ticket.id}/route",
        json={"department": org["roads"].id, "category": potholes.id, "priority": "high"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["department_id"], body["category_id"], body["priority"]) == \
        ("triaged", org["roads"].id, potholes.id, "high")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "triaged" and ticket.department_id == org["roads"].id
    assert {e.field for e in events(ticket, "field")} >= {"department_id", "category_id", "priority"}
    assert [(e.old_value, e.new_value, e.actor_id) for e in events(ticket, "status")] == \
        [("new", "triaged", org["operator"].id)]


def test_category_alone_routes_to_its_default_department(api, make, org):
    ticket = make.ticket()
    lights = make.category("Street lights", default_department=org["roads"])
    body = api(org["operator"]).post(f"/tickets/{ticket.id}/route", json={"category": lights.id}).get_json()
    assert body["department_id"] == org["roads"].id and body["status"] == "triaged"


@pytest.mark.parametrize("who", ["manager", "roads_head"])
def test_only_operators_and_admins_route(api, make, org, who):
    ticket = routed_ticket(make, org["operator"], org["roads"])
    assert_error(api(org[who]).post(f"/tickets/{ticket.id}/route", json={"priority": "urgent"}), 403)
    db.session.refresh(ticket)
    assert ticket.priority == "normal"


def test_routing_a_spam_ticket_is_a_conflict(api, make, org):
    ticket = make.ticket()
    change_status(ticket, TicketStatus.SPAM, org["operator"])
    db.session.commit()
    assert_error(api(org["operator"]).post(f"/tickets/{ticket.id}/route",
                                           json={"department": org["roads"].id}), 409)


@pytest.mark.parametrize("body, kwargs, status, field", [
    ({"department": 1, "colour": "red"}, {}, 400, "colour"),
    ({"department": "1"}, {}, 400, "department"),
    ({"department": True}, {}, 400, "department"),
    ({"priority": 3}, {}, 400, "priority"),
    ({"priority": "asap"}, {}, 422, "priority"),
    ({"department": 9999}, {}, 422, "department"),
    ({}, {}, 422, None),
    (None, {"data": "{department: 1", "content_type": "application/json"}, 400, None),
    (None, {"data": "[1, 2]", "content_type": "application/json"}, 400, None),
])
def test_route_rejects_bad_bodies_and_changes_nothing(api, make, org, body, kwargs, status, field):
    ticket = make.ticket()
    if body is not None:
        kwargs = {"json": body}
    response = api(org["operator"]).post(f"/tickets/{ticket.id}/route", **kwargs)
    assert_error(response, status, *([field] if field else []))
    db.session.refresh(ticket)
    assert ticket.status == "new" and ticket.priority == "normal" and ticket.department_id is None


def test_inactive_department_is_refused(api, make, org):
    closed = make.department("Abolished", is_active=False)
    ticket = make.ticket()
    assert_error(api(org["operator"]).post(f"/tickets/{ticket.id}/route", json={"department": closed.id}),
                 422, "department")


@pytest.mark.parametrize("body, field", [
    ({"department": 2**31}, "department"),
    ({"department": 2**63}, "department"),
    ({"category": 0}, "category"),
    ({"department": -5}, "department"),
    ({"department": 1e308}, "department"),
])
def test_ids_beyond_the_database_range_are_400_not_500(api, make, org, body, field):
    ticket = make.ticket()
    assert_error(api(org["operator"]).post(f"/tickets/{ticket.id}/route", json=body), 400, field)
    db.session.refresh(ticket)
    assert ticket.department_id is None and ticket.status == "new"


@pytest.mark.parametrize("path", ["/tickets/2147483648", "/tickets/9223372036854775808", "/tickets/0"])
def test_ticket_ids_no_row_can_have_are_404_in_the_api_shape(api, make, org, path):
    make.ticket()
    caller = api(org["operator"])
    assert_error(caller.get(path), 404)
    assert_error(caller.post(path + "/status", json={"status": "spam"}), 404)
    assert_error(caller.post(path + "/replies", json={"text": "Ответ"}), 404)


def test_deeply_nested_json_is_a_400_in_the_api_shape(api, make, org):
    ticket = make.ticket()
    deep = "[" * 100_000 + "]" * 100_000
    response = api(org["operator"]).post(f"/tickets/{ticket.id}/status", data=deep, content_type="application/json")
    assert_error(response, 400)


def test_nul_and_lone_surrogates_in_texts_are_stored_cleaned(api, make, org):
    ticket = routed_ticket(make, org["operator"], org["roads"])
    raw = '{"status": "new", "reason": "\\ud800 не наш\\u0000 район"}'
    response = api(org["roads_head"]).post(f"/tickets/{ticket.id}/status", data=raw,
                                            content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert events(ticket, "status")[-1].reason == "\ufffd не наш\ufffd район"


def test_a_reply_on_a_ticket_whose_status_forbids_it_is_a_conflict(api, make, org):
    ticket = make.ticket()
    change_status(ticket, TicketStatus.SPAM, org["operator"])
    db.session.commit()
    assert_error(api(org["operator"]).post(f"/tickets/{ticket.id}/replies", json={"text": "Спасибо"}), 409)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE"])
def test_undeclared_methods_are_405_with_allow_in_the_api_shape(client, api, make, org, method):
    ticket = make.ticket()
    caller = api(org["operator"])
    for path, allowed in ((f"/tickets/{ticket.id}", {"GET"}), (f"/tickets/{ticket.id}/replies", {"GET", "POST"}),
                          (f"/tickets/{ticket.id}/status", {"POST"}), ("/tickets", {"GET"})):
        response = client.open("/api/v1" + path, method=method, headers=caller.headers)
        assert_error(response, 405)
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- status ---------------------------------------------------------------------------

def test_operator_marks_spam_and_the_event_says_who(api, make, org):
    ticket = make.ticket()
    body = api(org["operator"]).post(f"/tickets/{ticket.id}/status", json={"status": "spam"}).get_json()
    assert body["status"] == "spam" and body["closed_at"]
    assert [(e.old_value, e.new_value, e.actor_id) for e in events(ticket, "status")] == \
        [("new", "spam", org["operator"].id)]


def test_head_works_own_ticket_but_not_operator_statuses(api, make, org):
    ticket = routed_ticket(make, org["operator"], org["roads"])
    head = api(org["roads_head"])
    assert head.post(f"/tickets/{ticket.id}/status", json={"status": "in_progress"}).status_code == 200
    assert head.post(f"/tickets/{ticket.id}/status", json={"status": "resolved"}).status_code == 200
    assert_error(head.post(f"/tickets/{ticket.id}/status", json={"status": "closed"}), 403)
    db.session.refresh(ticket)
    assert ticket.status == "resolved"
    assert [e.new_value for e in events(ticket, "status")] == ["triaged", "in_progress", "resolved"]


def test_head_returns_ticket_to_triage_only_with_a_reason(api, make, org):
    ticket = routed_ticket(make, org["operator"], org["roads"])
    head = api(org["roads_head"])
    assert_error(head.post(f"/tickets/{ticket.id}/status", json={"status": "new"}), 422, "reason")
    response = head.post(f"/tickets/{ticket.id}/status", json={"status": "new", "reason": "Это не дороги"})
    assert response.status_code == 200
    assert response.get_json()["department_id"] is None
    assert events(ticket, "status")[-1].reason == "Это не дороги"
    # Now it is back with the operators: the head no longer sees it.
    assert_error(head.get(f"/tickets/{ticket.id}"), 404)


def test_manager_is_read_only(api, make, org):
    ticket = make.ticket()
    assert_error(api(org["manager"]).post(f"/tickets/{ticket.id}/status", json={"status": "spam"}), 403)
    db.session.refresh(ticket)
    assert ticket.status == "new"


@pytest.mark.parametrize("body, status, field", [
    ({"status": "closed"}, 409, None),  # new -> closed is not in the table
    ({"status": "merged"}, 422, "status"),
    ({"status": "done"}, 422, "status"),
    ({"reason": "x"}, 422, "status"),
    ({"status": "spam", "actor": 1}, 400, "actor"),
    ({"status": ["spam"]}, 400, "status"),
    ({"status": "spam", "reason": 5}, 400, "reason"),
])
def test_status_rejects_bad_requests(api, make, org, body, status, field):
    ticket = make.ticket()
    response = api(org["operator"]).post(f"/tickets/{ticket.id}/status", json=body)
    assert_error(response, status, *([field] if field else []))
    db.session.refresh(ticket)
    assert ticket.status == "new"


# --- the list -------------------------------------------------------------------------

def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def test_keyset_paging_walks_every_ticket_once(api, make, org):
    tickets = [make.ticket() for _ in range(5)]
    caller = api(org["operator"])
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = caller.get("/tickets", query_string=query).get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [t.id for t in reversed(tickets)]
    assert pages == 3


def test_deadline_sort_pages_nearest_first_and_undated_last(api, make, org):
    now = utcnow()
    late, soon, undated, middle = (make.ticket() for _ in range(4))
    for ticket, hours in ((late, 30), (soon, 2), (middle, 10)):
        ticket.resolution_due_at = now + timedelta(hours=hours)
    for ticket in (late, soon, undated, middle):
        ticket.reacted_at = now  # the resolution's clock is the running one
    db.session.commit()
    caller = api(org["operator"])
    first = caller.get("/tickets", query_string={"sort": "deadline", "limit": 2}).get_json()
    second = caller.get("/tickets", query_string={"sort": "deadline", "limit": 2,
                                                  "cursor": first["next_cursor"]}).get_json()
    assert [t["id"] for t in first["items"] + second["items"]] == [soon.id, middle.id, late.id, undated.id]


def test_filters_narrow_the_list(api, make, org):
    vk = make.account(platform="vk", direction="education")
    pothole = make.ticket(text="Яма у школы")
    from_vk = make.ticket(vk, text="Нет отопления в классе")
    routed = routed_ticket(make, org["operator"], org["roads"], text="Сломан светофор")
    spam = make.ticket(text="Купите рекламу")
    change_status(spam, TicketStatus.SPAM, org["operator"])
    services.set_priority(routed, "urgent", org["operator"])
    routed.resolution_due_at = utcnow() - timedelta(hours=1)
    routed.reacted_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    caller = api(org["operator"])

    def found(**query):
        return sorted(ids(caller.get("/tickets", query_string=query)))

    assert found() == sorted([pothole.id, from_vk.id, routed.id, spam.id])
    assert found(status=["new", "spam"]) == sorted([pothole.id, from_vk.id, spam.id])
    assert found(status="triaged") == [routed.id]
    assert found(platform="vk") == [from_vk.id]
    assert found(direction="education") == [from_vk.id]
    assert found(department=org["roads"].id) == [routed.id]
    assert found(priority="urgent") == [routed.id]
    assert found(overdue="1") == [routed.id]
    assert found(unassigned="1", status="triaged") == [routed.id]
    assert found(q="светофор") == [routed.id]


def test_head_list_holds_only_their_department(api, make, org):
    own = routed_ticket(make, org["operator"], org["roads"])
    routed_ticket(make, org["operator"], org["schools"])
    make.ticket()
    assert ids(api(org["roads_head"]).get("/tickets")) == [own.id]


@pytest.mark.parametrize("query, status, field", [
    ({"colour": "red"}, 400, "colour"),
    ({"status": "done"}, 422, "status"),
    ({"platform": "myspace"}, 422, "platform"),
    ({"sort": "oldest"}, 422, "sort"),
    ({"department": "roads"}, 400, "department"),
    ({"department": str(2**31)}, 422, "department"),
    ({"category": "9" * 5000}, 422, "category"),
    ({"platform": ""}, 422, "platform"),
    ({"status": "new,spam"}, 422, "status"),
    ({"platform": ["vk", "ok"]}, 400, "platform"),
    ({"q": "яма " * 70}, 422, "q"),
    ({"cursor": "not a cursor"}, 422, "cursor"),
    ({"overdue": "maybe"}, 422, "overdue"),
    ({"limit": "0"}, 422, "limit"),
    ({"limit": "201"}, 422, "limit"),
    ({"limit": "ten"}, 400, "limit"),
    ({"cursor": "not-a-cursor"}, 422, "cursor"),
])
def test_list_rejects_bad_parameters_by_name(api, make, org, query, status, field):
    make.ticket()
    assert_error(api(org["operator"]).get("/tickets", query_string=query), status, field)


def test_list_costs_the_same_queries_for_3_and_10_tickets(app, api, make, org):
    from sqlalchemy import event

    caller = api(org["operator"])

    def statements_for_list() -> int:
        # Keep the once-a-minute last_used_at write out of the count.
        db.session.execute(db.update(ApiToken).values(last_used_at=utcnow()))
        db.session.commit()
        counter = []
        listener = lambda *a, **kw: counter.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert caller.get("/tickets", query_string={"limit": 200}).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(counter)

    def add_routed(n):
        for _ in range(n):
            # A category of its own per ticket: the identity map cannot hide lazy loads.
            services.route(make.ticket(), org["operator"], department=org["roads"], category=make.category())
        db.session.commit()

    add_routed(3)
    few = statements_for_list()
    add_routed(7)
    assert statements_for_list() == few


# --- the OpenAPI document ---------------------------------------------------------------

def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_document_describes_exactly_the_routes_of_the_app(app, client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == _api_routes(app)
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _is_utc_datetime(value) -> bool:
    if not isinstance(value, str):
        return True  # formats only judge strings; "type" catches the rest
    if not value.endswith("Z"):
        return False
    try:
        return datetime.fromisoformat(value).utcoffset() == timedelta(0)
    except ValueError:
        return False


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(_is_utc_datetime)


def assert_matches(schema_name: str, payload) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": OPENAPI["components"]}
    errors = list(Draft202012Validator(schema, format_checker=FORMATS).iter_errors(payload))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_real_responses_validate_against_the_document(api, client, make, org):
    Draft202012Validator.check_schema({"$defs": OPENAPI["components"]["schemas"]})
    ticket = routed_ticket(make, org["operator"], org["roads"])
    services.add_note(ticket, org["operator"], "Проверить в четверг")
    ticket.resolution_due_at = utcnow() + timedelta(days=2)
    db.session.commit()
    make.ticket()
    caller = api(org["operator"])

    page = caller.get("/tickets", query_string={"limit": 1}).get_json()
    assert page["items"] and page["next_cursor"]
    assert_matches("TicketPage", page)
    detail = caller.get(f"/tickets/{ticket.id}").get_json()
    assert detail["notes"] and detail["events"] and detail["messages"]
    assert_matches("TicketDetail", detail)
    changed = caller.post(f"/tickets/{ticket.id}/status", json={"status": "in_progress"}).get_json()
    assert_matches("TicketDetail", changed)
    assert_matches("TicketDetail", caller.post(f"/tickets/{ticket.id}/route", json={"priority": "low"}).get_json())

    for response in (client.get("/api/v1/tickets"),
                     caller.get("/tickets/999999"),
                     caller.get("/tickets", query_string={"bogus": 1}),
                     caller.post(f"/tickets/{ticket.id}/status", json={"status": "nope"})):
        assert response.status_code >= 400
        assert_matches("Error", response.get_json())

    # A wrong document would pass everything above if the validator were lax.
    with pytest.raises(AssertionError):
        assert_matches("Ticket", {**page["items"][0], "created_at": "2024-01-01 10:00"})


def test_a_stored_non_http_permalink_is_never_handed_out(api, make):
    ticket = make.ticket(permalink="javascript:alert(document.cookie)")
    answer = api(make.user(Role.OPERATOR)).get(f"/tickets/{ticket.id}")
    assert answer.status_code == 200, answer.get_json()
    assert [m["permalink"] for m in answer.get_json()["messages"]] == [""]
