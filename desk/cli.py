"""Command-line interface: every subsystem registers its own commands here."""
from __future__ import annotations

import importlib

from flask import Flask

# Modules with an ``init_cli(app)`` function.
COMMAND_MODULES = [
    "desk.auth.cli",
    "desk.worker_cli",
    "desk.demo.cli",
    "desk.serve_cli",
    "desk.sla.cli",
    "desk.collect_cli",
    "desk.accounts_cli",
    "desk.org_cli",
    "desk.registry.cli",
    "desk.open311.cli",
]


def init_cli(app: Flask) -> None:
    for dotted in COMMAND_MODULES:
        importlib.import_module(dotted).init_cli(app)
