"""MAX edges between collecting and answering: a message that is only a forward has no
id of its own to reply to, and the city's own reply may come back without a sender."""
from __future__ import annotations

from desk.extensions import db
from desk.models import Role
from desk.replies.echo import match_own_reply

from .replies_support import drain, fast_replies, max_account, mx, rows  # noqa: F401
from .test_replies_posting import answer


def test_an_answer_to_a_bare_forward_goes_to_the_thread_without_a_reply_link(make, mx):
    account = max_account(make, mx)
    post = mx.channel_post()
    post_mid = post["message"]["body"]["mid"]
    ticket = make.ticket(account, "[пересланное сообщение] Прорвало трубу", thread_ref=post_mid,
                         external_id=f"fwd:{post_mid}:5550001:1767225700000:mid.000000000000abcd")
    answer(ticket, make.user(Role.OPERATOR), "Аварийная служба выехала.")
    drain()
    assert mx.sent_comments == [{"post_mid": post_mid, "text": "Аварийная служба выехала."}]
    assert rows()[0].state == "sent"


def test_the_citys_reply_echoed_without_a_sender_settles_its_outbox_row(make, mx):
    account = max_account(make, mx)
    post = mx.channel_post()
    post_mid = post["message"]["body"]["mid"]
    ticket = make.ticket(account, "Когда уберут снег?", thread_ref=post_mid, external_id="mid.resident1")
    answer(ticket, make.user(Role.OPERATOR), "Уберём завтра.")
    row = rows()[0]
    row.state = "unknown"  # the answer left, but the network's reply was lost
    db.session.commit()
    echo = {"update_type": "comment_created", "timestamp": 1767225800000,
            "message": {"recipient": {"chat_id": mx.channel_id, "chat_type": "channel", "post_id": post_mid},
                        "timestamp": 1767225800000, "link": {"type": "reply", "message": {"mid": "mid.resident1"}},
                        "body": {"mid": "mid.city1", "seq": 2, "text": "Уберём завтра."}}}
    assert match_own_reply(account, echo) == "matched"
    db.session.commit()
    assert rows()[0].state == "sent" and rows()[0].external_id == "mid.city1"
    # A sender-less comment that matches no outbox row is never filed as the city's message.
    stranger = dict(echo, message=dict(echo["message"], body={"mid": "mid.other", "text": "Спасибо"}))
    assert match_own_reply(account, stranger) is None
