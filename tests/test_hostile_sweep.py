"""Hostile input on every route of the desk answers 4xx (or a normal page), never a 5xx.

For every rule in ``app.url_map`` and every method it allows, signed out and as each role:
hostile values in each URL converter, garbage query parameters and hostile form and JSON
bodies (with a valid CSRF token, so the request gets past the CSRF check); the API's
routes get the converter values only (tests/test_api_schemathesis.py covers their
bodies and queries from the OpenAPI document). Then every
posting form found on the pages each role sees is sent with one field at a time made
hostile (the rest as a browser would send it), so hostile values reach the services.
Runs on SQLite and PostgreSQL: ids >= 2**31 only fail on PostgreSQL, >= 2**63 on SQLite.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

from werkzeug.routing import IntegerConverter

from desk.demo.data import DEMO_PASSWORD
from desk.extensions import db
from desk.models import Account, ApiToken, Category, DeadLetter, Department, Role, SlaPolicy, Ticket, TicketStatus, User
from desk.models.announcements import Announcement, AnnouncementDelivery
from desk.models.replies import CannedReply, Reply, ReplyDelivery
from desk.tickets.actions import ACTIONS
from desk.web_input import CleanParameters
from tests.conftest import FreshRequestClient, csrf_from
from tests.crawl_support import ROLE_LOGINS, Frontier, load_demo, normalize

BASE = "http://localhost/"
HOSTILE_IDS = ("2147483648", "9223372036854775808", "18446744073709551616", "9" * 5000, "-1", "0", "%00")
HOSTILE_WORDS = ("%00", "%ED%A0%80", "x" * 300)
# Query arguments the pages read. Garbage goes into all of them at once, and then into each
# argument a page really reads, one at a time: a page that refuses one bad argument would
# otherwise hide what it does with another.
DATE_PARAMS = {"from", "to", "day"}
FILTER_PARAMS = ("q", "page", "department", "category", "account", "account_id", "after", "before", "cursor",
                 "status", "platform", "direction", "priority", "overdue", "unassigned", "sort", "from", "to",
                 "period", "days", "network", "metric", "age", "year", "day", "next", "download", "limit",
                 "assignee", "ticket_id", "id", "month")
# Names of the fields the desk's forms read: every hostile form body carries them all.
BODY_FIELDS = ("email", "password", "remember", "name", "text", "note", "reason", "permalink", "title",
               "status", "priority", "department_id", "category_id", "assignee_id", "target_id", "ticket_ids",
               "action", "next", "id", "department", "default_department", "user", "role", "platform",
               "direction", "link", "is_active", "active", "body", "accounts", "account_ids", "scope",
               "reaction_hours", "resolution_days", "high_factor", "urgent_factor", "reaction_stops_at",
               "day", "kind", "expires_in", "token", "locale")
DEEP_JSON = "[" * 10_000 + "]" * 10_000
PROTECTED = re.compile(r"^/logout\b")  # posted last: it ends the identity's session


@dataclass
class Identity:
    name: str
    client: object
    csrf: str = ""
    api_headers: dict = field(default_factory=dict)


@dataclass
class Sweep:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    parts: dict[str, list] = field(default_factory=dict)  # part -> [requests, seconds]

    def send(self, who: Identity, method: str, url: str, part: str = "forms", **kwargs) -> object:
        self.requests += 1
        tally = self.parts.setdefault(part, [0, 0.0])
        tally[0] += 1
        started = time.perf_counter()
        try:
            return self._send(who, method, url, **kwargs)
        finally:
            tally[1] += time.perf_counter() - started

    def _send(self, who: Identity, method: str, url: str, **kwargs) -> object:
        if url.startswith("/api/"):
            kwargs.setdefault("headers", {}).update(who.api_headers)
        try:
            response = who.client.open(url, method=method, **kwargs)
        except Exception as exc:  # noqa: BLE001 — a propagated exception is the 500 we look for
            db.session.rollback()
            self.failures.append(f"{who.name}: {method} {url[:160]} -> {exc.__class__.__name__}: {str(exc)[:160]}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{who.name}: {method} {url[:160]} -> HTTP {response.status_code}")
        return response


# --- part A: every rule -------------------------------------------------------------------

_ARG = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>")


def build_url(rule, values: dict[str, str]) -> str:
    return _ARG.sub(lambda m: values[m.group(1)], rule.rule)


def valid_values(app, ok_token: str, victim: User) -> dict:
    """A real value for each converter argument, by (endpoint, name) or name."""
    def first(model, *where) -> str:
        found = db.session.scalar(db.select(model.id).where(*where).order_by(model.id).limit(1))
        return str(found or 1)

    housing = db.session.scalar(db.select(Department.id).where(Department.name == "ЖКХ"))
    token = db.session.scalar(db.select(ApiToken.id).where(ApiToken.user_id == victim.id))
    values = {
        "ticket_id": first(Ticket, Ticket.department_id == housing, Ticket.status != TicketStatus.MERGED.value),
        "account_id": first(Account), "cat_id": first(Category), "dept_id": first(Department),
        "user_id": str(victim.id), "token_id": str(token), "reply_id": first(Reply),
        "canned_id": first(CannedReply), "announcement_id": first(Announcement), "letter_id": first(DeadLetter),
        "policy_id": first(SlaPolicy), "year": "2025", "fmt": "csv", "platform": "telegram", "code": "ru",
        "filename": "css/desk.css", "token": ok_token,
        ("replies.delivery_action", "delivery_id"): first(ReplyDelivery),
        ("replies.delivery_action", "action"): "resend",
        ("registry.crosspost_confirm", "delivery_id"): first(AnnouncementDelivery),
        ("registry.crosspost_resend", "delivery_id"): first(AnnouncementDelivery),
    }
    for platform in ("telegram", "vk", "max", "ok"):
        account = db.session.scalar(db.select(Account.id).where(Account.name == f"sweep {platform}"))
        values[(f"hooks.{'vk_callback' if platform == 'vk' else platform + '_webhook'}", "account_id")] = str(account)
    return values


def rule_urls(rule, values: dict) -> tuple[list[str], list[str]]:
    """(valid URLs, URLs with one hostile converter value) of a rule."""
    names = list(rule._converters)

    def value(name):
        return values.get((rule.endpoint, name), values.get(name, "1"))

    bases = [{n: value(n) for n in names}]
    if rule.endpoint == "tickets.act":  # one URL per card action: each reads its own form
        bases = [{**bases[0], "action": action} for action in ACTIONS]
    hostile = []
    for name in names:
        kinds = HOSTILE_IDS if isinstance(rule._converters[name], IntegerConverter) else HOSTILE_WORDS
        hostile += [build_url(rule, {**bases[0], name: bad}) for bad in kinds]
    return [build_url(rule, b) for b in bases], hostile


def hostile_bodies(csrf: str, huge: str) -> list[dict]:
    """Request kwargs: form bodies (NUL, huge ids, arrays, long text) and JSON bodies."""
    def form(value):
        return {"data": {**{name: value for name in BODY_FIELDS}, "csrf_token": csrf}}

    json_headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
    kinds = [2 ** 63, "\ud800", [1], {"a": None}, True, None, 1e308]  # JSON of every wrong type
    mixed = {name: kinds[i % len(kinds)] for i, name in enumerate(BODY_FIELDS)}
    return [form("Ямы\x00во дворе"), form(huge), form("я" * 3000),
            {"data": {**{name: ["1", huge] for name in BODY_FIELDS}, "csrf_token": csrf}},
            {"data": DEEP_JSON, "headers": json_headers},
            {"data": json.dumps(mixed), "headers": json_headers}]


# Bodies that pass a webhook's secret check (the sweep's accounts share one secret) and
# then carry hostile values where the networks put ids and text.
HOOK_BODIES = [{"json": body} for body in (
    {"type": "wall_reply_new", "secret": "sweep-secret", "event_id": "\ud800", "group_id": {"a": 1},
     "object": {"id": 2 ** 63, "text": "\ud800\x00", "from_id": [1], "date": "tomorrow"}},
    {"type": "confirmation", "group_id": [42]},
    {"update_id": 2 ** 63, "message": {"message_id": "x", "chat": [], "text": {"a": 1}, "date": -1}},
    {"update_type": "message_created", "timestamp": "\ud800", "message": {"body": {"mid": 2 ** 64, "text": 5}}},
    {"message": {"mid": "\ud800", "text": None}, "recipient": "me", "sender": 7},
)]


class RecordingArgs(CleanParameters):
    """Query arguments that note which names a view asks for."""

    asked: set[str] = set()

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


def arguments_read(app, who: Identity, url: str) -> set[str]:
    """The query arguments the view behind ``url`` reads (one plain GET, recorded)."""
    normal = app.request_class
    app.request_class = type("RecordingRequest", (normal,), {"parameter_storage_class": RecordingArgs})
    RecordingArgs.asked = set()
    try:
        who.client.get(url)
    except Exception:  # noqa: BLE001 — the sweep itself reports it
        db.session.rollback()
    finally:
        app.request_class = normal
    return RecordingArgs.asked


def query_strings(huge: str, read: set[str]) -> list[str]:
    every = ["&".join(f"{p}={v}" for p in FILTER_PARAMS) for v in ("a%00b", huge, "x" * 2000)]
    every.append("&".join(f"{p}=1&{p}=2&{p}[]=3" for p in FILTER_PARAMS))
    one_by_one = [f"{p}={v}" for p in sorted(read) for v in (huge, "-1", "a%00b")]
    dates = [f"{p}={d}" for p in sorted(read & DATE_PARAMS) for d in ("0001-01-01", "9999-12-31")]
    return every + one_by_one + dates


def sweep_rules(app, sweep: Sweep, who: Identity, values: dict, huge: str) -> None:
    """Every rule, every method: hostile converter values; on pages (not the API, which
    its own schema-driven test covers) also garbage queries and hostile bodies."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    for rule in rules:
        if rule.endpoint == "auth.logout" and who.name != "signed out":
            continue  # the identity's session must last the sweep; logout is swept signed out
        valid, hostile = rule_urls(rule, values)
        api = rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            token = {"data": {"csrf_token": who.csrf}} if method != "GET" else {}
            for url in hostile:
                sweep.send(who, method, url, part="converters", **token)
            if api:
                continue
            read = arguments_read(app, who, valid[0]) if method == "GET" else set()
            for query in query_strings(huge, read):
                sweep.send(who, method, f"{valid[0]}?{query}", part="queries", **token)
            if method == "GET":
                continue
            bodies = hostile_bodies(who.csrf, huge) + (HOOK_BODIES if rule.rule.startswith("/hooks/") else [])
            for url in valid:
                for body in bodies:
                    sweep.send(who, method, url, part="bodies", **body)


# --- part B: the forms each role sees -----------------------------------------------------

class PostForms(HTMLParser):
    """Posting forms of a page: action and fields as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                          "fields": {}, "kinds": {}}
            if self._form["method"] == "post":
                self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "file", "image") or (
                    kind in ("checkbox", "radio") and "checked" not in a):
                self._form["kinds"].setdefault(a["name"], kind)
                return
            self._form["fields"].setdefault(a["name"], a.get("value") or "")
            self._form["kinds"][a["name"]] = kind
        elif tag == "select":
            self._select = a["name"]
            self._form["kinds"][a["name"]] = "select"
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            current = self._form["fields"].get(self._select)
            if "selected" in a or not current:  # the chosen option, else the first real one
                self._form["fields"][self._select] = value
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["kinds"][a["name"]] = "textarea"
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def field_hostiles(kind: str, value: str, huge: str) -> tuple[str, ...]:
    if kind in ("text", "textarea", "email", "password", "search", "url", "tel"):
        return ("Ямы\x00во дворе\x00", "x" * 6000)
    if kind == "date":
        return ("99999-01-01", "0001-01-01", "2025-02-30")
    if kind in ("checkbox", "radio"):
        return ("\x00",)
    if value.isdigit() or kind == "number":
        return (huge, "-1")
    return ("\x00", huge)


def crawl_forms(client, cards: list[str]) -> list[dict]:
    """Posting forms on the pages a client reaches, one per (action shape, field names).
    ``cards``: ticket cards in every status, opened first (each status has other forms)."""
    frontier = Frontier(limit=60)
    frontier.add("/")
    found: dict[tuple, dict] = {}
    pending = list(cards)
    while (path := pending.pop(0) if pending else frontier.pop()) is not None:
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            frontier.add(normalize(BASE + path.lstrip("/"), response.headers["Location"]))
            continue
        if response.mimetype != "text/html":
            continue
        parser = PostForms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or path
            key = (re.sub(r"\d+", "<n>", action.split("?")[0]), tuple(sorted(form["kinds"])))
            found.setdefault(key, {**form, "action": action})
        for href in parser.links:
            frontier.add(normalize(BASE + path.lstrip("/"), href))
    return list(found.values())


def cards_in_every_status() -> list[str]:
    """A ticket card per status, in the housing department (a head's) and anywhere."""
    housing = db.session.scalar(db.select(Department.id).where(Department.name == "ЖКХ"))
    ids = set()
    for where in ([Ticket.department_id == housing], []):
        ids |= set(db.session.scalars(db.select(db.func.min(Ticket.id)).where(*where).group_by(Ticket.status)))
    return [f"/tickets/{n}" for n in sorted(ids)]


def sweep_forms(sweep: Sweep, who: Identity, protected_users: set[int], huge: str) -> int:
    forms = crawl_forms(who.client, cards_in_every_status())
    for form in forms:
        action = form["action"]
        users = re.match(r"/admin/users/(\d+)", action)
        if PROTECTED.search(action) or (users and int(users.group(1)) in protected_users):
            continue  # these would end the sweep's own sessions
        base = {name: value or ("Проверка" if form["kinds"].get(name) in ("text", "textarea") else value)
                for name, value in form["fields"].items()}
        for name, kind in form["kinds"].items():
            if name == "csrf_token":
                continue
            for bad in field_hostiles(kind, base.get(name, ""), huge):
                sweep.send(who, "POST", action, data={**base, name: bad})
        sweep.send(who, "POST", action, data={k: [v, v] if k != "csrf_token" else v for k, v in base.items()})
    return len(forms)


# --- the test -----------------------------------------------------------------------------

def sign_in(app, email: str) -> Identity:
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"{email} could not sign in"
    return Identity(email, client, csrf_from(client.get("/notifications/").get_data(as_text=True)))


def sweep_accounts(make) -> str:
    """An active account per network with known secrets, so hostile bodies reach the hooks."""
    secrets = {"webhook_secret": "sweep-secret", "callback_secret": "sweep-secret",
               "confirmation_code": "code", "webhook_token": "sweep-ok-token"}
    for platform in ("telegram", "vk", "max", "ok"):
        make.account(platform, name=f"sweep {platform}", settings={"group_id": 42}, credentials=secrets)
    return secrets["webhook_token"]


def test_no_route_answers_a_server_error_to_hostile_input(app, make):
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.test_client_class = FreshRequestClient  # each request with an empty ``g``, as in production
    load_demo(app)
    ok_token = sweep_accounts(make)
    victim = make.user(Role.OPERATOR, email="victim@city.test")
    db.session.add(ApiToken.issue(victim, "victim")[0])
    db.session.commit()
    values = valid_values(app, ok_token, victim)
    # The smallest id the backend cannot hold: INTEGER on PostgreSQL, 64 bits on SQLite.
    huge = "2147483648" if db.engine.dialect.name == "postgresql" else "9223372036854775808"

    anonymous = app.test_client()
    identities = [Identity("signed out", anonymous, csrf_from(anonymous.get("/login").get_data(as_text=True)))]
    protected = set()
    for role, email in ROLE_LOGINS.items():  # every session opens before any hostile login attempt
        identity = sign_in(app, email)
        identity.name = role
        user = db.session.scalar(db.select(User).where(User.email == email))
        protected.add(user.id)
        row, plain = ApiToken.issue(user, "sweep")
        db.session.add(row)
        identity.api_headers = {"Authorization": f"Bearer {plain}"}
        identities.append(identity)
    db.session.commit()
    # Hooks get each network's secret header, so bodies are read rather than refused.
    for identity in identities:
        identity.client.environ_base.update({"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "sweep-secret",
                                             "HTTP_X_MAX_BOT_API_SECRET": "sweep-secret"})

    sweep = Sweep()
    forms = {}
    for identity in identities[1:]:
        forms[identity.name] = sweep_forms(sweep, identity, protected, huge)
    for identity in identities:
        sweep_rules(app, sweep, identity, values, huge)

    parts = ", ".join(f"{part} {n} in {s:.1f} s" for part, (n, s) in sweep.parts.items())
    print(f"\nhostile sweep: {sweep.requests} requests ({parts}), forms per role {forms}, "
          f"{len(sweep.failures)} server errors")
    assert not sweep.failures, f"{len(sweep.failures)} server errors:\n" + "\n".join(sweep.failures[:300])
    assert sum(forms.values()) >= 30, f"too few forms found: {forms}"
