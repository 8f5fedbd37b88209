"""Import of the accounts registry from JSON, CSV or XLSX (``flask accounts import``).

JSON is a list of objects with a nested section per network (see issue #3); CSV and
XLSX flatten it with dots (``telegram.bot_token``). Each row creates or updates the
account with the same (platform, name). A bad row is reported with its row number and
field and skipped; the good rows still load. Secrets (the credentials the network's spec
declares, stored under the spec's name even when the file uses an older one, and any key
with ``token`` or ``secret`` in its name) go encrypted into the credentials and never into
messages. The service only flushes; the command commits.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from .extensions import db
from .links import http_url
from .models import Account, Department, Direction
from .networks import SPECS, spec_for
from .refusals import DeskError, Message, render
from .tabular import empty as _empty
from .tabular import read_rows as _read_rows

NETWORKS = tuple(SPECS)
TOP_FIELDS = {"platform", "name", "direction", "department", "link", "is_active"}
LIST_FIELDS = {"mention_keywords"}
TELEGRAM_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class RowError(DeskError):
    """A row that cannot be imported; ``field`` names the column at fault."""

    def __init__(self, field: str, message: Message):
        super().__init__(message, field=field)

    def __str__(self) -> str:
        return f"{self.field}: {render(self.message)}"


@dataclass
class RowResult:
    row: int
    status: str  # created | updated | error
    platform: str = ""
    name: str = ""
    field: str = ""
    message: str = ""

    def line(self) -> str:
        if self.status == "error":
            return f"row {self.row}: ERROR in field '{self.field}': {self.message}"
        return f"row {self.row}: {self.status} {self.platform} account '{self.name}'"


def read_rows(path: str | Path) -> list[tuple[int, dict]]:
    """The file's rows (see :func:`desk.tabular.read_rows`); JSON may wrap them in ``accounts``."""
    return _read_rows(path, list_key="accounts")


def is_secret(key: str) -> bool:
    return "token" in key or "secret" in key or key in {"confirmation_code", "password"}


# --- validation ----------------------------------------------------------------------


def _as_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise RowError(field, _l("must be a whole number"))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise RowError(field, _l("must be a whole number")) from None


def _as_list(value: Any, field: str) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return _as_list(json.loads(text), field)
        except ValueError:
            raise RowError(field, _l("is not a valid JSON list")) from None
    return [part.strip() for part in re.split(r"[;,]", text) if part.strip()]


def _network_fields(platform: str, section: Any) -> tuple[dict, dict]:
    """(settings, credentials) of one row's network section."""
    if section is None:
        return {}, {}
    if not isinstance(section, dict):
        raise RowError(platform, _l("must be an object of the network's fields"))
    spec = spec_for(platform)
    declared = {f.key for f in spec.credentials}
    settings: dict[str, Any] = {}
    credentials: dict[str, Any] = {}
    for given, value in section.items():
        field = f"{platform}.{given}"
        if _empty(value):
            continue
        # A secret's older name (VK ``access_token``) is stored under the spec's name.
        key = spec.canonical_credential(given)
        if key != given and key in section and not _empty(section[key]):
            continue  # the row gave the spec's name too: that one wins
        if key in spec.integer_settings:
            value = _as_int(value, field)
        elif key in LIST_FIELDS:
            value = _as_list(value, field)
        elif isinstance(value, float) and value.is_integer():
            value = str(int(value))
        elif not isinstance(value, (int, list, dict)):
            value = str(value).strip()
        (credentials if key in declared or is_secret(key) else settings)[key] = value
    if platform == "telegram":
        if "bot_token" in credentials and not TELEGRAM_TOKEN_RE.match(str(credentials["bot_token"])):
            raise RowError("telegram.bot_token", _l("is not a bot token (expected <digits>:<secret>)"))
        if "webhook_secret" in credentials and not WEBHOOK_SECRET_RE.match(str(credentials["webhook_secret"])):
            raise RowError("telegram.webhook_secret", _l("may hold only A-Z, a-z, 0-9, _ and - (1 to 256)"))
        if "username" in settings:
            settings["username"] = str(settings["username"]).lstrip("@")
            settings.setdefault("channel_username", settings["username"])
    return settings, credentials


def _department(name: Any) -> Department | None:
    if _empty(name):
        return None
    dept = db.session.scalars(db.select(Department).where(Department.name == str(name).strip())).first()
    if dept is None:
        raise RowError("department", _l("no department named '%(name)s'", name=str(name).strip()))
    return dept


def import_row(row: dict) -> tuple[str, Account]:
    """Create or update one account from a nested row; raises :class:`RowError`."""
    if "__invalid__" in row:
        raise RowError("row", _l("must be an object"))
    platform = str(row.get("platform") or "").strip().lower()
    if platform not in NETWORKS:
        raise RowError("platform", _l("must be one of %(values)s", values=", ".join(NETWORKS)))
    name = str(row.get("name") or "").strip()
    if not name or len(name) > 300:
        raise RowError("name", _l("is required (up to 300 characters)"))
    direction = str(row.get("direction") or "").strip()
    if direction not in Direction.values():
        raise RowError("direction", _l("must be one of %(values)s", values=", ".join(Direction.values())))
    for key, value in row.items():
        if key not in TOP_FIELDS and key != platform and key in NETWORKS and value:
            raise RowError(f"{key}.*", _l("does not apply to a %(network)s account", network=platform))
        if key not in TOP_FIELDS and key not in NETWORKS:
            raise RowError(key, _l("unknown column"))
    department = _department(row.get("department"))
    link = None
    if not _empty(row.get("link")):
        link = http_url(str(row["link"]))
        if link is None:
            raise RowError("link", _l("must be an http:// or https:// address"))
    settings, credentials = _network_fields(platform, row.get(platform))
    account = db.session.scalars(db.select(Account).where(Account.platform == platform,
                                                          Account.name == name)).first()
    status = "updated"
    if account is None:
        missing = [k for k in spec_for(platform).required_on_import if k not in settings and k not in credentials]
        if missing:
            raise RowError(f"{platform}.{missing[0]}", _l("is required for a new account"))
        account = Account(platform=platform, name=name, settings={})
        db.session.add(account)
        status = "created"
    account.direction = direction
    if department is not None:
        account.department = department
    if link is not None:
        account.link = link
    elif not account.link and platform == "telegram" and settings.get("username"):
        account.link = f"https://t.me/{settings['username']}"
    account.settings = {**(account.settings or {}), **settings}
    if credentials:
        # The spec's name replaces what older forms stored for the same secret.
        legacy = {old for f in spec_for(platform).credentials if f.key in credentials for old in f.legacy_keys}
        stored = {k: v for k, v in account.get_credentials().items() if k not in legacy}
        account.set_credentials({**stored, **credentials})
    db.session.flush()
    return status, account


def import_rows(rows: Iterable[tuple[int, dict]]) -> list[RowResult]:
    """Import every row. A row is fully checked before it touches the session, so a bad
    one leaves no trace and the good ones still load."""
    results = []
    for number, row in rows:
        try:
            status, account = import_row(row)
            results.append(RowResult(number, status, account.platform, account.name))
        except RowError as exc:
            results.append(RowResult(number, "error", field=exc.field or "", message=render(exc.message)))
    return results
