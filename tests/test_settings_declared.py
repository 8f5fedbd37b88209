"""Every setting is declared once (desk/config.py) and every variable the README documents
is really read from the environment: set it, and the app's config changes."""
from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from desk.config import SETTINGS, from_environment

ROOT = Path(__file__).resolve().parent.parent
#: variables read outside the declared settings, each for a reason the config module states
SPECIAL = {"DATABASE_URL", "SECRET_KEY", "DESK_INSTANCE_PATH"}


def readme_variables() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| variable | default |"):]
    table = table[:table.index("\n\n")]
    names: list[str] = []
    for row in table.splitlines()[2:]:
        names += re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    return names


def sample_text(setting) -> str:
    """A value for the variable that differs from the default and parses."""
    default = setting.default
    if isinstance(default, bool):
        return "0" if default else "1"
    if isinstance(default, int | float):
        return str(default + 7)
    if default is None:  # optional numbers: empty means "computed" or "the client's default"
        return "12"
    if isinstance(default, timedelta):
        return "3"
    if setting.key.endswith("_URL") or setting.key.endswith("_API_BASE"):
        return "http://127.0.0.1:9/elsewhere"
    if setting.key == "DESK_TIMEZONE":
        return "Europe/Moscow"
    return "some-value"


def test_the_readme_documents_only_declared_variables_and_the_special_ones():
    declared = {s.env for s in SETTINGS if s.env}
    documented = readme_variables()
    assert len(documented) > 30
    assert [v for v in documented if v not in declared | SPECIAL] == []


def test_every_declared_variable_is_documented():
    documented = set(readme_variables())
    assert [s.env for s in SETTINGS if s.env and s.env not in documented] == []


@pytest.mark.parametrize("variable", readme_variables())
def test_each_documented_variable_round_trips(variable, tmp_path, monkeypatch):
    if variable in SPECIAL:
        pytest.skip("read where the config module says, not through SETTINGS")
    [setting] = [s for s in SETTINGS if s.env == variable]
    text = sample_text(setting)
    monkeypatch.setenv(variable, text)
    value = from_environment(str(tmp_path))[setting.key]
    assert value != setting.default and value == setting.read({variable: text})


def test_database_url_and_secret_key_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    config = from_environment(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db" and config["SECRET_KEY"] == "k" * 40


def test_keys_are_declared_once():
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))


def test_no_module_reads_the_environment_or_restates_a_default():
    """Settings are read as ``config["KEY"]``: ``os.environ`` only in desk/config.py (and
    desk/__init__.py for DESK_INSTANCE_PATH, desk/serve_cli.py for its child processes)."""
    found = subprocess.run(["grep", "-rnE", r"os\.environ|getenv|config\.get\(\"[A-Z_]+\", ", "desk", "workers",
                            "--include=*.py"], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    allowed = ("desk/config.py:", "desk/__init__.py:", "desk/serve_cli.py:")
    assert [line for line in found if not line.startswith(allowed)] == []
