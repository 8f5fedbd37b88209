"""The public directory, QR codes and widget; growth and publication figures for managers."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
import zxingcpp
from PIL import Image

from desk.extensions import db
from desk.models import Post, utcnow
from desk.registry.growth import growth_report
from desk.registry.publications import publication_report

from .registry_support import plain, snap


def _row(html: str, attr: str, value) -> str:
    match = re.search(rf'<tr {attr}="{value}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {attr}={value}"
    return plain(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))))


@pytest.fixture
def city(make):
    housing = make.department("ЖКХ")
    accounts = {
        "tg": make.account("telegram", "housing", "Управление ЖКХ", department=housing),
        "vk": make.account("vk", "housing", "Водоканал"),
        "max": make.account("max", "sport", "Стадион «Амур»"),
        "ok": make.account("ok", "education", "Детский сад"),
        "closed": make.account("vk", "housing", "Закрытый аккаунт"),
    }
    accounts["tg"].link = "https://t.me/belogorsk_zhkh"
    accounts["ok"].link = ""
    accounts["closed"].is_active = False
    db.session.commit()
    snap(accounts["tg"], {29: 1000, 10: 1100, 0: 1200})
    snap(accounts["vk"], {1: 500})
    snap(accounts["closed"], {0: 9999})
    return accounts


def test_directory_groups_active_accounts_with_counts_trends_and_totals(client, city):
    html = client.get("/accounts").get_data(as_text=True)
    text = plain(html)
    assert "Закрытый аккаунт" not in html
    assert re.search(r'data-test="overall">[^<]*\b4\b[^<]*\b1 700\b', text)  # Russian digit grouping
    housing = re.search(r'data-direction="housing".*?</section>', html, re.S).group(0)
    assert "1 700" in plain(housing)
    tg = _row(html, "data-account", city["tg"].id)
    assert "1 200" in tg and "+200" in tg and "ЖКХ" in tg and "Telegram" in tg
    assert "500" in _row(html, "data-account", city["vk"].id)
    assert "—" in _row(html, "data-account", city["max"].id)  # never counted: no number, not 0
    assert 'href="https://t.me/belogorsk_zhkh"' in html
    # the trend is drawn: the three counts of 30 days make one line broken by gaps into dots
    assert html.count('data-test="sparkline"') == 4


def test_directory_filters_by_network_and_direction(client, city):
    vk = client.get("/accounts?network=vk").get_data(as_text=True)
    assert "Водоканал" in vk and "Управление ЖКХ" not in vk and "Стадион" not in vk
    sport = client.get("/accounts?direction=sport").get_data(as_text=True)
    assert "Стадион" in sport and "Водоканал" not in sport
    junk = client.get("/accounts?network=fax&direction=<script>").get_data(as_text=True)
    assert "Водоканал" in junk and "Стадион" in junk and "<script>" not in junk


def test_qr_png_decodes_back_to_the_account_link(client, city):
    response = client.get(f"/accounts/{city['tg'].id}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [code.text for code in decoded] == ["https://t.me/belogorsk_zhkh"]
    svg = client.get(f"/accounts/{city['tg'].id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_qr_only_for_active_accounts_with_a_link(client, city):
    assert client.get(f"/accounts/{city['ok'].id}/qr.svg").status_code == 404
    assert client.get(f"/accounts/{city['closed'].id}/qr.png").status_code == 404
    assert client.get("/accounts/999999/qr.png").status_code == 404


def test_qr_sheet_lists_one_direction(client, city):
    chooser = client.get("/accounts/qr-sheet").get_data(as_text=True)
    assert 'href="/accounts/qr-sheet?direction=housing"' in chooser
    sheet = client.get("/accounts/qr-sheet?direction=housing").get_data(as_text=True)
    assert f'/accounts/{city["tg"].id}/qr.svg' in sheet and f'/accounts/{city["vk"].id}/qr.svg' in sheet
    assert "Стадион" not in sheet and "Закрытый" not in sheet


def test_only_the_widget_may_be_framed_elsewhere(client, city):
    widget = client.get("/accounts/widget?direction=housing")
    assert "frame-ancestors *" in widget.headers["Content-Security-Policy"]
    assert widget.headers["X-Frame-Options"] != "SAMEORIGIN"
    assert "Водоканал" in widget.get_data(as_text=True) and "Стадион" not in widget.get_data(as_text=True)
    page = client.get("/accounts")
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"


# --- growth ------------------------------------------------------------------------------------

@pytest.fixture
def growth_city(make):
    a1 = make.account("telegram", "housing", "Дом 1")
    a2 = make.account("vk", "housing", "Дом 2")
    a3 = make.account("max", "sport", "Спорт")
    snap(a1, {6: 100, 5: 110, 3: 130, 2: 140, 1: 150, 0: 160})  # day 4 missing
    snap(a2, {4: 50, 3: 50, 2: 55, 1: 60, 0: 70})
    snap(a1, {20: 10})  # outside a 7-day window
    return a1, a2, a3


def test_growth_figures_per_account_and_direction(app, growth_city):
    a1, a2, a3 = growth_city
    report = growth_report(7)
    by_account = {g.account.id: g for g in report.accounts}
    assert (by_account[a1.id].first, by_account[a1.id].last, by_account[a1.id].change) == (100, 160, 60)
    assert by_account[a1.id].values[2] is None and by_account[a1.id].gaps == 1
    assert by_account[a1.id].percent == pytest.approx(60.0)
    assert by_account[a3.id].change is None and by_account[a3.id].percent is None
    housing = next(d for d in report.directions if d.direction == "housing")
    assert (housing.first, housing.last, housing.change) == (150, 230, 80)
    assert housing.percent == pytest.approx(53.333, rel=1e-3)
    # totals: a1's missing day carries 110; days before a2's first count are gaps
    assert housing.total.values == [None, None, 160, 180, 195, 210, 230]


def test_manager_pages_are_closed_to_others(client, make, login_as):
    assert client.get("/registry/growth").status_code == 302  # to the login
    assert client.get("/registry/publications").status_code == 302
    login_as(make.user("operator"))
    for path in ("/registry/growth", "/registry/growth.xlsx", "/registry/publications"):
        assert client.get(path).status_code == 403


def test_growth_page_figures_and_chart(make, login_as, growth_city):
    a1, a2, a3 = growth_city
    manager_client = login_as(make.user("manager"))
    html = manager_client.get("/registry/growth?days=7").get_data(as_text=True)
    assert "+80" in _row(html, "data-direction", "housing") and "53,3" in _row(html, "data-direction", "housing")
    assert "+60" in _row(html, "data-account", a1.id)
    assert 'data-test="growth-chart"' in html and "<polyline" in html
    one = manager_client.get(f"/registry/growth?days=7&account={a2.id}").get_data(as_text=True)
    assert 'data-series="Дом 2"' in one and f'data-account="{a1.id}"' not in one


def test_growth_excel_export_reads_back(make, login_as, growth_city):
    a1, a2, a3 = growth_city
    manager_client = login_as(make.user("manager"))
    response = manager_client.get("/registry/growth.xlsx?days=7&direction=housing")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    directions, accounts, daily = book.worksheets
    assert [c.value for c in directions[2]][1:5] == [2, 150, 230, 80]
    assert directions.max_row == 2  # the filter kept one direction
    rows = {r[1]: r for r in accounts.iter_rows(min_row=2, values_only=True)}
    assert rows["Дом 1"][4:9] == (100, 160, 60, pytest.approx(60.0), 1)
    daily_rows = {r[0]: r for r in daily.iter_rows(min_row=2, values_only=True)}
    assert daily_rows["Дом 1"][2:] == (100, 110, None, 130, 140, 150, 160)  # the gap is empty, not 0
    assert daily_rows["Дом 2"][2:] == (None, None, 50, 50, 55, 60, 70)


# --- publications ------------------------------------------------------------------------------

@pytest.fixture
def posting_city(make):
    now = utcnow()
    busy, quiet, silent = (make.account("telegram", "culture", "Дом культуры"),
                           make.account("vk", "culture", "Музей"), make.account("ok", "sport", "Каток"))
    posts = {}
    for account, key, days_ago in ((busy, "p1", 2), (busy, "p2", 5), (busy, "p3", 40), (quiet, "q1", 10)):
        posts[key] = Post(account_id=account.id, external_id=key, thread_ref=key,
                          posted_at=now - timedelta(days=days_ago))
        db.session.add(posts[key])
    db.session.commit()
    for key in ("p1", "p1", "p1", "p2", "p3"):
        make.ticket(busy, thread_ref=key)
    spam = make.ticket(busy, thread_ref="p1")
    spam.status = "spam"
    db.session.commit()
    return busy, quiet, silent


def test_publication_figures_and_stale_accounts(app, posting_city):
    busy, quiet, silent = posting_city
    rows = publication_report(30)
    assert [r.account.id for r in rows] == [busy.id, quiet.id, silent.id]
    first = rows[0]
    assert (first.posts, first.comments, first.appeals, first.stale) == (2, 5, 5, False)
    assert first.comments_per_post == pytest.approx(2.5)
    assert (rows[1].posts, rows[1].stale, rows[2].posts, rows[2].stale, rows[2].last_post_at) == (1, True, 0, True, None)
    assert [r.stale for r in publication_report(30, stale_after=14)] == [False, False, True]
    assert publication_report(7)[0].posts == 2 and publication_report(7)[1].posts == 0
    by_appeals = publication_report(30, sort="appeals")
    assert by_appeals[0].account.id == busy.id and by_appeals[0].appeals == 5


def test_publications_page_flags_silent_accounts(app, make, login_as, posting_city):
    busy, quiet, silent = posting_city
    app.config["PUBLICATION_STALE_DAYS"] = 7
    manager_client = login_as(make.user("manager"))
    html = manager_client.get("/registry/publications?days=30").get_data(as_text=True)
    assert 'data-test="stale"' in _raw_row(html, quiet.id) and 'data-test="stale"' not in _raw_row(html, busy.id)
    assert re.search(r'data-test="stale-summary">[^<]*2', html)
    busy_row = _row(html, "data-account", busy.id)
    assert " 2 5 2.5 5 " in busy_row


def _raw_row(html: str, account_id: int) -> str:
    return re.search(rf'<tr data-account="{account_id}".*?</tr>', html, re.S).group(0)
