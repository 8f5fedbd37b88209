"""Settings: safe embedded defaults, and a production start that refuses unsafe ones."""
from __future__ import annotations

import pytest

from desk import create_app
from desk.config import from_environment


def test_embedded_defaults(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DESK_TIMEZONE", "DESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/desk.sqlite3"
    assert config["REDIS_URL"] == ""  # the embedded Redis is started on demand
    assert config["DESK_TIMEZONE"] == "Asia/Yakutsk"
    assert config["TELEGRAM_API_BASE"] == "https://api.telegram.org"
    # A secret key is generated once into instance/ and reused.
    assert (tmp_path / "secret_key").read_text() == config["SECRET_KEY"]
    assert from_environment(str(tmp_path))["SECRET_KEY"] == config["SECRET_KEY"]
    assert len(config["SECRET_KEY"]) >= 32


def test_network_api_bases_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VK_API_BASE", "http://127.0.0.1:8081/")
    assert from_environment(str(tmp_path))["VK_API_BASE"] == "http://127.0.0.1:8081"


@pytest.mark.parametrize("secret", [None, "change-me", "short"])
def test_production_refuses_a_default_or_weak_secret(tmp_path, monkeypatch, secret):
    monkeypatch.setenv("DESK_ENV", "production")
    monkeypatch.setenv("DESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)  # only the generated instance key
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_starts_with_a_real_secret_and_sets_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("DESK_ENV", "production")
    monkeypatch.setenv("DESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_run_without_redis(tmp_path, monkeypatch):
    monkeypatch.setenv("DESK_ENV", "production")
    monkeypatch.setenv("DESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(app):
    from desk import create_app

    seen = {}
    for hops in (0, 1):
        proxied = create_app({**app.config, "DESK_PROXY_HOPS": hops})

        @proxied.get("/_peer")
        def peer():
            from flask import request

            return request.remote_addr or ""

        answer = proxied.test_client().get("/_peer", headers={"X-Forwarded-For": "203.0.113.7"},
                                           environ_base={"REMOTE_ADDR": "10.0.0.2"})
        seen[hops] = answer.get_data(as_text=True)
    assert seen == {0: "10.0.0.2", 1: "203.0.113.7"}
