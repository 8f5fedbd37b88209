"""Every refusal a user sees is a ``DeskError`` with a translated message: Russian in the
Russian UI (the typed text kept), and the API's one JSON shape with the right code."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from desk.extensions import db
from desk.i18n import TRANSLATIONS
from desk.models import ApiToken, Role, TicketStatus
from desk.refusals import DeskError
from desk.replies.services import ReplyError
from desk.tickets.workflow import change_status

from .conftest import csrf_from

REFUSALS = {
    "desk.replies.services": "ReplyError", "desk.replies.outbox": "DeliveryError",
    "desk.admin.services": "AdminError", "desk.registry.crosspost": "CrosspostError",
    "desk.tickets.services": "TicketError", "desk.tickets.workflow": "TransitionError",
    "desk.tickets.queries": "FilterError", "desk.accounts_import": "RowError",
    "desk.open311.keys": "KeyRefusal", "desk.report_form.photos": "ReportRefusal",
}


def russian_catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in TRANSLATIONS.glob("*/ru/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    merged.setdefault(str(message.id), str(message.string))
    return merged


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found | {grand for sub in found for grand in _subclasses(sub)}


def test_every_refusal_class_is_a_desk_error():
    classes = {getattr(importlib.import_module(module), name) for module, name in REFUSALS.items()}
    assert all(issubclass(cls, DeskError) for cls in classes)
    assert {c for c in _subclasses(DeskError) if c.__module__.startswith("desk.")} >= classes


def _calls(tree: ast.AST, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            yield node


def test_every_refusal_message_is_lazily_translated_into_russian():
    """Reads each module that raises refusals: every ``raise XError(...)`` passes a
    ``_l(...)`` message (never a bare or f-string), and every ``_l`` text there has a
    Russian translation whose placeholders match."""
    catalog = russian_catalog()
    refusal_names = {cls.__name__ for cls in _subclasses(DeskError)}
    checked = 0
    for module_name in REFUSALS:
        module = importlib.import_module(module_name)
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        for call in _calls(tree, refusal_names):
            # AdminError and RowError take (field, message); the others the message first
            messages = call.args[1:] if call.func.id in ("AdminError", "RowError") else call.args[:1]
            for arg in messages:
                plain = isinstance(arg, ast.JoinedStr) or isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                assert not plain, f"{module_name}:{call.lineno} raises {call.func.id} with an untranslated message"
        for call in _calls(tree, {"_l"}):
            if not isinstance(call.args[0], ast.Constant):
                continue  # a status's label: the enums' catalogs translate those
            msgid = call.args[0].value
            assert msgid in catalog, f"{module_name}:{call.lineno}: no Russian for {msgid!r}"
            for placeholder in (k.arg for k in call.keywords):
                assert f"%({placeholder})s" in catalog[msgid], (msgid, placeholder)
            checked += 1
    assert checked > 40


def test_a_refusal_renders_in_the_users_language_and_in_english_outside_a_request(app):
    exc = ReplyError(_l("the answer is longer than %(network)s allows (%(length)s > %(limit)s)",
                        network="vk", length=11, limit=10), field="text")
    assert str(exc) == "the answer is longer than vk allows (11 > 10)"  # logs, CLI, workers
    with app.test_request_context(), force_locale("ru"):
        assert str(exc) == "ответ длиннее, чем позволяет vk (11 > 10)"
        assert exc.field_messages() == {"text": "ответ длиннее, чем позволяет vk (11 > 10)"}


# --- through the web UI and the API --------------------------------------------------------------


def routed_vk_ticket(make):
    department = make.department("ЖКХ")
    account = make.account("vk", settings={"group_id": 42})
    ticket = make.ticket(account, "Когда починят трубу?", external_id="-42_7", thread_ref="-42_5")
    ticket.department_id, ticket.status = department.id, "in_progress"
    db.session.commit()
    return ticket, make.user(Role.DEPARTMENT_HEAD, department=department)


def test_a_too_long_answer_is_refused_in_russian_and_the_typed_text_is_kept(make, login_as, app):
    app.config["REPLY_LIMIT_VK"] = 10
    ticket, head = routed_vk_ticket(make)
    client = login_as(head)
    token = csrf_from(client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    response = client.post(f"/tickets/{ticket.id}/replies", data={"csrf_token": token, "text": "Починим трубу"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ответ длиннее, чем позволяет vk (13 &gt; 10)" in html and "longer than" not in html
    assert 'data-test="reply-text">Починим трубу</textarea>' in html


def test_the_same_refusal_is_english_for_an_english_user(make, login_as, app):
    app.config["REPLY_LIMIT_VK"] = 10
    ticket, head = routed_vk_ticket(make)
    client = login_as(head)
    client.get("/lang/en")
    token = csrf_from(client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    html = client.post(f"/tickets/{ticket.id}/replies",
                       data={"csrf_token": token, "text": "Починим трубу"}).get_data(as_text=True)
    assert "the answer is longer than vk allows (13 &gt; 10)" in html


def api_headers(user) -> dict[str, str]:
    token, plain = ApiToken.issue(user, "t")
    db.session.add(token)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_the_api_answers_a_refusal_with_its_code_and_field(make, client, app):
    app.config["REPLY_LIMIT_VK"] = 10
    ticket, head = routed_vk_ticket(make)
    response = client.post(f"/api/v1/tickets/{ticket.id}/replies", json={"text": "Починим трубу"},
                           headers=api_headers(head))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed" and set(body) == {"error", "message", "fields"}
    assert body["message"] == "ответ длиннее, чем позволяет vk (13 > 10)" == body["fields"]["text"]


def test_the_api_answers_a_refused_transition_and_bad_filters(make, client):
    operator = make.user(Role.OPERATOR)
    ticket = make.ticket()
    change_status(ticket, TicketStatus.SPAM, operator)
    db.session.commit()
    headers = api_headers(operator)
    response = client.post(f"/api/v1/tickets/{ticket.id}/route", json={"department": make.department().id},
                           headers=headers)
    assert response.status_code == 409 and response.get_json()["error"] == "conflict"
    assert "Спам" in response.get_json()["message"]
    response = client.get("/api/v1/tickets?cursor=not-a-cursor", headers=headers)  # a FilterError
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert body["fields"] == {"cursor": "неверная или устаревшая ссылка на страницу"}
