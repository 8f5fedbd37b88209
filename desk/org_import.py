"""A city's departments and categories from a file, for its first day
(``flask departments import FILE``): JSON, CSV or XLSX.

A row names a department and, optionally, a category whose default department it is:

    department; category; direction; keywords; approval
    Управление ЖКХ; Отопление; ЖКХ; батарея, отопление, холодно; да

Columns may be written in English or Russian (``отдел``, ``категория``, ``направление``,
``ключевые слова``, ``согласование``, ``активна``); a direction as its value (``housing``) or
its label in either language. JSON may also nest categories under their department:
``{"departments": [{"name": "…", "answers_need_approval": true, "categories": [{"name": "…",
"direction": "housing", "keywords": ["…"]}]}]}``. Names are the keys: running the file again
changes nothing, a changed row updates. A bad row is reported with its number and skipped.
Only flushes; the command commits.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import force_locale

from .extensions import db
from .labels import DIRECTION
from .models import Category, Department, Direction
from .tabular import empty, read_rows

#: the column names a file may use, in English or Russian, for each field
COLUMNS = {
    "department": ("department", "отдел", "подразделение", "name"),
    "category": ("category", "категория"),
    "direction": ("direction", "направление"),
    "keywords": ("keywords", "ключевые слова", "ключевые_слова"),
    "approval": ("answers_need_approval", "approval", "согласование", "согласование ответов"),
    "active": ("is_active", "active", "активна", "активен"),
}
YES = {"1", "true", "yes", "да", "y", "д", "+"}
NO = {"0", "false", "no", "нет", "n", "н", "-"}


class RowProblem(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class OrgRow:
    row: int
    status: str  # created | updated | unchanged | error
    department: str = ""
    category: str = ""
    field: str = ""
    message: str = ""

    def line(self) -> str:
        what = self.department + (f" / {self.category}" if self.category else "")
        if self.status == "error":
            return f"row {self.row}: ERROR in '{self.field}': {self.message}"
        return f"row {self.row}: {self.status} {what}"


def _directions() -> dict[str, str]:
    """Every way a file may name a direction (value, English and Russian labels) → value."""
    names = {}
    for direction in Direction:
        names[direction.value] = direction.value
        names[direction.label.lower()] = direction.value
        with force_locale("ru"):
            names[str(DIRECTION[direction.value]).lower()] = direction.value
    return names


def _field(row: dict, name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items()}
    for alias in COLUMNS[name]:
        value = lowered.get(alias)
        if not empty(value):
            return value
    return None


def _flag(value: Any, field: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowProblem(field, f"'{value}' is not yes/no (да/нет)")


def parse_keywords(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else re.split(r"[,;\n]", str(value))
    seen: list[str] = []
    for item in items:
        word = " ".join(str(item).split()).lower()[:100]
        if word and word not in seen:
            seen.append(word)
    return seen


def expand(rows: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """JSON's nested form as flat rows: the department, then each of its categories."""
    for number, row in rows:
        nested = row.get("categories")
        if not isinstance(nested, list):
            yield number, row
            continue
        department = {k: v for k, v in row.items() if k != "categories"}
        yield number, department
        name = _field(row, "department")
        for item in nested:
            yield number, {**(item if isinstance(item, dict) else {"category": item}), "department": name,
                           "category": (item.get("name") or item.get("category")) if isinstance(item, dict) else item}


def _changed(obj: Any, **values: Any) -> bool:
    changed = False
    for name, value in values.items():
        if value is not None and getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def import_row(row: dict, directions: dict[str, str]) -> tuple[str, str, str]:
    """Create or update the row's department and category; (status, department, category)."""
    if "__invalid__" in row:
        raise RowProblem("row", "not an object")
    name = _field(row, "department")
    if name is None:
        raise RowProblem("department", "the department's name is missing")
    name = " ".join(str(name).split())[:200]
    approval = _flag(_field(row, "approval"), "approval")
    category_name = _field(row, "category")
    raw_direction = _field(row, "direction")
    direction = None
    if raw_direction is not None:
        direction = directions.get(str(raw_direction).strip().lower())
        if direction is None:
            raise RowProblem("direction", f"unknown direction '{raw_direction}'")
    keywords = parse_keywords(_field(row, "keywords"))
    active = _flag(_field(row, "active"), "active")

    status = "unchanged"
    department = db.session.scalars(db.select(Department).where(Department.name == name)).first()
    if department is None:
        department = Department(name=name, answers_need_approval=bool(approval))
        db.session.add(department)
        db.session.flush()
        status = "created"
    elif _changed(department, answers_need_approval=approval,
                  is_active=active if category_name is None else None):
        status = "updated"
    if category_name is None:
        return status, name, ""
    category_name = " ".join(str(category_name).split())[:200]
    category = db.session.scalars(db.select(Category).where(Category.name == category_name)).first()
    if category is None:
        category = Category(name=category_name, direction=direction, default_department=department,
                            keywords=keywords or [], is_active=active if active is not None else True)
        db.session.add(category)
        db.session.flush()
        return "created", name, category_name
    if _changed(category, direction=direction, default_department_id=department.id, keywords=keywords,
                is_active=active):
        status = "updated" if status == "unchanged" else status
    db.session.flush()
    return status, name, category_name


def import_rows(rows: Iterable[tuple[int, dict]], progress: Any = None) -> list[OrgRow]:
    """Import every row; a bad one is reported and skipped (its savepoint rolled back)."""
    directions = _directions()
    results = []
    for number, row in expand(rows):
        try:
            with db.session.begin_nested():
                status, department, category = import_row(row, directions)
            results.append(OrgRow(number, status, department, category))
        except RowProblem as exc:
            results.append(OrgRow(number, "error", field=exc.field, message=str(exc)))
        if progress is not None:
            progress.update(1)
    return results


def read(path: str | Path) -> list[tuple[int, dict]]:
    return read_rows(path, list_key="departments")
