"""Search finds Russian words in any form on both databases (Snowball stems, as
PostgreSQL's 'russian' configuration), a ticket by its number in any status, and the status
tabs count what the search finds."""
from __future__ import annotations

import re

import pytest

from desk.extensions import db
from desk.models import Role, TicketStatus
from desk.tickets.queries import QueueFilters, queue_page
from desk.tickets.workflow import change_status

TEXTS = {
    "heating": "Нет отопления в доме 5 на улице Мира",
    "heating2": "Отопление включили, а батареи холодные",
    "lights": "Не горит фонарь у подъезда",
    "lights2": "Вдоль дороги не работают фонари",
    "buses": "Автобус №12 не ходит по расписанию",
    "school": "Во дворе школы №7 разбито окно",
    "other": "Спасибо за новую площадку",
}


@pytest.fixture
def tickets(make):
    account = make.account()
    return {key: make.ticket(account, text, author_id=str(7000 + i)) for i, (key, text) in enumerate(TEXTS.items())}


def found(user, q: str, status: tuple[str, ...] = ()) -> set[int]:
    filters = QueueFilters(q=q, status=status)
    return {t.id for t in queue_page(user, filters, limit=100).rows}


@pytest.mark.parametrize("query, expected", [
    ("отопление", {"heating", "heating2"}),
    ("отопления", {"heating", "heating2"}),
    ("фонарей", {"lights", "lights2"}),
    ("фонарь", {"lights", "lights2"}),
    ("автобусы", {"buses"}),
    ("школа №7", {"school"}),
    ("Фонари", {"lights", "lights2"}),
])
def test_word_forms_are_found(make, tickets, query, expected):
    operator = make.user(Role.OPERATOR)
    assert found(operator, query) == {tickets[k].id for k in expected}


def test_a_ticket_is_found_by_its_number_in_any_status(make, tickets):
    operator = make.user(Role.OPERATOR)
    closed = tickets["other"]
    change_status(closed, TicketStatus.SPAM, operator)
    db.session.commit()
    assert found(operator, f"#{closed.id}", status=("new",)) == {closed.id}
    assert closed.id in found(operator, str(closed.id), status=("new",))  # a bare number too


def test_the_tabs_count_what_the_search_finds(make, login_as, tickets):
    operator = make.user(Role.OPERATOR)
    change_status(tickets["heating2"], TicketStatus.SPAM, operator)
    db.session.commit()
    client = login_as(operator)
    html = client.get("/queue?q=отопления").get_data(as_text=True)
    tabs = dict(re.findall(r'data-tab="(\w+)"[^>]*>.*?<span class="count">(\d+)</span>', html, re.S))
    assert tabs.get("new") == "1" and tabs.get("spam") == "1", tabs
