"""The city answers VK comments under its photos, videos, goods and board topics.

Each resident's comment arrives the real way (the Bots Long Poll or the Callback API
webhook over HTTP, both from the strict fake), an operator answers, the drain posts it
with photos/video/market/board.createComment as the community, and the city's comment
coming back through the collector settles the outbox row instead of becoming a ticket."""
from __future__ import annotations

import pytest

from desk.channels.errors import PermanentError
from desk.channels.vk import USER_RPS, VKClient
from desk.extensions import db
from desk.models import Message, Role, Ticket
from desk.replies import senders, services
from desk.replies.jobs import enqueue_deliveries
from desk.replies.ratelimit import Window, secret_key
from workers.collectors import vk as vk_collector
from workers.collectors.base import poll_account

from .collect_helpers import drain_queue
from .fakes.vk import CallbackSender, FakeVK
from .replies_support import VK_GROUP, VK_TOKEN, drain, fast_replies, rows, vk  # noqa: F401

ADMIN_TOKEN = "vk-admin-user-token"  # a community admin's user token: these methods take no other
SECRET, CODE = "place-secret", "c0nf1rm"
OWNER = -VK_GROUP
RESIDENT, NEIGHBOUR = 1001, 1002

# event family -> (method, the object's parameter, the object's id, the refs' prefix)
PLACES = {
    "photo_comment": ("photos.createComment", "photo_id", 457239017, "photo"),
    "video_comment": ("video.createComment", "video_id", 456239011, "video"),
    "market_comment": ("market.createComment", "item_id", 8812, "market"),
    "board_post": ("board.createComment", "topic_id", 39001122, "board"),
}


@pytest.fixture
def city(app, make, vk):
    """The city's community on the fake with a group token (collecting) and an admin's
    user token (answering), and two residents."""
    vk.add_token(ADMIN_TOKEN, "user", VK_GROUP)
    vk.add_group(VK_GROUP, "Администрация Белогорска")
    vk.add_user(RESIDENT, "Иван", "Петров")
    vk.add_user(NEIGHBOUR, "Мария", "Соколова")
    app.config.update(VK_LONG_POLL_WAIT=0, VK_RETRY_BASE_DELAY=0.01)
    account = make.account("vk", name="Администрация Белогорска VK", settings={"group_id": VK_GROUP},
                           credentials={"group_token": VK_TOKEN, "user_token": ADMIN_TOKEN,
                                        "callback_secret": SECRET, "confirmation_code": CODE})
    collect(account)  # the first run starts at VK's newest event
    yield account
    for client in vk_collector._clients.values():
        client.close()
    vk_collector._clients.clear()
    senders.close_clients()


def collect(account):
    return poll_account(account.id, sleep=lambda _s: None)


class Webhook:
    """VK's Callback API sender for the city's server: forwards what the fake queued."""

    def __init__(self, vk: FakeVK, url: str):
        self.vk, self.seen = vk, len(vk.events(VK_GROUP))
        self.sender = CallbackSender(url, group_id=VK_GROUP, secret=SECRET, confirmation_code=CODE)
        assert self.sender.confirm().text == CODE

    def deliver_new(self) -> None:
        events = self.vk.events(VK_GROUP)
        for event in events[self.seen:]:
            assert self.sender.send(event["type"], event["object"])["group_id"] == VK_GROUP
        self.seen = len(events)
        drain_queue()
        db.session.expire_all()


def arrive(path: str, account, webhook: Webhook | None) -> None:
    if path == "webhook":
        webhook.deliver_new()
    else:
        collect(account)


def answer(ticket, text: str):
    reply = services.compose(ticket, _operator(), text)
    db.session.commit()
    enqueue_deliveries(services.to_enqueue(reply))
    return reply


def _operator():
    from . import factories

    return factories.user(Role.OPERATOR)


def ticket_of(external_id: str) -> Ticket:
    message = db.session.scalars(db.select(Message).where(Message.external_id == external_id)).one()
    return message.ticket


def outbound(ticket: Ticket) -> list[Message]:
    return db.session.scalars(db.select(Message).where(Message.ticket_id == ticket.id,
                                                       Message.direction == "outbound")).all()


def count_tickets() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Ticket))


def request_for(family: str, object_id: int, text: str, row, reply_to: int) -> dict:
    method, param, _, _ = PLACES[family]
    params = {param: str(object_id), "message": text, "from_group": "1", "guid": row.outbox_key, "v": "5.199"}
    if family == "board_post":
        return {"group_id": str(VK_GROUP), **params}  # a board has no reply_to_comment
    return {"owner_id": str(OWNER), "reply_to_comment": str(reply_to), **params}


@pytest.mark.parametrize("path", ["long poll", "webhook"])
@pytest.mark.parametrize("family", list(PLACES))
def test_a_residents_comment_is_answered_in_its_place_once(city, vk, family, path, live_server):
    method, _, object_id, prefix = PLACES[family]
    webhook = Webhook(vk, f"{live_server.url}/hooks/vk/{city.id}") if path == "webhook" else None
    comment = vk.place_comment(VK_GROUP, family, object_id, RESIDENT, "Когда починят фонарь у дома 5?")
    arrive(path, city, webhook)
    ticket = ticket_of(f"{prefix}:{OWNER}_{comment['id']}")
    assert ticket.messages[0].thread_ref == f"{prefix}:{OWNER}_{object_id}"
    assert ticket.author_name == "Иван Петров"

    vk.fail_next("truncated")  # VK posted it but the answer was cut: the retry must not post it twice
    answer(ticket, "{name}, фонарь заменят до пятницы.")
    drain()
    [row] = rows()
    text = "Иван Петров, фонарь заменят до пятницы."
    request = request_for(family, object_id, text, row, comment["id"])
    assert vk.params_of(method) == [request, request]  # the same guid both times
    [posted] = [c for c in vk.places[(family, OWNER, object_id)]["comments"] if c["from_id"] == OWNER]
    assert posted["text"] == text and posted.get("reply_to_comment") == (
        None if family == "board_post" else comment["id"])
    assert row.state == "sent" and row.external_id == f"{prefix}:{OWNER}_{posted['id']}"
    assert row.permalink.startswith("https://vk.com/")
    [city_message] = outbound(ticket)
    assert city_message.id == row.message_id and city_message.text == text

    arrive(path, city, webhook)  # VK sends the city's own comment back
    db.session.refresh(row)
    assert row.state == "sent" and count_tickets() == 1 and len(outbound(ticket)) == 1

    enqueue_deliveries([row.id])  # a second drain finds nothing to post
    drain()
    assert len(vk.params_of(method)) == 2 and len(vk.created_place_comments) == 1
    if webhook:
        webhook.sender.close()


@pytest.mark.parametrize("family", list(PLACES))
def test_the_echo_settles_a_reply_whose_worker_died_after_posting(city, vk, app, family):
    method, _, object_id, prefix = PLACES[family]
    comment = vk.place_comment(VK_GROUP, family, object_id, NEIGHBOUR, "Во дворе не вывозят мусор")
    collect(city)
    ticket = ticket_of(f"{prefix}:{OWNER}_{comment['id']}")
    answer(ticket, "Вывезут сегодня.")
    [row] = rows()
    senders.send(row, app.config)  # the request left, then the worker was killed
    row.state = "sending"
    db.session.commit()
    drain()
    db.session.refresh(row)
    assert row.state == "unknown" and outbound(ticket) == []

    counts = collect(city)
    db.session.refresh(row)
    [posted] = vk.created_place_comments
    own = [c for c in vk.places[(family, OWNER, object_id)]["comments"] if c["from_id"] == OWNER]
    assert row.state == "sent" and row.external_id == f"{prefix}:{OWNER}_{own[0]['id']}"
    assert counts.skip_reasons == {"own comment": 1} and count_tickets() == 1
    assert [m.text for m in outbound(ticket)] == ["Вывезут сегодня."] and posted["method"] == method

    enqueue_deliveries([row.id])
    drain()
    assert len(vk.params_of(method)) == 1


def test_two_alike_answers_in_one_board_topic_are_left_to_a_person(city, vk, app):
    topic = PLACES["board_post"][2]
    for resident in (RESIDENT, NEIGHBOUR):
        vk.place_comment(VK_GROUP, "board_post", topic, resident, "Когда откроют каток?")
    collect(city)
    for ticket in db.session.scalars(db.select(Ticket).order_by(Ticket.id)).all():
        answer(ticket, "Каток откроют в субботу.")
    for row in rows():
        senders.send(row, app.config)  # both posted, both workers killed
        row.state = "sending"
    db.session.commit()
    drain()
    collect(city)  # a board comment replies to nothing: which echo is whose cannot be told
    assert [r.state for r in rows()] == ["unknown", "unknown"]
    assert count_tickets() == 2


def test_a_community_without_an_admins_user_token_gets_a_reason_and_no_request(make, vk, city):
    account = make.account("vk", settings={"group_id": VK_GROUP}, credentials={"group_token": VK_TOKEN})
    comment = vk.place_comment(VK_GROUP, "photo_comment", 5, RESIDENT, "Вопрос")
    ticket = make.ticket(account, "Вопрос", external_id=f"photo:{OWNER}_{comment['id']}",
                         thread_ref=f"photo:{OWNER}_5")
    answer(ticket, "Ответ")
    drain()
    [row] = rows()
    assert row.state == "failed" and "user_token" in row.last_error
    assert vk.params_of("photos.createComment") == []


def test_closed_video_comments_fail_with_vks_reason_and_a_resend_posts_it(city, vk):
    video = vk.add_place("video_comment", OWNER, 77)
    comment = vk.place_comment(VK_GROUP, "video_comment", 77, RESIDENT, "Где это снимали?")
    collect(city)
    ticket = ticket_of(f"video:{OWNER}_{comment['id']}")
    video["closed"] = True
    answer(ticket, "Улица Ленина.")
    drain()
    [row] = rows()
    assert row.state == "failed" and row.error_code == "801" and "closed" in row.last_error
    video["closed"] = False
    from desk.replies import outbox

    outbox.resend(row, _operator(), "Это улица Ленина.")
    db.session.commit()
    enqueue_deliveries([row.id])
    drain()
    db.session.refresh(row)
    assert row.state == "sent" and [c["message"] for c in vk.created_place_comments] == ["Это улица Ленина."]


def test_a_place_reply_counts_against_the_admins_user_token_like_crossposting(city, vk, app):
    comment = vk.place_comment(VK_GROUP, "market_comment", 8812, RESIDENT, "Есть доставка?")
    collect(city)
    services.compose(ticket_of(f"market:{OWNER}_{comment['id']}"), _operator(), "Есть.")
    db.session.commit()
    [row] = rows()
    # VK allows a user token about 3 requests a second; wall comments use the community token's 20.
    assert senders.windows(row, app.config) == [Window(f"vk:{secret_key(ADMIN_TOKEN)}", 3, 1.0)]


def test_the_fake_serves_place_comments_as_vk_does(city, vk):
    vk.add_place("photo_comment", OWNER, 9)
    vk.add_token("stranger-token", "user", 999)
    with VKClient(vk.url, VK_TOKEN, rps=0) as community, VKClient(vk.url, ADMIN_TOKEN, rps=USER_RPS) as admin, \
            VKClient(vk.url, "stranger-token", rps=0) as stranger:
        with pytest.raises(PermanentError, match="27"):  # a community token is refused
            community.photos_create_comment(OWNER, 9, "Ответ")
        with pytest.raises(PermanentError, match="15"):  # only an admin posts as the community
            stranger.photos_create_comment(OWNER, 9, "Ответ")
        with pytest.raises(PermanentError, match="100"):  # no such photo
            admin.photos_create_comment(OWNER, 10, "Ответ")
        with pytest.raises(PermanentError, match="100"):  # no such comment to reply to
            admin.photos_create_comment(OWNER, 9, "Ответ", reply_to_comment=123456)
        with pytest.raises(PermanentError, match="100"):
            admin.call("board.createComment", topic_id=1, message="Ответ")  # group_id is required
        first = admin.photos_create_comment(OWNER, 9, "Ответ", guid="k1")
        assert admin.photos_create_comment(OWNER, 9, "Ответ", guid="k1") == first
    assert len(vk.created_place_comments) == 1
