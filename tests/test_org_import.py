"""``flask departments import FILE``: a city's departments and categories in one go, from
the files people have (Russian Excel CSV, XLSX, JSON), idempotent, bad rows named."""
from __future__ import annotations

import json

from openpyxl import Workbook

from desk.extensions import db
from desk.models import Category, Department

CSV = """отдел;категория;направление;ключевые слова;согласование
Управление ЖКХ;Отопление;ЖКХ;батарея, отопление,  Холодно ;да
Управление ЖКХ;Горячая вода;housing;горячая вода;да
Дороги и благоустройство;Ямы на дорогах;Органы власти;яма, асфальт;нет
Дороги и благоустройство;Освещение;космос;фонарь;нет
;Без отдела;ЖКХ;;
"""


def run(app, path):
    return app.test_cli_runner().invoke(args=["departments", "import", str(path)])


def test_a_russian_excel_csv_loads_and_a_second_run_changes_nothing(app, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    first = run(app, path)
    assert first.exit_code == 1  # two bad rows, named; the good ones loaded
    assert "row 5: ERROR in 'direction': unknown direction 'космос'" in first.output
    assert "row 6: ERROR in 'department'" in first.output
    assert "3 created, 0 updated, 0 unchanged, 2 rows with errors" in first.output
    housing = db.session.scalars(db.select(Department).where(Department.name == "Управление ЖКХ")).one()
    assert housing.answers_need_approval is True
    heating = db.session.scalars(db.select(Category).where(Category.name == "Отопление")).one()
    assert (heating.direction, heating.default_department_id) == ("housing", housing.id)
    assert heating.keywords == ["батарея", "отопление", "холодно"]
    pits = db.session.scalars(db.select(Category).where(Category.name == "Ямы на дорогах")).one()
    assert pits.direction == "authorities"
    counts = (db.session.scalar(db.select(db.func.count()).select_from(Department)),
              db.session.scalar(db.select(db.func.count()).select_from(Category)))
    second = run(app, path)
    assert "0 created, 0 updated, 3 unchanged" in second.output
    assert counts == (db.session.scalar(db.select(db.func.count()).select_from(Department)),
                      db.session.scalar(db.select(db.func.count()).select_from(Category)))


def test_xlsx_and_nested_json_update_what_changed(app, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Department", "Category", "Direction", "Keywords"])
    sheet.append(["Образование", "Школы", "Education", "школа, учитель"])
    book.save(tmp_path / "orgs.xlsx")
    assert run(app, tmp_path / "orgs.xlsx").exit_code == 0
    data = {"departments": [{"name": "Образование", "answers_need_approval": True, "categories": [
        {"name": "Школы", "direction": "education", "keywords": ["школа", "урок"]},
        {"name": "Детские сады", "direction": "Образование"}]}]}
    (tmp_path / "orgs.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(app, tmp_path / "orgs.json")
    assert result.exit_code == 0, result.output
    schools = db.session.scalars(db.select(Category).where(Category.name == "Школы")).one()
    assert schools.keywords == ["школа", "урок"]
    assert db.session.scalars(db.select(Department).where(Department.name == "Образование")).one()\
        .answers_need_approval is True
    assert db.session.scalars(db.select(Category).where(Category.name == "Детские сады")).one().direction \
        == "education"


def test_an_unknown_file_type_is_a_clear_error(app, tmp_path):
    path = tmp_path / "orgs.txt"
    path.write_text("x")
    result = run(app, path)
    assert result.exit_code != 0 and "use .json, .csv or .xlsx" in result.output


def test_admins_edit_a_categorys_keywords(make, login_as, client):
    from .conftest import csrf_from

    category = make.category("Отопление")
    login_as(make.user("admin"))
    page = client.get(f"/admin/categories/{category.id}").get_data(as_text=True)
    response = client.post(f"/admin/categories/{category.id}", data={
        "csrf_token": csrf_from(page), "name": "Отопление", "direction": "housing", "default_department": "0",
        "keywords": "Батарея, холодно,батарея", "is_active": "y"})
    assert response.status_code in (200, 302)
    db.session.refresh(category)
    assert category.keywords == ["батарея", "холодно"]
