"""A Chromium tab that fails its test on a script error or a CSP violation."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def watched_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A page in a fresh browser context (``context_options``: viewport, locale …);
    after the test, no script errors and no Content-Security-Policy violations."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert errors == []  # no script errors and no CSP violations
