"""The notifications page groups unread notices by kind (one line and a count each),
filters and marks read by kind, and each user chooses which kinds they receive."""
from __future__ import annotations

from desk.extensions import db
from desk.models import Role
from desk.models.notifications import Notification
from desk.notify.services import notify

from .conftest import csrf_from


def seed(user, ticket, kinds: dict[str, int]) -> None:
    for kind, n in kinds.items():
        for level in range(n):
            notify(user, ticket, kind, level, f"{kind} {level}")
    db.session.commit()


def test_unread_notices_are_grouped_filtered_and_marked_read_by_kind(make, login_as, client):
    operator = make.user(Role.OPERATOR)
    ticket = make.ticket(make.account())
    seed(operator, ticket, {"reaction_breach": 5, "resolution_warning": 2})
    login_as(operator)
    html = client.get("/notifications/").get_data(as_text=True)
    assert 'data-kind="reaction_breach"' in html and "Пропущен срок реакции" in html
    assert html.index("Пропущен срок реакции") < html.index("Скоро истекает срок решения")  # largest first
    only = client.get("/notifications/?kind=resolution_warning").get_data(as_text=True)
    assert only.count('<tr class="unread" data-kind="resolution_warning"') == 2
    assert '<tr class="unread" data-kind="reaction_breach"' not in only
    assert client.get("/notifications/?kind=<script>").status_code == 200  # unknown kind: all of them
    token = csrf_from(html)
    client.post("/notifications/read", data={"csrf_token": token, "kind": "reaction_breach"})
    unread = {n.kind for n in db.session.scalars(db.select(Notification).where(Notification.read_at.is_(None)))}
    assert unread == {"resolution_warning"}


def test_a_user_chooses_what_they_are_told(make, login_as, client):
    head = make.user(Role.DEPARTMENT_HEAD, department=make.department())
    ticket = make.ticket(make.account())
    login_as(head)
    token = csrf_from(client.get("/notifications/").get_data(as_text=True))
    response = client.post("/notifications/settings", data={
        "csrf_token": token, "kind": ["reaction_breach", "resolution_breach", "reply_failed"]},
        follow_redirects=True)
    assert "вы будете получать только отмеченные" in response.get_data(as_text=True)
    db.session.refresh(head)
    assert head.muted_notices == ["reaction_warning", "reply_returned", "resolution_warning"]
    assert notify(head, ticket, "reaction_warning", 0, "скоро") is None
    assert notify(head, ticket, "reaction_breach", 1, "пропущен") is not None
    html = client.get("/notifications/").get_data(as_text=True)
    assert 'value="reaction_warning" checked' not in html
    assert 'value="reaction_breach" checked' in html
