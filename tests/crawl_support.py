"""Crawling the desk as a signed-in user: which links to follow and what a page must not show.

Shared by the browser crawl (tests/e2e/test_every_page.py) and the plain-HTTP one
(tests/test_every_page_http.py).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from desk.demo import data as demo_data

MAX_PAGES = 80
PER_SHAPE = 2  # pages per route shape (/tickets/<n>, /queue?status=…): coverage, not volume
PER_PATH = 4  # pages per path shape whatever the query (reports have many filter links)

# The demo's logins, one per role (a department head sees only their department).
ROLE_LOGINS = {
    role: email for email, _name, role, _dept in demo_data.DEMO_LOGINS
    if role in ("admin", "operator", "department_head", "manager")
}

# Links never followed: they sign out, switch the language, download files or are not pages.
SKIP = re.compile(
    r"(logout|/lang/|export|download|\.csv|\.xlsx|\.png|\.svg|\.json|/static/|/api/|"
    r"/qr|widget)", re.I)


def load_demo(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--tickets", "200", "--quiet"])
    assert result.exit_code == 0, result.output
    if "demo-registry" in app.cli.list_commands(None) or "demo-registry" in app.cli.commands:
        result = runner.invoke(args=["demo-registry"])
        assert result.exit_code == 0, result.output


def normalize(base: str, href: str) -> str | None:
    """The same-site path + query to visit for ``href``, or None to skip it."""
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    absolute = urljoin(base, href)
    parts, origin = urlsplit(absolute), urlsplit(base)
    if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if SKIP.search(path):
        return None
    return path


def shape(path: str) -> str:
    """A route's shape: numbers become <n>, the query keeps its keys but not the values."""
    parts = urlsplit(path)
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)} - {"page"})
    page = dict(parse_qsl(parts.query)).get("page")
    base = re.sub(r"\d+", "<n>", parts.path)
    # Later pages of a list are the same page: only its first one is crawled.
    return base + ("?" + urlencode([(k, "") for k in keys]) if keys else "") + ("#later" if page not in (None, "1") else "")


class Frontier:
    """Breadth-first queue of paths, bounded per route shape and in total."""

    def __init__(self, limit: int = MAX_PAGES):
        self.limit = limit
        self.queued: list[str] = []
        self.seen: set[str] = set()
        self.shapes: dict[str, int] = {}
        self.paths: dict[str, int] = {}

    def add(self, path: str | None) -> None:
        if path is None or path in self.seen:
            return
        key = shape(path)
        base = key.split("?")[0].split("#")[0]
        if key.endswith("#later") or self.shapes.get(key, 0) >= PER_SHAPE:
            return
        if self.paths.get(base, 0) >= PER_PATH or len(self.seen) >= self.limit:
            return
        self.seen.add(path)
        self.shapes[key] = self.shapes.get(key, 0) + 1
        self.paths[base] = self.paths.get(base, 0) + 1
        self.queued.append(path)

    def pop(self) -> str | None:
        return self.queued.pop(0) if self.queued else None


# --- what a Russian page must not show ---------------------------------------------------

# Words that stay in Latin letters in Russian: networks, file formats, acronyms, brands.
ALLOWED_WORDS = {
    "telegram", "max", "vk", "ok", "vkontakte", "odnoklassniki", "csv", "xlsx", "svg", "png",
    "api", "qr", "ru", "en", "id", "url", "http", "https", "json", "openapi", "sla", "utc",
    "excel", "callback", "webhook", "bot", "token", "e-mail", "email", "rq", "redis",
    "asia/yakutsk", "pdf", "html", "iframe",
    "flask",  # a command an administrator runs ("flask departments import ФАЙЛ")
}
_LATIN_WORD = re.compile(r"^[A-Za-z][A-Za-z'’-]*$")
_STRIP = "\"'«»()[].,:;!?…—–·|*"  # not braces: "{name}" is a placeholder, not a word
ENGLISH_RUN = 3


def _is_english_word(token: str) -> bool:
    word = token.strip(_STRIP)
    if not word or not _LATIN_WORD.match(word):
        return False  # e-mails, URLs, ids, handles with digits or underscores, Cyrillic
    return word.lower() not in ALLOWED_WORDS


def english_runs(text: str) -> list[str]:
    """Runs of ``ENGLISH_RUN`` or more consecutive English words, per line of visible text."""
    runs = []
    for line in re.split(r"[\n\t\r]+", text):
        if re.search(r"https?://|www\.", line):
            line = re.sub(r"\S*(https?://|www\.)\S*", " | ", line)
        run: list[str] = []
        for token in line.split():
            if _is_english_word(token):
                run.append(token)
                continue
            if len(run) >= ENGLISH_RUN:
                runs.append(" ".join(run))
            run = []
        if len(run) >= ENGLISH_RUN:
            runs.append(" ".join(run))
    return runs


DEBRIS = re.compile(r"\{\{|\}\}|\{%|%\}|\bNone\b|\bundefined\b|\bNaN\b|\[object Object\]")


def debris(text: str) -> list[str]:
    """Template leftovers and Python/JS nothing-values shown to the user, with context."""
    found = []
    for match in DEBRIS.finditer(text):
        start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
        found.append(text[start:end].replace("\n", " ⏎ "))
    return found


# Emoji and other supplementary-plane pictographs: a city PC's fonts show them as boxes.
PICTOGRAPH = re.compile("[\U0001F000-\U0001FAFF]")


def page_problems(text: str, russian: bool = True) -> list[str]:
    problems = [f"shows {snippet!r}" for snippet in debris(text)]
    problems += [f"shows the pictograph {m.group()!r} (U+{ord(m.group()):X}), a box without an emoji font"
                 for m in PICTOGRAPH.finditer(text)]
    if russian:
        problems += [f"English text {run!r}" for run in english_runs(text)]
    return problems
