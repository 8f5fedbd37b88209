"""What the Telegram and VK corpus tests share: a test per (case, path) and one case's run."""
from __future__ import annotations

from typing import Callable

import pytest

from .corpus_support import Case, check, snapshot


def case_params(cases: list[Case]) -> list:
    return [pytest.param(case, path, id=f"{case.name}-{path}") for case in cases for path in case.paths]


def run_case(case: Case, deliver: Callable[[list[dict]], None]) -> None:
    """Deliver the case's ``before`` updates, then its updates, and check the change."""
    if case.before:
        deliver(case.before)
    before = snapshot()
    deliver(case.updates)
    check(case, before, snapshot())
