"""Personal data never reaches a public page (152-FZ): the one masking function, on
realistic Russian text, and the numbers a resident needs that must survive."""
from __future__ import annotations

import pytest

from desk.status_page.masking import found_kinds, initials, mask_personal_data


@pytest.mark.parametrize(("text", "secret", "kind"), [
    ("Звоните +7 (914) 123-45-67 после обеда", "123-45-67", "phone"),
    ("мой телефон 8 914 1234567.", "1234567", "phone"),
    ("89141234567 — это я", "89141234567", "phone"),
    ("+79141234567", "9141234567", "phone"),
    ("тел. 8(914)123-45-67", "123-45-67", "phone"),
    ("сотовый 914 123-45-67, звоните", "123-45-67", "phone"),
    ("городской 2-34-56", "2-34-56", "phone"),
    ("пишите на name@mail.ru, отвечу", "name@mail.ru", "email"),
    ("Ivan.Petrov+desk@yandex.ru", "Petrov", "email"),
    ("почта@почта.рф", "почта@", "email"),
    ("паспорт 9814 123456, выдан ОВД", "123456", "passport"),
    ("паспорт 98 14 123456", "123456", "passport"),
    ("серия 9814 № 123456", "123456", "passport"),
    ("СНИЛС 123-456-789 01", "789", "snils"),
    ("ИНН 143512345678.", "143512345678", "number"),
    ("ИНН организации 1435123456", "1435123456", "number"),
    ("карта 4276 3800 1234 5678, переведите", "5678", "card"),
    ("4276380012345678", "4276380012345678", "card"),
    ("карта 4276-3800-1234-5678", "3800", "card"),
])
def test_personal_data_is_masked(text, secret, kind):
    masked = mask_personal_data(text)
    assert secret not in masked
    assert "***" in masked
    assert kind in found_kinds(text)


@pytest.mark.parametrize("text", [
    "Яма на дороге с 12.03.2026, уже неделю.",
    "ул. Ленина, д. 12 кв. 5, подъезд 2",
    "это уже третье обращение, №1234 и #1235",
    "заплатили 1500 руб. за вывоз, 150 000 руб. на ремонт, 1 500 000 по смете",
    "в 14:30 2026 года отключили воду, дом 5/2, корпус 3",
    "давление 3.1415926535 атм, температура -25",
    "с 12-03-2026 по 15.03.2026",
])
def test_what_residents_need_survives(text):
    assert mask_personal_data(text) == text
    assert found_kinds(text) == []


def test_a_realistic_comment_keeps_its_sense():
    text = ("Здравствуйте! Во дворе дома 12 по ул. Кирова (кв. 5) с 12.03.2026 нет света. "
            "Звоните: +7 (914) 123-45-67 или пишите ivan.petrov@mail.ru. Паспорт 9814 123456 не нужен? "
            "Оплатил 1500 руб., карта 4276 3800 1234 5678. СНИЛС 123-456-789 01, ИНН 143512345678.")
    masked = mask_personal_data(text, lambda kind: f"[{kind}]")
    assert masked == ("Здравствуйте! Во дворе дома 12 по ул. Кирова (кв. 5) с 12.03.2026 нет света. "
                      "Звоните: [phone] или пишите [email]. Паспорт [passport] не нужен? "
                      "Оплатил 1500 руб., карта [card]. СНИЛС [snils], ИНН [number].")


def test_empty_text():
    assert mask_personal_data("") == ""
    assert found_kinds("") == []


@pytest.mark.parametrize(("name", "shown"), [
    ("Иван Петров", "И. П."),
    ("иван петрович сидоров", "И. П. С."),
    ("Анна-Мария Иванова", "А. И."),
    ("Иван", "И."),
    ("  ", ""),
    ("", ""),
    (None, ""),
    ("12345 !!", ""),
    ("ivan_1990", "I."),
    ("Ольга Петровна Иванова-Смирнова Младшая", "О. П. И."),
])
def test_a_name_becomes_initials(name, shown):
    assert initials(name) == shown
