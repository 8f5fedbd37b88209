"""Every page as each role, like a careful first user, in a real browser on the demo city.

For each role the crawl signs in through the form and follows every same-site link from
the navigation and from the pages it reaches (the first page of each list, at most a
couple of pages per route shape, ~80 pages per role). Each page must answer below 500,
log no console error and no CSP violation, show no English runs in Russian mode, no
"None"/"undefined", no template debris, and fit the 1680 px screen (wide tables scroll
inside their own wrapper). All problems are collected and reported together, page by page.
"""
from __future__ import annotations

import pytest

from desk.demo.data import DEMO_PASSWORD
from tests.crawl_support import ROLE_LOGINS, Frontier, load_demo, normalize, page_problems

pytestmark = pytest.mark.e2e

WIDTH = 1680


def crawl(page, base_url: str) -> tuple[int, list[str]]:
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))

    frontier = Frontier()
    frontier.add("/")
    problems: list[str] = []
    visited = 0
    while (path := frontier.pop()) is not None:
        console.clear()
        response = page.goto(base_url + path)
        page.wait_for_load_state("load")
        visited += 1
        print("crawl:", path)  # shown with a failure: which pages the crawl reached
        where = f"{path} (→ {page.url.removeprefix(base_url)})" if page.url != base_url + path else path
        status = response.status if response else 0
        if status >= 500 or status == 0:
            problems.append(f"{where}: HTTP {status}")
            continue
        if page.url.removeprefix(base_url).startswith("/login"):
            problems.append(f"{where}: bounced to the login page")
            continue
        errors = [line for line in console if not line.startswith("warning") or "Content Security" in line]
        problems += [f"{where}: console {line}" for line in errors]
        text = page.evaluate("document.body.innerText")
        problems += [f"{where}: {p}" for p in page_problems(text, russian=True)]
        title = page.title()
        problems += [f"{where}: title {p}" for p in page_problems(title, russian=True)]
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            problems.append(f"{where}: the page is {overflow}px wider than a {WIDTH}px screen")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            frontier.add(normalize(page.url, href))
    return visited, problems


@pytest.mark.parametrize("role", ["admin", "operator", "department_head", "manager"])
def test_every_page_as(role, app, browser, live_server):
    load_demo(app)
    context = browser.new_context(locale="ru-RU", viewport={"width": WIDTH, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(live_server.url + "/login")
        page.fill("#email", ROLE_LOGINS[role])
        page.fill("#password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("form.form button[type=submit]")
        assert "/login" not in page.url, f"{role} could not sign in"

        visited, problems = crawl(page, live_server.url)
        assert visited >= 5, f"{role}: only {visited} pages reachable"
        assert not problems, f"{role}, {visited} pages, {len(problems)} problems:\n" + "\n".join(problems)
    finally:
        context.close()
