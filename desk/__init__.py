"""The city's appeals desk: ``create_app`` builds the Flask application."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import config as desk_config
from .extensions import babel, csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Feature packages whose ``views.bp`` blueprint is registered, in this order.
BLUEPRINTS = [
    "desk.auth.views",
    "desk.triage.views",
    "desk.inbox.views",
    "desk.overview.views",
    "desk.admin.views",
    "desk.api.views",
    "desk.hooks.views",
    "desk.tickets.views",
    "desk.sla.views",
    "desk.notify.views",
    "desk.collectors_admin.views",
    "desk.replies.views",
    "desk.reports.views",
    "desk.registry.views",
    "desk.status_page.views",
    "desk.open_data.views",
    "desk.report_form.views",
    "desk.intake.views",
    "desk.open311.views",
    "desk.open311.admin",
]


def create_app(config: dict | None = None) -> Flask:
    """Application factory; ``config`` overrides (tests pass their database here)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("DESK_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    register_config(app, config)
    register_web_input(app)  # before any blueprint: the app's ``int`` converter is bounded
    register_extensions(app)
    register_i18n(app)
    register_blueprints(app)
    register_security(app)
    register_templates(app)
    register_cli(app)
    from .sla import init_sla
    init_sla(app)  # deadlines follow the ticket signals; the notification bell
    return app


def register_config(app: Flask, overrides: dict | None) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(desk_config.from_environment(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if overrides:
        app.config.update(overrides)
    desk_config.check_production(app.config)


def register_web_input(app: Flask) -> None:
    from .sessionless import init_sessionless
    from .web_input import init_web_input

    init_web_input(app)
    init_sessionless(app)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)
    from .auth.login import init_login

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    init_login(app, login_manager)
    from .db_setup import init_db_events

    init_db_events(app)


def register_i18n(app: Flask) -> None:
    from .i18n import init_i18n

    init_i18n(app, babel)


def register_blueprints(app: Flask) -> None:
    import importlib

    for dotted in BLUEPRINTS:
        module = importlib.import_module(dotted)
        app.register_blueprint(module.bp)
        if dotted in ("desk.api.views", "desk.hooks.views", "desk.intake.views", "desk.open311.views"):
            csrf.exempt(module.bp)  # token- or secret-authenticated, no cookies


def register_security(app: Flask) -> None:
    from .security import init_security

    init_security(app)


def register_templates(app: Flask) -> None:
    from .templating import init_templates

    init_templates(app)


def register_cli(app: Flask) -> None:
    from .cli import init_cli

    init_cli(app)
