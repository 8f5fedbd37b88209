"""GeoReport services: the city's active categories.

``service_code`` is the category's id (as a string, like every code in the spec), ``group``
its direction in Russian, ``keywords`` the direction and the department that usually
solves it. No service has attributes, so ``metadata`` is false and each definition lists
none; ``type`` is ``realtime``: a posted request gets its id at once.
"""
from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..labels import DIRECTION
from ..models import Category
from ..web_input import parse_id
from .render import not_found


def direction_name(direction: str | None) -> str:
    """The direction's Russian label (the city's language, whatever the client's)."""
    if not direction or direction not in DIRECTION:
        return ""
    with force_locale("ru"):
        return str(DIRECTION[direction])


def active_service(code: str | None) -> Category | None:
    """The active category a ``service_code`` names, or None."""
    ident = parse_id(code) if code is not None and code.strip() == code else None
    if ident is None:
        return None
    category = db.session.get(Category, ident)
    return category if category is not None and category.is_active else None


def service(category: Category) -> dict[str, Any]:
    group = direction_name(category.direction)
    department = category.default_department.name if category.default_department else ""
    return {
        "service_code": str(category.id),
        "service_name": category.name,
        "description": category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(word for word in (group, department) if word)),
        "group": group,
    }


def services() -> list[dict[str, Any]]:
    rows = db.session.scalars(
        db.select(Category).where(Category.is_active.is_(True))
        .options(joinedload(Category.default_department)).order_by(Category.name, Category.id)).all()
    return [service(c) for c in rows]


def definition(code: str) -> dict[str, Any]:
    """The spec's service definition; a 404 for a code that names no active service."""
    category = active_service(code)
    if category is None:
        raise not_found(f"service_code {code[:100]} was not found")
    return {"service_code": str(category.id), "attributes": []}
