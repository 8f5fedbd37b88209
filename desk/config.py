"""Settings of the desk.

Every setting comes from the environment (or ``instance/config.py``) with a safe
default for the embedded run: SQLite in ``instance/``, an embedded Redis when
``REDIS_URL`` is not set, and a secret key generated into ``instance/`` on first run.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

DEFAULT_SECRET_SENTINEL = "change-me"  # a production start refuses to run with it

NETWORK_API_DEFAULTS = {
    "TELEGRAM_API_BASE": "https://api.telegram.org",
    "VK_API_BASE": "https://api.vk.com",
    "MAX_API_BASE": "https://platform-api2.max.ru",
    "OK_API_BASE": "https://api.ok.ru",
}


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from the environment."""
    env = os.environ
    sqlite_path = Path(instance_path) / "desk.sqlite3"
    config = {
        "ENV_NAME": env.get("DESK_ENV", "development"),
        "SECRET_KEY": load_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", f"sqlite:///{sqlite_path}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL", ""),
        "DESK_TIMEZONE": env.get("DESK_TIMEZONE", "Asia/Yakutsk"),
        "DESK_PUBLIC_URL": env.get("DESK_PUBLIC_URL", "http://127.0.0.1:5000"),
        "BABEL_DEFAULT_LOCALE": env.get("DESK_LOCALE", "ru"),
        "BABEL_DEFAULT_TIMEZONE": env.get("DESK_TIMEZONE", "Asia/Yakutsk"),
        "LANGUAGES": ["ru", "en"],
        "QUEUE_PAGE_SIZE": int(env.get("QUEUE_PAGE_SIZE", "50")),
        # Wrong passwords for one e-mail (from browsers without its device cookie) within
        # LOGIN_FAILURE_WINDOW_SECONDS lock it for such browsers for LOGIN_LOCK_SECONDS.
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_SECONDS": int(env.get("LOGIN_LOCK_SECONDS", "300")),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env.get("LOGIN_FAILURE_WINDOW_SECONDS", "900")),
        # Wrong passwords from one client address (any e-mail) before it gets 429.
        "LOGIN_CLIENT_MAX_FAILURES": int(env.get("LOGIN_CLIENT_MAX_FAILURES", "20")),
        "LOGIN_CLIENT_WINDOW_SECONDS": int(env.get("LOGIN_CLIENT_WINDOW_SECONDS", "900")),
        # A browser that logged in successfully keeps a signed device cookie this long; with
        # it, its owner is not held by the locks an attacker triggers.
        "LOGIN_DEVICE_COOKIE_DAYS": int(env.get("LOGIN_DEVICE_COOKIE_DAYS", "180")),
        # A server-side session without "remember me" ends after this; with it, after
        # REMEMBER_COOKIE_DURATION (the remember-me cookie lives as long).
        "SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_LIFETIME_HOURS", "12"))),
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(env.get("REMEMBER_COOKIE_DAYS", "14"))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Request bodies above these sizes are refused with 413 (desk/web_input.py): any
        # request, and a network's webhook delivery under /hooks/.
        "MAX_CONTENT_LENGTH": int(env.get("DESK_MAX_REQUEST_BYTES", str(2 * 1024 * 1024))),
        "WEBHOOK_MAX_BYTES": int(env.get("WEBHOOK_MAX_BYTES", str(1024 * 1024))),
        # JSON nested deeper than this is not read (400 for the API, a dead letter for a webhook).
        "JSON_MAX_DEPTH": int(env.get("JSON_MAX_DEPTH", "64")),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_FROM": env.get("MAIL_FROM", "desk@localhost"),
        "RQ_QUEUES": ["default"],
        # A webhook delivery whose processing failed this many times becomes a dead letter.
        "WEBHOOK_MAX_ATTEMPTS": int(env.get("WEBHOOK_MAX_ATTEMPTS", "5")),
        # Reverse proxies in front of the desk that set X-Forwarded-For/-Proto (nginx: 1).
        # 0 trusts no header: the client address is the peer's (login throttling counts it).
        "DESK_PROXY_HOPS": int(env.get("DESK_PROXY_HOPS", "0")),
    }
    for key, default in NETWORK_API_DEFAULTS.items():
        config[key] = env.get(key, default).rstrip("/")
    if config["ENV_NAME"] == "production":
        config["SESSION_COOKIE_SECURE"] = _bool(env.get("SESSION_COOKIE_SECURE"), True)
        config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    return config


def check_production(config: dict) -> None:
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
