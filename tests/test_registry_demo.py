"""``flask demo-registry``: the seed's scale, gaps kept as gaps, and idempotent."""
from __future__ import annotations

from desk.extensions import db
from desk.i18n import city_today
from desk.models import Account, Post
from desk.models.registry import SubscriberSnapshot
from desk.registry.publications import publication_report


def test_demo_registry_at_the_seeds_scale(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-registry"])
    assert result.exit_code == 0, result.output
    assert "137 active accounts" in result.output and "336500 subscribers today" in result.output
    today = city_today()
    active = db.session.scalar(db.select(db.func.count()).select_from(Account).where(Account.is_active.is_(True)))
    assert active == 137
    assert len({a.direction for a in db.session.scalars(db.select(Account)).all()}) == 8
    assert db.session.scalar(db.select(db.func.sum(SubscriberSnapshot.count))
                             .where(SubscriberSnapshot.day == today)) == 336_500
    days = db.session.scalar(db.select(db.func.count(db.distinct(SubscriberSnapshot.day))))
    rows = db.session.scalar(db.select(db.func.count()).select_from(SubscriberSnapshot))
    assert days == 60 and 137 * 55 < rows < 137 * 60  # a few days missing: gaps, not zeros
    assert db.session.scalar(db.select(db.func.min(SubscriberSnapshot.count))) > 0
    report = publication_report(30)
    assert sum(r.posts for r in report) > 1000
    assert 0 < sum(r.stale for r in report) < 137

    posts = db.session.scalar(db.select(db.func.count()).select_from(Post))
    again = runner.invoke(args=["demo-registry"])
    assert "(0 added)" in again.output and "0 snapshots and 0 posts added" in again.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)) == posts
