"""Open311 GeoReport v2 at /open311/v2: every endpoint in the spec's shape in JSON and XML,
the spec's errors (never a 500 on odd input), public tickets only, personal data masked,
merged tickets as their incident, and a page of requests in a handful of queries."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from desk.extensions import db
from desk.models import Message, Platform, ResidentContact, Role, Submission, Ticket, TicketStatus
from desk.models.intake import Open311Key
from desk.models.replies import DeliveryState
from desk.open311 import views as open311_views
from desk.replies import services as replies
from desk.replies.outbox import mark_posted, move
from desk.tickets import services as tickets
from desk.tickets.workflow import change_status

S = TicketStatus
API = "/open311/v2"
PUBLIC = "https://city.example"
RESIDENT_TEXT = ("Яма во дворе дома 12 кв. 5 с 12.03.2026. Звоните +7 (914) 123-45-67, "
                 "пишите ivan.petrov@mail.ru, паспорт 9814 123456")
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
W3 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00")  # the city's offset (Asia/Yakutsk)


@pytest.fixture
def city(app, make):
    app.config["DESK_PUBLIC_URL"] = PUBLIC
    housing = make.department("Управление ЖКХ")
    roads = make.category("Дороги и дворы", default_department=housing, direction="housing")
    lights = make.category("Освещение", direction="housing")
    make.category("Старая категория", is_active=False)
    operator = make.user(Role.OPERATOR, name="Ольга Операторова")
    head = make.user(Role.DEPARTMENT_HEAD, department=housing, name="Пётр Начальников")
    return housing, roads, lights, operator, head


@pytest.fixture
def key(app):
    row, plain = Open311Key.issue("Городской портал")
    db.session.add(row)
    db.session.commit()
    return plain


# --- helpers ----------------------------------------------------------------------------------

def get_json(client, path: str, **params):
    response = client.get(f"{API}/{path}", query_string=params)
    assert response.content_type == "application/json; charset=utf-8", response.get_data(as_text=True)
    return response.status_code, json.loads(response.get_data(as_text=True))


def get_xml(client, path: str, **params):
    response = client.get(f"{API}/{path}", query_string=params)
    return response.status_code, parse_xml(response)


def parse_xml(response) -> ET.Element:
    assert response.content_type == "text/xml; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(body)


def flat(element: ET.Element) -> dict[str, str]:
    """An XML record as a dict of its children's texts (an empty element: "")."""
    return {child.tag: child.text or "" for child in element}


def as_xml_text(value) -> str:
    """What the XML says for a JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_error(response, code: int, fmt: str = "json") -> str:
    assert response.status_code == code, response.get_data(as_text=True)
    if fmt == "json":
        assert response.content_type == "application/json; charset=utf-8"
        data = json.loads(response.get_data(as_text=True))
        assert isinstance(data, list) and len(data) == 1 and list(data[0]) == ["code", "description"]
        assert data[0]["code"] == code and data[0]["description"]
        return data[0]["description"]
    root = parse_xml(response)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    assert root[0].findtext("code") == str(code)
    return root[0].findtext("description") or ""


def answered(make, city, reply_text: str, text: str = RESIDENT_TEXT, **ticket_kw) -> Ticket:
    """A routed ticket in work with a posted reply."""
    housing, roads, lights, operator, head = city
    ticket = make.ticket(text=text, author_name="Иван Петров", **ticket_kw)
    tickets.route(ticket, operator, category=roads)
    tickets.accept(ticket, head)
    tickets.add_note(ticket, operator, "Внутреннее: не публиковать")
    reply = replies.compose(ticket, operator, reply_text)
    for delivery in reply.deliveries:
        move(delivery, DeliveryState.SENDING)
        mark_posted(delivery, f"ext-{delivery.id}")
    db.session.commit()
    return ticket


def post(client, fmt: str = "json", **fields):
    return client.post(f"{API}/requests.{fmt}", data=fields)


# --- discovery and services -----------------------------------------------------------------

def test_discovery_in_json_and_xml(client, city):
    status, data = get_json(client, "discovery.json")
    assert status == 200
    assert list(data) == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = data["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": f"{PUBLIC}/open311/v2",
                        "changeset": data["changeset"], "type": "production",
                        "formats": ["text/xml", "application/json"]}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", data["changeset"])
    assert PUBLIC in data["contact"]

    status, root = get_xml(client, "discovery.xml")
    assert status == 200 and root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    (xml_endpoint,) = root.find("endpoints")
    assert xml_endpoint.tag == "endpoint"
    assert xml_endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert xml_endpoint.findtext("url") == f"{PUBLIC}/open311/v2"
    assert xml_endpoint.findtext("type") == "production"
    assert [f.text for f in xml_endpoint.find("formats").findall("format")] == ["text/xml", "application/json"]


def test_the_contact_is_a_setting(app, client, city):
    app.config["OPEN311_CONTACT"] = "open311@belogorsk.ru, +7 4112 00-00-00"
    assert get_json(client, "discovery.json")[1]["contact"] == "open311@belogorsk.ru, +7 4112 00-00-00"


def test_services_are_the_active_categories(client, city):
    housing, roads, lights, operator, head = city
    status, data = get_json(client, "services.json")
    assert status == 200
    assert [s["service_name"] for s in data] == ["Дороги и дворы", "Освещение"]  # not the inactive one
    assert all(list(s) == SERVICE_FIELDS for s in data)
    assert data[0] == {"service_code": str(roads.id), "service_name": "Дороги и дворы",
                       "description": "Дороги и дворы", "metadata": False, "type": "realtime",
                       "keywords": "ЖКХ, Управление ЖКХ", "group": "ЖКХ"}

    status, root = get_xml(client, "services.xml")
    assert root.tag == "services" and [s.tag for s in root] == ["service", "service"]
    assert [flat(s) for s in root] == [{k: as_xml_text(v) for k, v in s.items()} for s in data]
    assert root[0].findtext("metadata") == "false"


def test_the_group_is_russian_whatever_the_language_asked(client, city):
    status, data = get_json(client, "services.json", lang="en")
    assert data[0]["group"] == "ЖКХ"


def test_a_service_definition_and_unknown_codes(client, city):
    housing, roads, *_ = city
    status, data = get_json(client, f"services/{roads.id}.json")
    assert (status, data) == (200, {"service_code": str(roads.id), "attributes": []})
    status, root = get_xml(client, f"services/{roads.id}.xml")
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == str(roads.id) and len(root.find("attributes")) == 0
    for code in ("999999", "abc", "-1", "0", "9" * 40, "%20" + str(roads.id), "1.5", "%00"):
        assert_error(client.get(f"{API}/services/{code}.json"), 404)
        assert_error(client.get(f"{API}/services/{code}.xml"), 404, "xml")


def test_an_inactive_category_has_no_definition(client, city, make):
    gone = make.category("Снято с учёта", is_active=False)
    assert "not found" in assert_error(client.get(f"{API}/services/{gone.id}.json"), 404)


# --- service requests: shape, masking, who is listed ----------------------------------------

def test_a_request_in_the_spec_shape_with_personal_data_masked(client, city, make):
    housing, roads, lights, operator, head = city
    ticket = answered(make, city, "{name}, бригада выедет 13.03.2026, телефон мастера 8 914 7654321. "
                                  "Статус: {status_link}")
    status, data = get_json(client, "requests.json")
    assert status == 200
    (record,) = data
    assert list(record) == REQUEST_FIELDS
    assert record["service_request_id"] == str(ticket.id)
    assert record["status"] == "open"
    assert record["service_code"] == str(roads.id) and record["service_name"] == "Дороги и дворы"
    assert record["agency_responsible"] == "Управление ЖКХ"
    assert record["service_notice"] == "" and record["zipcode"] == ""
    # The resident's text, masked.
    assert record["description"].startswith("Яма во дворе дома 12 кв. 5 с 12.03.2026. Звоните [телефон скрыт]")
    for secret in ("123-45-67", "ivan.petrov@mail.ru", "123456", "Иван", "Петров"):
        assert secret not in json.dumps(record, ensure_ascii=False), secret
    # The city's answer: masked, the resident as initials, no private status link.
    assert record["status_notes"] == "И. П., бригада выедет 13.03.2026, телефон мастера [телефон скрыт]. Статус:"
    assert "/status/" not in json.dumps(record)
    assert "Внутреннее" not in json.dumps(record, ensure_ascii=False)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3.fullmatch(record[name]), (name, record[name])
    assert record["lat"] is None and record["long"] is None and record["address"] == ""

    status, root = get_xml(client, "requests.xml")
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    assert [c.tag for c in root[0]] == REQUEST_FIELDS
    assert flat(root[0]) == {k: as_xml_text(v) for k, v in record.items()}

    status, one = get_json(client, f"requests/{ticket.id}.json")
    assert (status, one) == (200, [record])
    status, root = get_xml(client, f"requests/{ticket.id}.xml")
    assert root.tag == "service_requests" and len(root) == 1 and flat(root[0]) == flat(get_xml(client, "requests.xml")[1][0])


def test_datetimes_are_in_the_city_offset(client, city, make):
    ticket = make.ticket()
    ticket.created_at = datetime(2026, 3, 12, 20, 30, tzinfo=UTC)  # 05:30 on the 13th in Yakutsk
    ticket.resolution_due_at = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    db.session.commit()
    (record,) = get_json(client, f"requests/{ticket.id}.json")[1]
    assert record["requested_datetime"] == "2026-03-13T05:30:00+09:00"
    assert record["expected_datetime"] == "2026-03-20T18:00:00+09:00"


def test_the_latest_answer_is_the_status_note(client, city, make):
    housing, roads, lights, operator, head = city
    ticket = answered(make, city, "Первый ответ.")
    later = replies.compose(ticket, operator, "Второй ответ: яму засыпали.")
    for delivery in later.deliveries:
        move(delivery, DeliveryState.SENDING)
        mark_posted(delivery, f"ext-{delivery.id}", at=datetime.now(UTC) + timedelta(minutes=1))
    change_status(ticket, S.RESOLVED, head)
    db.session.commit()
    (record,) = get_json(client, f"requests/{ticket.id}.json")[1]
    assert record["status_notes"] == "Второй ответ: яму засыпали."
    assert record["status"] == "closed"


def test_an_answer_waiting_for_approval_is_not_a_status_note(client, city, make):
    housing, roads, lights, operator, head = city
    housing.answers_need_approval = True
    ticket = make.ticket(text="Нет света")
    tickets.route(ticket, operator, department=housing)
    tickets.accept(ticket, head)
    replies.compose(ticket, head, "Черновик начальника")
    db.session.commit()
    assert get_json(client, f"requests/{ticket.id}.json")[1][0]["status_notes"] == ""


def test_a_message_of_the_city_no_reply_stands_for_is_a_status_note(client, city, make):
    ticket = make.ticket(text="Когда уберут снег?")
    db.session.add(Message(ticket_id=ticket.id, direction="outbound", platform=ticket.platform,
                           account_id=ticket.account_id, external_id="city-1", text="Уберём до пятницы, тел. 8 914 7654321",
                           sent_at=datetime.now(UTC)))
    db.session.commit()
    notes = get_json(client, f"requests/{ticket.id}.json")[1][0]["status_notes"]
    assert notes == "Уберём до пятницы, тел. [телефон скрыт]"


def test_spam_and_not_an_appeal_are_never_listed(client, city, make):
    housing, roads, lights, operator, head = city
    kept = make.ticket(text="Яма")
    spam = make.ticket(text="Купите слона")
    change_status(spam, S.SPAM, operator)
    junk = make.ticket(text="Спасибо!")
    change_status(junk, S.NOT_APPEAL, operator)
    db.session.commit()
    listed = [r["service_request_id"] for r in get_json(client, "requests.json")[1]]
    assert listed == [str(kept.id)]
    for hidden in (spam, junk):
        assert_error(client.get(f"{API}/requests/{hidden.id}.json"), 404)
        assert_error(client.get(f"{API}/requests/{hidden.id}.xml"), 404, "xml")
        assert get_json(client, "requests.json", service_request_id=str(hidden.id))[1] == []
    assert "Купите" not in client.get(f"{API}/requests.xml").get_data(as_text=True)


def test_a_merged_ticket_is_its_incident(client, city, make):
    housing, roads, lights, operator, head = city
    root = answered(make, city, "Засыплем яму до пятницы.")
    other = make.ticket(text="Та же яма, мой номер 89141112233", author_name="Мария Сидорова")
    tickets.merge(other, root, operator)
    db.session.commit()
    listed = get_json(client, "requests.json")[1]
    assert [r["service_request_id"] for r in listed] == [str(root.id)]  # once
    (incident,) = listed
    status, via_merged = get_json(client, f"requests/{other.id}.json")
    assert (status, via_merged) == (200, [incident])
    assert "89141112233" not in json.dumps(via_merged)
    both = get_json(client, "requests.json", service_request_id=f"{other.id},{root.id}")[1]
    assert both == [incident]


def test_tickets_of_every_platform_are_requests_with_the_submission_location(client, city, key, make):
    housing, roads, lights, operator, head = city
    filed = post(client, api_key=key, service_code=str(roads.id), lat="62.0281", long="129.7326",
                 address_string="ул. Ленина, 1", address_id="fias-123", description="Провал асфальта",
                 media_url="https://img.example/1.jpg")
    filed_id = json.loads(filed.get_data(as_text=True))[0]["service_request_id"]
    comment = make.ticket(make.account("vk", settings={"group_id": 1}), "Комментарий из VK")
    records = {r["service_request_id"]: r for r in get_json(client, "requests.json")[1]}
    assert set(records) == {filed_id, str(comment.id)}
    mine = records[filed_id]
    assert (mine["lat"], mine["long"]) == (62.0281, 129.7326)
    assert (mine["address"], mine["address_id"]) == ("ул. Ленина, 1", "fias-123")
    assert mine["media_url"] == "https://img.example/1.jpg"
    assert mine["description"] == "Провал асфальта" and mine["service_code"] == str(roads.id)
    assert records[str(comment.id)]["description"] == "Комментарий из VK"
    root = get_xml(client, f"requests/{filed_id}.xml")[1]
    assert root[0].findtext("lat") == "62.0281" and root[0].findtext("long") == "129.7326"


# --- GET requests: filters, the default window, paging ---------------------------------------

def _aged(make, days: float, **kw) -> Ticket:
    ticket = make.ticket(**kw)
    ticket.created_at = datetime.now(UTC) - timedelta(days=days)
    db.session.commit()
    return ticket


def _ids(client, **params) -> list[str]:
    status, data = get_json(client, "requests.json", **params)
    assert status == 200, data
    return [r["service_request_id"] for r in data]


def test_the_default_window_is_the_last_90_days_newest_first(client, city, make):
    recent, older, old = _aged(make, 1), _aged(make, 80), _aged(make, 120)
    assert _ids(client) == [str(recent.id), str(older.id)]
    assert _ids(client, start_date=(datetime.now(UTC) - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                end_date=(datetime.now(UTC) - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")) \
        == [str(older.id), str(old.id)]
    # Ids override everything, the window too.
    assert _ids(client, service_request_id=f"{old.id}", status="closed") == [str(old.id)]


def test_dates_in_w3_forms(client, city, make):
    ticket = make.ticket()
    ticket.created_at = datetime(2026, 3, 12, 20, 30, tzinfo=UTC)  # 2026-03-13 05:30 in the city
    db.session.commit()
    found = [str(ticket.id)]
    assert _ids(client, start_date="2026-03-13", end_date="2026-03-13") == found  # a city day
    assert _ids(client, start_date="2026-03-12T20:30:00Z", end_date="2026-03-12T20:30:00Z") == found
    assert _ids(client, start_date="2026-03-13T05:30:00+09:00", end_date="2026-03-13T05:30+09:00") == found
    assert _ids(client, start_date="2026-03-13T05:30:00 09:00", end_date="2026-03-14") == found  # "+" as a space
    assert _ids(client, start_date="2026-03", end_date="2026-03") == found
    assert _ids(client, start_date="2026-03-12T20:30:01Z", end_date="2026-03-20") == []
    assert _ids(client, end_date="2026-03-13T05:29:59+09:00") == []
    assert _ids(client, end_date="2026-04-01") == found  # the 90 days before an end


@pytest.mark.parametrize("params", [
    {"start_date": "yesterday"}, {"start_date": "2026-13-01"}, {"start_date": "2026-02-30"},
    {"end_date": "2026-03-01T25:00:00Z"}, {"start_date": "0001-01-01T00:00:00+23:59"},
    {"end_date": "9999-12-31T23:59:59-23:59"}, {"start_date": "2026-01-01", "end_date": "2025-12-01"},
    {"start_date": "2026-01-01", "end_date": "2026-06-01"}, {"status": "pending"}, {"status": "open,bogus"},
    {"page": "0"}, {"page": "-1"}, {"page": "x"}, {"page_size": "0"}, {"page_size": "1e3"},
    {"start_date": "2026-01-01T00:00:00Z\u0000"}, {"start_date": "２０２６-01-01"},
    {"start_date": "2026-01-01T00:00:00.1234567890Z"},
])
def test_bad_query_values_are_400_in_both_formats(client, city, params):
    for fmt in ("json", "xml"):
        assert_error(client.get(f"{API}/requests.{fmt}", query_string=params), 400, fmt)


def test_a_parameter_of_one_value_given_twice_is_400(client, city):
    assert "once" in assert_error(client.get(f"{API}/requests.json?start_date=2026-01-01&start_date=2026-01-02"), 400)
    assert "once" in assert_error(client.get(f"{API}/requests.json?page=1&page=2"), 400)


def test_status_and_service_code_filters_take_comma_lists(client, city, make):
    housing, roads, lights, operator, head = city
    road = make.ticket(text="Яма")
    tickets.route(road, operator, category=roads)
    light = make.ticket(text="Фонарь")
    tickets.route(light, operator, category=lights)
    done = make.ticket(text="Готово")
    tickets.route(done, operator, category=roads, department=housing)
    change_status(done, S.RESOLVED, head)
    db.session.commit()
    assert set(_ids(client, status="open")) == {str(road.id), str(light.id)}
    assert _ids(client, status="closed") == [str(done.id)]
    assert len(_ids(client, status="open,closed")) == 3
    assert len(_ids(client, status="OPEN", **{"status ": "x"})) == 2
    assert set(_ids(client, service_code=str(roads.id))) == {str(road.id), str(done.id)}
    assert len(_ids(client, service_code=f"{roads.id},{lights.id}")) == 3
    assert _ids(client, service_code=f"{lights.id}", status="closed") == []
    assert _ids(client, service_code="nope,99999999999") == []
    repeated = client.get(f"{API}/requests.json?status=open&status=closed")
    assert len(json.loads(repeated.get_data(as_text=True))) == 3
    assert _ids(client, service_request_id=f"{light.id}, {road.id},abc,,99999999999") == [str(light.id), str(road.id)]


def test_paging_and_the_limit_of_1000(client, city, make):
    made = [make.ticket(text=f"Обращение {i}") for i in range(5)]
    newest_first = [str(t.id) for t in reversed(made)]
    assert _ids(client, page_size="2") == newest_first[:2]
    assert _ids(client, page_size="2", page="3") == newest_first[4:]
    assert _ids(client, page_size="2", page="4") == []
    assert _ids(client, page_size="99999999999999999999") == newest_first  # served at the maximum
    assert _ids(client, page_size="5000", page="999999999999999999") == []
    assert _ids(client, service_request_id=",".join(newest_first), page_size="2", page="2") == newest_first[2:4]


def test_a_list_of_more_than_1000_ids_is_refused(client, city):
    ids = ",".join(str(i) for i in range(1, 1003))
    assert_error(client.get(f"{API}/requests.json", query_string={"service_request_id": ids}), 400)


def test_odd_request_ids_are_404(client, city, make):
    for rid in ("abc", "0", "-1", "2147483648", "9" * 100, "1.5", "%E2%80%8B1", " 1"):
        assert_error(client.get(f"{API}/requests/{rid}.json"), 404)
        assert_error(client.get(f"{API}/requests/{rid}.xml"), 404, "xml")


def test_a_page_costs_a_handful_of_queries(client, city, make):
    housing, roads, lights, operator, head = city
    for i in range(3):
        answered(make, city, f"Ответ {i}", text=f"Обращение {i}")
    query_counts = []
    for extra in range(2):
        for i in range(10 * extra):
            answered(make, city, f"Ещё ответ {i}", text=f"Ещё обращение {i}")
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert len(get_json(client, "requests.json")[1]) == 3 + 10 * extra
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        query_counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert query_counts[0] == query_counts[1] <= 6, query_counts


def test_text_xml_cannot_carry_is_dropped_and_markup_is_escaped(client, city, make):
    ticket = make.ticket(text="Тут \x0b\x1b[31m <b>жирно</b> & ]]> \ufffe конец")
    root = get_xml(client, f"requests/{ticket.id}.xml")[1]
    assert root[0].findtext("description") == "Тут [31m <b>жирно</b> & ]]>  конец"
    assert get_json(client, f"requests/{ticket.id}.json")[1][0]["description"].startswith("Тут \x0b\x1b[31m <b>")


# --- POST requests ------------------------------------------------------------------------

def test_posting_a_request_files_a_new_open311_ticket(client, city, key, app):
    housing, roads, lights, operator, head = city
    response = post(client, api_key=key, service_code=str(roads.id), lat="62.03", long="129.73",
                    description="Нет крышки люка у дома 7", email="Resident@Example.ru", first_name="Анна",
                    last_name="Смирнова", phone="+7 914 555-66-77", **{"attribute[depth]": "глубокий",
                                                                       "attribute[sides][]": "север"})
    assert response.status_code == 200
    (answer,) = json.loads(response.get_data(as_text=True))
    assert list(answer) == ["service_request_id", "token", "service_notice", "account_id"]
    assert answer["service_notice"] == "" and answer["account_id"] is None and answer["token"]
    ticket = db.session.get(Ticket, int(answer["service_request_id"]))
    assert ticket.platform == Platform.OPEN311 and ticket.status == S.NEW
    assert ticket.category_id == roads.id and ticket.author_name == "Анна Смирнова"
    submission = db.session.scalars(db.select(Submission).where(Submission.ticket_id == ticket.id)).one()
    assert (submission.channel, submission.lat, submission.long) == ("open311", 62.03, 129.73)
    assert submission.open311_key.name == "Городской портал" and submission.token == answer["token"]
    assert submission.consent_at is not None
    assert submission.attributes == {"depth": "глубокий", "sides": ["север"]}
    contact = db.session.scalars(db.select(ResidentContact).where(ResidentContact.ticket_id == ticket.id)).one()
    assert contact.email == "Resident@example.ru"
    # The phone is kept nowhere.
    dump = json.dumps([[str(v) for v in row] for table in db.metadata.sorted_tables
                       for row in db.session.execute(table.select()).all()], ensure_ascii=False)
    assert "555-66-77" not in dump and "5556677" not in dump
    key_row = db.session.scalars(db.select(Open311Key)).one()
    assert key_row.last_used_at is not None


def test_posting_in_xml(client, city, key):
    housing, roads, *_ = city
    response = post(client, "xml", api_key=key, service_code=str(roads.id), address_string="пр. Ленина, 5")
    root = parse_xml(response)
    assert response.status_code == 200 and root.tag == "service_requests"
    (request_element,) = root
    assert request_element.tag == "request"
    assert [c.tag for c in request_element] == ["service_request_id", "token", "service_notice", "account_id"]
    ticket = db.session.get(Ticket, int(request_element.findtext("service_request_id")))
    assert ticket.subject.startswith("Дороги и дворы")  # no description: the service names it


@pytest.mark.parametrize("fields, code, words", [
    ({}, 403, "api_key"),
    ({"api_key": "o311_wrong"}, 403, "not valid"),
    ({"api_key": "x" * 5000}, 403, "not valid"),
    ({"api_key": "KEY"}, 400, "service_code"),
    ({"api_key": "KEY", "service_code": "424242", "lat": "1", "long": "1"}, 404, "service_code"),
    ({"api_key": "KEY", "service_code": "garbage", "lat": "1", "long": "1"}, 404, "service_code"),
    ({"api_key": "KEY", "service_code": "ROADS"}, 400, "location"),
    ({"api_key": "KEY", "service_code": "ROADS", "lat": "62.0"}, 400, "together"),
    ({"api_key": "KEY", "service_code": "ROADS", "lat": "91", "long": "1"}, 400, "lat"),
    ({"api_key": "KEY", "service_code": "ROADS", "lat": "nan", "long": "1"}, 400, "lat"),
    ({"api_key": "KEY", "service_code": "ROADS", "lat": "1", "long": "inf"}, 400, "long"),
    ({"api_key": "KEY", "service_code": "ROADS", "lat": "1e400", "long": "1"}, 400, "lat"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_string": "a" * 501}, 400, "address_string"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "description": "я" * 4001}, 400, "description"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "email": "not-an-email"}, 400, "email"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "media_url": "javascript:alert(1)"}, 400,
     "media_url"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "media_url": "/relative.jpg"}, 400, "media_url"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "first_name": "А" * 151}, 400, "first_name"),
    ({"api_key": "KEY", "service_code": "ROADS", "address_id": "1", "attribute[]": "x", "attribute[a]": "b" * 1001},
     400, "attribute"),
])
def test_a_bad_post_is_refused_in_the_spec_shape(client, city, key, fields, code, words):
    housing, roads, *_ = city
    fields = {k: (key if v == "KEY" else str(roads.id) if v == "ROADS" else v) for k, v in fields.items()}
    for fmt in ("json", "xml"):
        assert words in assert_error(post(client, fmt, **fields), code, fmt)
    assert db.session.scalars(db.select(Ticket)).first() is None


def test_a_field_given_twice_is_400(client, city, key):
    housing, roads, *_ = city
    body = f"api_key={key}&service_code={roads.id}&service_code={roads.id}&address_id=1"
    response = client.post(f"{API}/requests.json", data=body, content_type="application/x-www-form-urlencoded")
    assert "once" in assert_error(response, 400)
    same_attribute = f"api_key={key}&service_code={roads.id}&address_id=1&attribute[a]=1&attribute[a]=2"
    response = client.post(f"{API}/requests.json", data=same_attribute,
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 400)


def test_a_json_body_is_refused_not_read(client, city, key):
    housing, roads, *_ = city
    response = client.post(f"{API}/requests.json", json={"api_key": key, "service_code": str(roads.id),
                                                            "address_id": "1"})
    assert "form-encoded" in assert_error(response, 415)


def test_the_key_may_come_in_the_query_string(client, city, key):
    housing, roads, *_ = city
    response = client.post(f"{API}/requests.json?api_key={key}", data={"service_code": str(roads.id),
                                                                        "address_id": "fias-1"})
    assert response.status_code == 200


def test_unicode_junk_is_stored_cleaned_and_answered(client, city, key):
    housing, roads, *_ = city
    # a right-to-left mark, NUL, a lone surrogate (invalid UTF-8), an emoji, a BOM
    body = (f"api_key={key}&service_code={roads.id}&address_string=%E2%80%AE%D0%B4%00%ED%A0%80+5"
            "&description=%F0%9F%95%B3+%D1%8F%D0%BC%D0%B0+%00+%EF%BB%BF")
    response = client.post(f"{API}/requests.json", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)
    rid = json.loads(response.get_data(as_text=True))[0]["service_request_id"]
    for fmt in ("json", "xml"):
        assert client.get(f"{API}/requests/{rid}.{fmt}").status_code == 200
    ET.fromstring(client.get(f"{API}/requests/{rid}.xml").get_data())


def test_a_big_body_is_413_in_the_spec_shape(app, client, city, key):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert_error(post(client, api_key=key, description="я" * 2000), 413)


# --- tokens ------------------------------------------------------------------------------

def test_a_token_names_its_request(client, city, key):
    housing, roads, *_ = city
    answer = json.loads(post(client, api_key=key, service_code=str(roads.id), address_id="1").get_data(as_text=True))[0]
    status, data = get_json(client, f"tokens/{answer['token']}.json")
    assert (status, data) == (200, [{"service_request_id": answer["service_request_id"], "token": answer["token"]}])
    root = get_xml(client, f"tokens/{answer['token']}.xml")[1]
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == ["service_request_id", "token"]
    for unknown in ("nope", "x" * 300, answer["token"][:-1]):
        assert_error(client.get(f"{API}/tokens/{unknown}.json"), 404)
        assert_error(client.get(f"{API}/tokens/{unknown}.xml"), 404, "xml")


def test_the_token_of_a_request_marked_spam_is_404(client, city, key):
    housing, roads, lights, operator, head = city
    answer = json.loads(post(client, api_key=key, service_code=str(roads.id), address_id="1").get_data(as_text=True))[0]
    change_status(db.session.get(Ticket, int(answer["service_request_id"])), S.SPAM, operator)
    db.session.commit()
    assert_error(client.get(f"{API}/tokens/{answer['token']}.json"), 404)


# --- errors everywhere under /open311/v2 ---------------------------------------------------

def test_unknown_formats_paths_and_methods(client, city):
    assert "format" in assert_error(client.get(f"{API}/services.html"), 404, "xml")
    assert "format" in assert_error(client.get(f"{API}/requests.json.xml"), 404, "xml")
    assert_error(client.get(f"{API}/services.csv", headers={"Accept": "application/json"}), 404)
    assert_error(client.get(f"{API}/nothing/here.json"), 404)
    assert_error(client.get(f"{API}/nothing/here.xml"), 404, "xml")
    assert_error(client.get(f"{API}/"), 404, "xml")
    assert_error(client.get(API), 404, "xml")
    assert_error(client.get(f"{API}/discovery"), 404, "xml")
    response = client.delete(f"{API}/requests.json")
    assert "DELETE" in assert_error(response, 405)
    assert response.headers["Allow"] == "GET, POST, HEAD, OPTIONS"
    response = client.post(f"{API}/services.xml")
    assert_error(response, 405, "xml")
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.head(f"{API}/services.json").status_code == 200
    options = client.options(f"{API}/requests.json")
    assert options.status_code == 204 and options.headers["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_reads_are_public_sessionless_and_readable_by_any_site(client, city):
    response = client.get(f"{API}/services.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")


def test_a_failure_of_the_desk_is_a_500_in_the_spec_shape(app, client, city, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(open311_views.catalog, "services", broken)
    assert "logged" in assert_error(client.get(f"{API}/services.xml"), 500, "xml")


def test_an_outage_is_a_503_with_retry_after(app, client, city, monkeypatch):
    def away():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(open311_views.catalog, "services", away)
    response = client.get(f"{API}/services.json")
    assert_error(response, 503)
    assert response.headers["Retry-After"]


def test_an_address_is_masked_like_any_public_text(client, city, key):
    housing, roads, *_ = city
    response = post(client, api_key=key, service_code=str(roads.id), address_string="ул. Ленина, 1, тел. 89141234567",
                    description="x" * 4000)  # the spec's limit is accepted
    rid = json.loads(response.get_data(as_text=True))[0]["service_request_id"]
    (record,) = get_json(client, f"requests/{rid}.json")[1]
    assert record["address"] == "ул. Ленина, 1, тел. [телефон скрыт]"
    assert get_json(client, f"requests/{rid}.json", lang="en")[1][0]["address"] == "ул. Ленина, 1, тел. [phone hidden]"
