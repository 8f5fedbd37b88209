"""``flask accounts import``: JSON, CSV and XLSX; good rows load, bad rows are named."""
from __future__ import annotations

import csv
import json

from openpyxl import Workbook

from desk.extensions import db
from desk.models import Account

TOKEN = "1234567:AAFakeTokenForTests_abcdefghijk"


def run(app, path):
    result = app.test_cli_runner().invoke(args=["accounts", "import", str(path)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def accounts() -> dict[str, Account]:
    return {a.name: a for a in db.session.scalars(db.select(Account)).all()}


def test_json_import_creates_accounts_and_reports_bad_rows(app, make, tmp_path):
    make.department("Пресс-служба")
    make.department("ЖКХ")
    rows = [
        {"platform": "telegram", "name": "Администрация города", "direction": "authorities",
         "department": "Пресс-служба",
         "telegram": {"bot_token": TOKEN, "channel_id": -1001111111111, "discussion_chat_id": -1002222222222,
                      "username": "city_official", "webhook_secret": "abc_DEF-123"}},
        {"platform": "vk", "name": "ЖКХ Белогорска", "direction": "housing", "department": "ЖКХ",
         "vk": {"group_id": "12345678", "group_token": "vk1.a.secret", "callback_secret": "cb",
                "mention_keywords": ["Белогорск", "ЖКХ"]}},
        {"platform": "telegram", "name": "Школа №1", "direction": "education",
         "telegram": {"bot_token": TOKEN, "channel_id": "минус сто"}},
        {"platform": "max", "name": "Театр", "direction": "theatre", "max": {"chat_id": -71234567890}},
        {"platform": "ok", "name": "Спорт", "direction": "sport", "department": "Спорткомитет",
         "ok": {"group_id": "55"}},
    ]
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = run(app, path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "row 1: created telegram account 'Администрация города'"
    assert lines[1] == "row 2: created vk account 'ЖКХ Белогорска'"
    assert lines[2] == "row 3: ERROR in field 'telegram.channel_id': must be a whole number"
    assert lines[3].startswith("row 4: ERROR in field 'direction'")
    assert lines[4] == "row 5: ERROR in field 'department': no department named 'Спорткомитет'"
    assert lines[5] == "2 rows loaded, 3 rows with errors"
    assert TOKEN not in result.output and "vk1.a.secret" not in result.output
    loaded = accounts()
    assert set(loaded) == {"Администрация города", "ЖКХ Белогорска"}
    city = loaded["Администрация города"]
    assert city.settings == {"channel_id": -1001111111111, "discussion_chat_id": -1002222222222,
                             "username": "city_official", "channel_username": "city_official"}
    assert city.get_credentials() == {"bot_token": TOKEN, "webhook_secret": "abc_DEF-123"}
    assert TOKEN not in city.credentials_encrypted and city.department.name == "Пресс-служба"
    assert city.link == "https://t.me/city_official"
    vk = loaded["ЖКХ Белогорска"]
    assert vk.settings == {"group_id": 12345678, "mention_keywords": ["Белогорск", "ЖКХ"]}
    assert vk.get_credentials() == {"group_token": "vk1.a.secret", "callback_secret": "cb"}


def test_csv_import_with_dotted_columns_updates_existing_accounts(app, make, tmp_path):
    make.account("telegram", name="Администрация города", direction="authorities",
                 settings={"channel_id": 1}, credentials={"bot_token": TOKEN, "webhook_secret": "keep"})
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["platform", "name", "direction", "telegram.bot_token", "telegram.channel_id",
                         "vk.group_id", "vk.mention_keywords"])
        writer.writerow(["telegram", "Администрация города", "authorities", "", "-1001111111111", "", ""])
        writer.writerow(["vk", "Культура", "culture", "", "", "777", "театр; концерт"])
        writer.writerow(["telegram", "Новый канал", "culture", "not-a-token", "", "", ""])
        writer.writerow(["vk", "Без группы", "culture", "", "", "", ""])
    result = run(app, path)
    assert result.output.splitlines() == [
        "row 2: updated telegram account 'Администрация города'",
        "row 3: created vk account 'Культура'",
        "row 4: ERROR in field 'telegram.bot_token': is not a bot token (expected <digits>:<secret>)",
        "row 5: ERROR in field 'vk.group_id': is required for a new account",
        "2 rows loaded, 2 rows with errors",
    ]
    loaded = accounts()
    city = loaded["Администрация города"]
    assert city.settings["channel_id"] == -1001111111111
    assert city.get_credentials() == {"bot_token": TOKEN, "webhook_secret": "keep"}  # empty cells keep values
    assert loaded["Культура"].settings == {"group_id": 777, "mention_keywords": ["театр", "концерт"]}
    assert "not-a-token" not in result.output


def test_xlsx_import(app, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["platform", "name", "direction", "max.bot_token", "max.chat_id", "max.webhook_secret"])
    sheet.append(["max", "Дом культуры", "culture", "max-secret-token", -71234567890, "wh"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["max", "Библиотека", "culture", "tok", "чат", None])
    sheet.append(["fax", "Факс", "culture", None, None, None])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    result = run(app, path)
    assert result.output.splitlines() == [
        "row 2: created max account 'Дом культуры'",
        "row 4: ERROR in field 'max.chat_id': must be a whole number",
        "row 5: ERROR in field 'platform': must be one of telegram, vk, max, ok",
        "1 rows loaded, 2 rows with errors",
    ]
    account = accounts()["Дом культуры"]
    assert account.settings == {"chat_id": -71234567890}
    assert account.get_credentials() == {"bot_token": "max-secret-token", "webhook_secret": "wh"}
    assert "max-secret-token" not in result.output


def test_unknown_file_type_is_refused(app, tmp_path):
    path = tmp_path / "accounts.txt"
    path.write_text("x")
    result = run(app, path)
    assert result.exit_code == 1 and "use .json, .csv or .xlsx" in result.output
