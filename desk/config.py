"""Settings of the desk, each declared once.

Every setting is a :class:`Setting` in :data:`SETTINGS`: its app-config key, its typed
default and the environment variable that overrides it. ``instance/config.py`` and the
``create_app(config)`` overrides (tests) come on top. Code reads ``app.config[KEY]`` and
never restates a default. The embedded run needs none of them: SQLite in ``instance/``,
an embedded Redis when ``REDIS_URL`` is not set, a secret key generated into
``instance/`` on first run.

Only ``DESK_INSTANCE_PATH`` is read before the config exists (it says where ``instance/``
is); ``SECRET_KEY`` and ``DATABASE_URL`` have defaults that depend on that path.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from .networks import SPECS

DEFAULT_SECRET_SENTINEL = "change-me"  # a production start refuses to run with it


def parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_float(value: str) -> float | None:
    return float(value) if value.strip() else None


def _hours(value: str) -> timedelta:
    return timedelta(hours=float(value))


def _days(value: str) -> timedelta:
    return timedelta(days=float(value))


def _url(value: str) -> str:
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class Setting:
    """One setting: ``key`` in ``app.config``, its ``default``, the environment variable
    ``env`` that overrides it (None: not read from the environment) and how the
    variable's text becomes a value (default: the default's own type)."""

    key: str
    default: Any
    env: str | None = None
    parse: Callable[[str], Any] | None = None
    doc: str = ""

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.env) if self.env else None
        if raw is None:
            return self.default
        if self.parse is not None:
            return self.parse(raw)
        if isinstance(self.default, bool):
            return parse_bool(raw)
        if self.default is None:
            return raw
        return type(self.default)(raw)


def _same(key: str, default: Any, doc: str = "", parse: Callable[[str], Any] | None = None) -> Setting:
    """A setting whose environment variable has the config key's name."""
    return Setting(key, default, key, parse, doc)


SETTINGS: tuple[Setting, ...] = (
    # --- the site --------------------------------------------------------------------
    Setting("ENV_NAME", "development", "DESK_ENV", doc="production: refuses unsafe defaults"),
    _same("REDIS_URL", "", "empty: the embedded Redis (one machine only)"),
    _same("DESK_TIMEZONE", "Asia/Yakutsk", "the city's zone: dates shown, deadlines computed"),
    _same("DESK_PUBLIC_URL", "http://127.0.0.1:5000", "links in e-mails and public status links", _url),
    Setting("BABEL_DEFAULT_LOCALE", "ru", "DESK_LOCALE"),
    _same("QUEUE_PAGE_SIZE", 50),
    _same("DESK_PROXY_HOPS", 0, "reverse proxies in front that set X-Forwarded-* (nginx: 1)"),
    _same("DESK_HOST", "127.0.0.1", "flask serve"),
    _same("DESK_PORT", 5000, "flask serve"),
    _same("OPEN_DATA_CACHE_SECONDS", 300, "how long /open's figures are cached (Redis, browsers); 0: not cached"),
    _same("OPEN311_CONTACT", "", "Open311 discovery's contact; empty: the desk's address"),
    _same("OPEN311_POSTS_PER_MINUTE", 60, "Open311 posts per key and minute; 0: no limit"),
    # --- the web form /report (desk/report_form) -----------------------------------
    _same("REPORT_MIN_FILL_SECONDS", 3.0, "a form sent sooner after it was opened is refused"),
    _same("REPORT_RATE_LIMIT", 5, "appeals per client address within REPORT_RATE_WINDOW_SECONDS"),
    _same("REPORT_RATE_WINDOW_SECONDS", 600),
    _same("REPORT_DAILY_LIMIT", 20, "appeals per client address within a day"),
    _same("REPORT_MAX_PHOTOS", 5),
    _same("REPORT_PHOTO_MAX_BYTES", 8 * 1024 * 1024, "each photo's file"),
    _same("REPORT_PHOTO_MAX_PIXELS", 40_000_000, "each photo's width times height"),
    _same("REPORT_MAX_REQUEST_BYTES", 42 * 1024 * 1024, "the whole form with its photos (413 above)"),
    _same("REPORT_UPLOAD_DIR", "", "empty: instance/uploads/report"),
    _same("REPORT_FRAME_ANCESTORS", "", "origins that may frame /report/embed, space-separated; empty: the desk only"),
    # --- logging in ------------------------------------------------------------------
    # Wrong passwords for one e-mail (from browsers without its device cookie) within the
    # window lock it for such browsers; a client address gets 429 after its own limit.
    _same("LOGIN_MAX_FAILURES", 5),
    _same("LOGIN_LOCK_SECONDS", 300),
    _same("LOGIN_FAILURE_WINDOW_SECONDS", 900),
    _same("LOGIN_CLIENT_MAX_FAILURES", 20),
    _same("LOGIN_CLIENT_WINDOW_SECONDS", 900),
    _same("LOGIN_DEVICE_COOKIE_DAYS", 180, "a browser that signed in is trusted past the e-mail lock"),
    # A server-side session without "remember me" ends after SESSION_LIFETIME; with it,
    # after REMEMBER_COOKIE_DURATION (the remember-me cookie lives as long).
    Setting("SESSION_LIFETIME", timedelta(hours=12), "SESSION_LIFETIME_HOURS", _hours),
    Setting("REMEMBER_COOKIE_DURATION", timedelta(days=14), "REMEMBER_COOKIE_DAYS", _days),
    _same("SESSION_COOKIE_SECURE", False, "on by default in production"),
    Setting("PASSWORD_HASH_METHOD", "", doc="empty: werkzeug's default (tests pick a fast one)"),
    # --- requests --------------------------------------------------------------------
    # Bodies above these sizes get 413 (desk/web_input.py): any request, and a webhook.
    Setting("MAX_CONTENT_LENGTH", 2 * 1024 * 1024, "DESK_MAX_REQUEST_BYTES"),
    _same("WEBHOOK_MAX_BYTES", 1024 * 1024),
    _same("JSON_MAX_DEPTH", 64, "deeper JSON: 400 for the API, a dead letter for a webhook"),
    _same("WEBHOOK_MAX_ATTEMPTS", 5, "a webhook delivery failing this often becomes a dead letter"),
    # --- mail ------------------------------------------------------------------------
    _same("MAIL_SERVER", "", "empty: no mail is sent"),
    _same("MAIL_PORT", 25),
    _same("MAIL_FROM", "desk@localhost"),
    _same("MAIL_USERNAME", ""),
    _same("MAIL_PASSWORD", ""),
    _same("MAIL_USE_TLS", False),
    _same("MAIL_TIMEOUT", 10.0),
    # --- collecting ------------------------------------------------------------------
    _same("COLLECT_INTERVAL_SECONDS", 30, "polling interval per account (an account may set its own)"),
    _same("PUBLICATION_STALE_DAYS", 7, "an account silent this long is flagged"),
    _same("TELEGRAM_HTTP_TIMEOUT", 30.0),
    _same("TELEGRAM_LONG_POLL_SECONDS", 0),
    _same("VK_GROUP_RPS", 20.0, "requests a second with a community token"),
    _same("VK_USER_RPS", 3.0, "requests a second with a user token"),
    _same("VK_RETRY_ATTEMPTS", 5),
    _same("VK_RETRY_BASE_DELAY", 0.5),
    _same("VK_LONG_POLL_WAIT", 25),
    _same("VK_NAME_TTL", 7 * 24 * 3600, "seconds a resident's VK name is cached"),
    _same("VK_MENTIONS_LOOKBACK_HOURS", 24.0),
    _same("MAX_HTTP_TIMEOUT", None, "empty: the client's default", _optional_float),
    _same("MAX_POLL_LIMIT", 100),
    _same("MAX_POLL_TIMEOUT", 0),
    _same("OK_HTTP_TIMEOUT", None, "empty: the client's default", _optional_float),
    _same("OK_RECENT_TOPICS", 20, "topics listed on each refresh"),
    _same("OK_TOPICS_REFRESH_SECONDS", 300),
    _same("OK_PAGE_SIZE", 100),
    _same("SNAPSHOT_RETRY_ATTEMPTS", 4),
    _same("SNAPSHOT_RETRY_BASE_DELAY", 1.0),
    # --- posting (the outbox engine: replies and announcements) ----------------------
    _same("REPLY_HTTP_TIMEOUT", 10.0),
    _same("REPLY_BACKOFF_BASE", 2.0),
    _same("REPLY_BACKOFF_MAX", 300.0),
    _same("REPLY_MAX_ATTEMPTS", 8),
    _same("REPLY_LEASE_SECONDS", None, "empty: twice REPLY_HTTP_TIMEOUT plus 30 s", _optional_float),
    _same("REPLY_RATE_WINDOW_SCALE", 1.0, "benches shrink the networks' rate windows"),
    _same("CROSSPOST_BACKOFF_BASE", 2.0),
    _same("CROSSPOST_BACKOFF_MAX", 300.0),
    _same("CROSSPOST_MAX_ATTEMPTS", 8),
    _same("CROSSPOST_LEASE_SECONDS", None, "empty: twice REPLY_HTTP_TIMEOUT plus 30 s", _optional_float),
    # --- each network's API base (the specs in desk/networks declare the defaults) ---
    *(_same(spec.api_base_setting, spec.api_base_default, "tests point it at a fake", _url)
      for spec in SPECS.values()),
    # --- each network's reply length (from its spec; instance config or tests may lower it)
    *(Setting(f"REPLY_LIMIT_{key.upper()}", spec.reply_limit) for key, spec in SPECS.items()),
)

#: each network's API base setting and its default, from the network specs
NETWORK_API_DEFAULTS = {spec.api_base_setting: spec.api_base_default for spec in SPECS.values()}


def load_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, else from ``instance/secret_key``
    (created with a random value on first run)."""
    env = os.environ.get("SECRET_KEY")
    if env:
        return env
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def from_environment(instance_path: str, environ: Mapping[str, str] | None = None) -> dict:
    """The configuration mapping: every declared setting from the environment, plus
    the fixed Flask settings and the two that depend on the instance path."""
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {setting.key: setting.read(env) for setting in SETTINGS}
    sqlite_path = Path(instance_path) / "desk.sqlite3"
    config.update({
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", f"sqlite:///{sqlite_path}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_TIMEZONE": config["DESK_TIMEZONE"],
        "LANGUAGES": ["ru", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RQ_QUEUES": ["default"],
    })
    if config["ENV_NAME"] == "production" and env.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    return config


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse to start in production with an unsafe secret or without real services."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_SENTINEL or len(key) < 32 or not os.environ.get("SECRET_KEY"):
        raise RuntimeError(
            "Refusing to start in production: set SECRET_KEY in the environment "
            "to a random value of at least 32 characters."
        )
    if not config.get("REDIS_URL"):
        raise RuntimeError("Refusing to start in production without REDIS_URL (the embedded Redis is for "
                           "a single machine's trial run).")
