"""A network is one spec: every platform has a complete one, and every credential has one
name that the admin form writes and the collector, sender and webhook read."""
from __future__ import annotations

import importlib
import re
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest

from desk import labels
from desk.config import NETWORK_API_DEFAULTS, from_environment
from desk.extensions import db
from desk.models import DIRECT_PLATFORMS, Account, Platform
from desk.networks import SPECS, NetworkSpec, UnknownNetwork, credential, platforms, resolve, spec_for
from desk.replies import senders

from .test_admin import admin, page, post_form  # noqa: F401 — admin is a fixture

NETWORKS = [p for p in Platform if p.value not in DIRECT_PLATFORMS]
BEHAVIOUR = ("webhook", "sender", "rate_windows", "echo", "counter", "publisher")
ROOT = Path(__file__).resolve().parent.parent


# --- completeness ----------------------------------------------------------------------------

def test_every_platform_but_web_has_a_spec_under_its_own_key():
    assert list(SPECS) == [p.value for p in NETWORKS]
    for key, spec in SPECS.items():
        assert isinstance(spec, NetworkSpec) and spec.platform.value == key == spec.key
        assert importlib.import_module(f"desk.networks.{key}").SPEC is spec
    with pytest.raises(UnknownNetwork, match="'web'"):
        spec_for("web")
    assert spec_for(Platform.VK) is SPECS["vk"]


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS)
def test_a_spec_is_complete(spec: NetworkSpec):
    # Nothing is left out silently: each None says why, and only None fields have a reason.
    assert set(spec.absent) == set(spec.none_fields()), spec.key
    assert all(isinstance(why, str) and why.strip() for why in spec.absent.values())
    assert spec.none_fields() == [] or set(spec.none_fields()) <= set(BEHAVIOUR) | {"reply_limit", "replies"}
    assert str(spec.label).strip()
    assert re.fullmatch(r"[A-Z]+_API_BASE", spec.api_base_setting)
    assert spec.api_base_default.startswith("https://") and not spec.api_base_default.endswith("/")
    assert isinstance(spec.deduped, bool)
    assert spec.reply_limit is None or spec.reply_limit > 0
    # Posted by the outbox needs a sender and its rate windows; by a person, neither.
    assert spec.replies in ("automatic", "manual", None)
    assert (spec.replies == "automatic") == (spec.sender is not None) == (spec.rate_windows is not None)
    assert spec.echo is None or spec.sender is not None  # only what we send can come back
    assert spec.publishes == (spec.publisher is not None)


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS)
def test_a_spec_names_one_vocabulary_of_account_fields(spec: NetworkSpec):
    setting_keys = [f.key for f in spec.settings]
    secret_keys = [f.key for f in spec.credentials]
    legacy = [k for f in spec.credentials for k in f.legacy_keys]
    assert len(set(setting_keys)) == len(setting_keys) and len(set(secret_keys)) == len(secret_keys)
    assert not set(setting_keys) & set(secret_keys)
    # An old name never shadows a current one, and names one secret only.
    assert len(set(legacy)) == len(legacy) and not set(legacy) & (set(secret_keys) | set(setting_keys))
    assert all(str(f.label).strip() for f in (*spec.settings, *spec.credentials))
    assert set(spec.required_on_import) <= set(setting_keys) | set(secret_keys) | spec.integer_settings
    for f in spec.credentials:
        assert spec.canonical_credential(f.key) == f.key
        assert all(spec.canonical_credential(old) == f.key for old in f.legacy_keys)
    with pytest.raises(KeyError):
        spec.credential({}, "no_such_secret")


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS)
def test_what_a_spec_names_exists(app, spec: NetworkSpec):
    assert spec.collector.startswith("workers.collectors.") and importlib.import_module(spec.collector)
    # Normalisation lives in desk, with the network's payload helpers (and its echo parser).
    assert spec.normaliser == f"desk.channels.{spec.key}_events.normalize" and callable(spec.load("normaliser"))
    assert spec.echo is None or spec.echo.startswith(f"desk.channels.{spec.key}_events.")
    for name in BEHAVIOUR:
        dotted = getattr(spec, name)
        if dotted is not None:
            assert callable(spec.load(name)), f"{spec.key}.{name}: {dotted}"
    if spec.webhook:  # registered on the hooks blueprint
        assert app.view_functions[f"hooks.{spec.webhook.rpartition('.')[2]}"] is resolve(spec.webhook)
    if spec.counter:
        assert spec.counter.startswith("workers.stats.")
    # desk never imports workers: what lives there is named, not imported.
    assert not any(getattr(spec, name, "") and getattr(spec, name).startswith("workers.")
                   for name in ("webhook", "normaliser", "sender", "rate_windows", "echo", "publisher"))


def test_labels_and_api_settings_cover_every_platform(app, tmp_path):
    with app.test_request_context():
        for platform in Platform:  # web too: a source without a network
            assert platform.value in labels.PLATFORM and labels.label("platform", platform.value).strip()
        assert labels.label("platform", "vk") == "ВКонтакте"  # the spec's label is translated
    config = from_environment(str(tmp_path))
    for spec in SPECS.values():
        assert spec.api_base_setting in app.config
        assert config[spec.api_base_setting] == NETWORK_API_DEFAULTS[spec.api_base_setting] == spec.api_base_default


def test_tables_keyed_by_platform_are_read_from_the_specs():
    from desk.accounts_import import NETWORKS as IMPORTABLE
    from desk.registry.crosspost import PLATFORMS as PUBLISHED
    from desk.registry.snapshots import COUNTED_PLATFORMS
    from desk.replies.text import LIMITS

    assert tuple(SPECS) == IMPORTABLE == COUNTED_PLATFORMS
    assert platforms(publishes=True) == PUBLISHED == ("telegram", "vk", "max")
    assert LIMITS == {"telegram": 4096, "vk": 16384, "max": 4000, "ok": 4096}
    assert platforms(replies="manual") == ("ok",) and platforms(deduped=True) == ("vk",)


def test_desk_imports_nothing_from_workers():
    offending = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "desk").rglob("*.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.match(r"\s*(from|import)\s+workers\b", line)]
    assert offending == []


# --- one credential vocabulary ---------------------------------------------------------------

#: a value for every credential, and what the collector and the sender then use
TYPED = {
    "telegram": {"bot_token": "123456:AAE-form-bot-token", "webhook_secret": "tg_hook"},
    "vk": {"group_token": "vk-group-token", "service_token": "vk-service-token", "user_token": "vk-user-token",
           "callback_secret": "vk-callback", "confirmation_code": "c0nf1rm"},
    "max": {"bot_token": "max-bot-token", "webhook_secret": "max_hook"},
    "ok": {"access_token": "ok-access-token", "application_secret": "ok-app-secret", "webhook_token": "ok-hook"},
}
SETTINGS = {"telegram": {"channel_id": "-1001111111111"}, "vk": {"group_id": "77"},
            "max": {"chat_id": "-555"}, "ok": {"group_id": "5512", "application_key": "CBAKEY"}}


def _collector_reads(account: Account, config) -> dict[str, str]:
    """The secrets the network's collector actually puts on the wire."""
    module = importlib.import_module(spec_for(account.platform).collector)
    if account.platform == "telegram":
        return {"bot_token": module.client_for(account, config).token}
    if account.platform == "vk":
        return {"group_token": module.client_for(account, config, "group")._token,
                "service_token": module.client_for(account, config, "service")._token}
    if account.platform == "max":
        with module.client_for(account, config) as client:
            return {"bot_token": client.transport.client.headers["Authorization"]}
    with module.client_for(account, config) as client:
        return {"access_token": client._token, "application_secret": client._secret}


def _sender_reads(account: Account) -> dict[str, str]:
    if spec_for(account.platform).sender is None:
        return {}
    delivery = SimpleNamespace(account=account, platform=account.platform)
    names = {"telegram": ["bot_token"], "vk": ["group_token", "user_token"], "max": ["bot_token"]}
    return {name: senders._token(delivery, name) for name in names[account.platform]}


def _form(platform: str, name: str, secrets: dict[str, str]) -> dict:
    data = {"name": name, "direction": "authorities", "department": 0, "is_active": "y"}
    data.update({f"setting_{k}": v for k, v in SETTINGS[platform].items()})
    data.update({f"secret_{k}": v for k, v in secrets.items()})
    return data


@pytest.mark.parametrize("platform", list(SPECS))
def test_an_account_saved_through_the_admin_form_is_read_by_collector_sender_and_webhook(
        app, client, admin, platform):  # noqa: F811
    spec = spec_for(platform)
    assert set(TYPED[platform]) == {f.key for f in spec.credentials}  # the form has a field for each
    response = post_form(client, f"/admin/accounts/new/{platform}", _form(platform, "Мэрия", TYPED[platform]))
    assert response.status_code == 302, response.get_data(as_text=True)
    account = db.session.scalars(db.select(Account).where(Account.platform == platform)).one()
    assert account.get_credentials() == TYPED[platform]  # stored under the spec's names only
    for key, value in TYPED[platform].items():
        assert credential(account, key) == value
    for key, value in {**_collector_reads(account, app.config), **_sender_reads(account)}.items():
        assert value == TYPED[platform][key], f"{platform} reads {key}"


LEGACY = {"vk": ("access_token", "group_token"), "max": ("access_token", "bot_token"),
          "ok": ("application_secret_key", "application_secret")}


@pytest.mark.parametrize("platform", list(LEGACY))
def test_an_account_saved_by_the_old_form_keeps_working_and_moves_to_the_new_name(
        app, client, admin, make, platform):  # noqa: F811
    old, new = LEGACY[platform]
    secrets = {**{k: v for k, v in TYPED[platform].items() if k != new}, old: TYPED[platform][new]}
    account = make.account(platform, "authorities", name="Старый", settings=SETTINGS[platform], credentials=secrets)
    assert credential(account, new) == TYPED[platform][new]
    assert {**_collector_reads(account, app.config), **_sender_reads(account)}.get(new) == TYPED[platform][new]
    html, _ = page(client, f"/admin/accounts/{account.id}")
    assert TYPED[platform][new] not in html

    # Saving without typing the secret again keeps it, under the spec's name.
    response = post_form(client, f"/admin/accounts/{account.id}", _form(platform, "Старый", {}))
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Account, account.id).get_credentials()
    assert stored == TYPED[platform]


def test_clearing_a_secret_removes_its_old_name_too(client, admin, make):  # noqa: F811
    account = make.account("vk", "authorities", name="Спорт", settings={"group_id": "77"},
                           credentials={"access_token": "old-group-token", "user_token": "u"})
    data = {**_form("vk", "Спорт", {}), "clear_group_token": "y"}
    assert post_form(client, f"/admin/accounts/{account.id}", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).get_credentials() == {"user_token": "u"}


def test_the_import_stores_an_old_secret_name_under_the_spec_name(app):
    from desk.accounts_import import import_row

    status, account = import_row({"platform": "vk", "name": "Школа", "direction": "education",
                                  "vk": {"group_id": "77", "access_token": "imported"}})
    assert status == "created" and account.get_credentials() == {"group_token": "imported"}
    status, account = import_row({"platform": "ok", "name": "Клуб", "direction": "culture",
                                  "ok": {"group_id": "5", "application_secret_key": "s", "access_token": "t"}})
    assert account.get_credentials() == {"application_secret": "s", "access_token": "t"}
    db.session.rollback()


def test_the_spec_fields_are_all_declared_by_keyword():
    # A new field of NetworkSpec without a default makes every network say something about it.
    required = [f.name for f in fields(NetworkSpec) if f.name != "absent"]
    assert all(f.kw_only for f in fields(NetworkSpec))
    assert "publisher" in required and "counter" in required
