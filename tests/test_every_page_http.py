"""Every page over plain HTTP, as each role and signed out: a Content-Security-Policy on
every response, and a CSRF token in every form that posts (none in forms that GET, where
it would end up in the address bar and the server logs)."""
from __future__ import annotations

from html.parser import HTMLParser

from desk.demo.data import DEMO_PASSWORD
from tests.conftest import csrf_from
from tests.crawl_support import ROLE_LOGINS, Frontier, load_demo, normalize

BASE = "http://localhost/"


class Forms(HTMLParser):
    """Each <form>: its method, action and the names/values of its hidden inputs."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._open = {"method": (attrs.get("method") or "get").lower(),
                          "action": attrs.get("action") or "", "csrf": None}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attrs.get("name") == "csrf_token":
            self._open["csrf"] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def check_response(path: str, response) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    if "default-src" not in csp or "script-src 'self'" not in csp or "unsafe-inline" in csp:
        problems.append(f"{path}: HTTP {response.status_code} without a strict CSP header ({csp!r})")
    if response.status_code >= 500:
        problems.append(f"{path}: HTTP {response.status_code}")
    return problems


def crawl(client, start: str) -> tuple[int, list[str]]:
    frontier = Frontier()
    frontier.add(start)
    problems: list[str] = []
    visited = 0
    while (path := frontier.pop()) is not None:
        response = client.get(path)
        visited += 1
        problems += check_response(path, response)
        if response.status_code in (301, 302, 303):
            frontier.add(normalize(BASE + path.lstrip("/"), response.headers["Location"]))
            continue
        if response.mimetype != "text/html":
            continue
        parser = Forms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            where = f"{path}: form {form['method'].upper()} {form['action'] or '(this page)'}"
            if form["method"] == "post" and not form["csrf"]:
                problems.append(f"{where} has no CSRF token")
            if form["method"] == "get" and form["csrf"] is not None:
                problems.append(f"{where} puts the CSRF token into the URL")
        for href in parser.links:
            frontier.add(normalize(BASE + path.lstrip("/"), href))
    return visited, problems


def status_pages() -> list[str]:
    """The public status page of a ticket in each status (no page links to them: residents
    get them in the city's answers)."""
    from desk.extensions import db
    from desk.models import Ticket
    from desk.status_page.tokens import status_path

    first = db.session.scalars(db.select(db.func.min(Ticket.id)).group_by(Ticket.status)).all()
    return [status_path(db.session.get(Ticket, ticket_id)) for ticket_id in first]


def sign_in(client, email: str) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"{email} could not sign in: {response.get_data(as_text=True)[:2000]}"


def test_every_page_has_a_csp_and_every_posting_form_a_csrf_token(app):
    load_demo(app)
    problems: list[str] = []

    # Each client in an app context of its own: requests share the test's context and its
    # ``g`` otherwise, and Flask-WTF keeps the CSRF token of the session in ``g``.
    with app.app_context():
        anonymous = app.test_client()
        for path in ("/login", "/accounts", "/open", "/open/widget", "/open/figures.json", "/open/figures.csv",
                     "/no-such-page", "/queue", "/tickets/1", *status_pages(), "/status/1-000000000000"):
            problems += [f"signed out, {p}" for p in check_response(path, anonymous.get(path))]
        for start in ("/login", "/open"):
            _visited, found = crawl(anonymous, start)
            problems += [f"signed out, {p}" for p in found]

    for role, email in ROLE_LOGINS.items():
        with app.app_context():
            client = app.test_client()
            sign_in(client, email)
            visited, found = crawl(client, "/")
            assert visited >= 5, f"{role}: only {visited} pages reachable"
            problems += [f"{role}, {p}" for p in found]
            # Pages a role may not open answer 403/404, with the same headers.
            for path in ("/admin/users", "/reports/", "/inbox", "/queue", "/tickets/999999"):
                problems += [f"{role}, {p}" for p in check_response(path, client.get(path))]

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_check_finds_a_form_without_a_token():
    parser = Forms()
    parser.feed('<form method="post" action="/x"><input name="a"></form>'
                '<form method="get"><input type="hidden" name="csrf_token" value="t"></form>'
                '<form method="POST"><input type="hidden" name="csrf_token" value="t"></form>')
    assert [(f["method"], f["csrf"]) for f in parser.forms] == [("post", None), ("get", "t"), ("post", "t")]
