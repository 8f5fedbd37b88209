"""The fields of the web form: read from the request as typed, checked, kept for a retry.

Every field is read as one string (a repeated field counts by its first value, a file
sent in a text field is no text), cleaned once at the edge (:mod:`desk.web_input`), with
the browser's CRLF line breaks made LF, so the lengths checked here are the lengths the
browser counted. A refused form is shown again with what the resident typed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..intake.services import MAX_DESCRIPTION
from ..labels import DIRECTION
from ..models import Category
from ..refusals import Message
from ..web_input import parse_id

#: the value of the category option "I don't know / other" (no category: an operator picks)
OTHER = "other"
MIN_DESCRIPTION = 5
MAX_ADDRESS = 500
MAX_NAME = 200
MAX_EMAIL = 254
#: the honeypot: hidden from people by CSS, a robot fills it (see docs in guard.py)
HONEYPOT = "website"
TOKEN = "form_token"


def _text(form: MultiDict, name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else ""


def _ticked(form: MultiDict, name: str) -> bool:
    return bool(_text(form, name).strip())


@dataclass
class ReportInput:
    """What the resident sent: the raw texts (shown again) and, once checked, the values."""

    category_raw: str = ""
    description: str = ""
    address: str = ""
    name: str = ""
    email: str = ""
    consent: bool = False
    keep_location: bool = False
    honeypot: str = ""
    token: str = ""
    #: after :meth:`check`: the chosen category (None: "other") and the normalised e-mail
    category: Category | None = None
    email_normalized: str = ""
    errors: dict[str, list[Message]] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: MultiDict) -> ReportInput:
        return cls(category_raw=_text(form, "category").strip()[:20], description=_text(form, "description"),
                   address=_text(form, "address"), name=_text(form, "name"), email=_text(form, "email"),
                   consent=_ticked(form, "consent"), keep_location=_ticked(form, "keep_location"),
                   honeypot=_text(form, HONEYPOT), token=_text(form, TOKEN).strip()[:200])

    def add(self, name: str, message: Message) -> None:
        self.errors.setdefault(name, []).append(message)

    def check(self) -> bool:
        """Check every field (all errors at once); True when the form may be filed."""
        self._check_category()
        description = self.description.strip()
        if not description:
            self.add("description", _l("Describe the problem."))
        elif len(description) < MIN_DESCRIPTION:
            self.add("description", _l("Describe the problem in a few words (at least %(count)s characters).",
                                       count=MIN_DESCRIPTION))
        elif len(description) > MAX_DESCRIPTION:
            self.add("description", _l("The description is too long: at most %(count)s characters (now %(now)s).",
                                       count=MAX_DESCRIPTION, now=len(description)))
        if len(self.address.strip()) > MAX_ADDRESS:
            self.add("address", _l("The address is too long: at most %(count)s characters.", count=MAX_ADDRESS))
        if len(self.name.strip()) > MAX_NAME:
            self.add("name", _l("The name is too long: at most %(count)s characters.", count=MAX_NAME))
        self._check_email()
        if not self.consent:
            self.add("consent", _l("Tick the consent to the processing of personal data: without it the city "
                                   "cannot accept the appeal."))
        return not self.errors

    def _check_category(self) -> None:
        raw = self.category_raw
        if raw == OTHER:
            self.category = None
            return
        category_id = parse_id(raw) if raw else None
        category = db.session.get(Category, category_id) if category_id is not None else None
        if not raw:
            self.add("category", _l("Choose a category (or \"I don't know / other\")."))
        elif category is None or not category.is_active:
            self.add("category", _l("Choose a category from the list."))
        else:
            self.category = category

    def _check_email(self) -> None:
        email = self.email.strip()
        if not email:
            return
        if len(email) > MAX_EMAIL:
            self.add("email", _l("The e-mail address is too long."))
            return
        try:
            valid = validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            self.add("email", _l("Check the e-mail address: it should look like name@example.ru."))
            return
        self.email_normalized = valid.normalized

    def values(self) -> dict[str, Any]:
        """The fields as the template shows them again (the honeypot never)."""
        return {"category": self.category_raw, "description": self.description, "address": self.address,
                "name": self.name, "email": self.email, "consent": self.consent, "keep_location": self.keep_location}


@dataclass
class CategoryGroup:
    label: Any
    options: list[tuple[int, str]]


def category_groups() -> list[CategoryGroup]:
    """The city's active categories by direction, in the directions' order (for <optgroup>)."""
    rows = db.session.scalars(db.select(Category).where(Category.is_active.is_(True)).order_by(Category.name)).all()
    groups: list[CategoryGroup] = []
    for key, title in DIRECTION.items():
        options = [(c.id, c.name) for c in rows if c.direction == key]
        if options:
            groups.append(CategoryGroup(title, options))
    rest = [(c.id, c.name) for c in rows if c.direction not in DIRECTION]
    if rest:
        groups.append(CategoryGroup(_l("Other problems"), rest))
    return groups
