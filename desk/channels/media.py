"""One rule for what a message without words says: a readable Russian label per
attachment kind, then the caption.

Every network names its attachments differently (Telegram ``photo``/``voice``, VK
``photo``/``doc``/``wall``, MAX ``image``/``file``/``share``, OK ``photo``/``movie``);
each normaliser maps its own names to the kinds below and calls :func:`compose`. The
stored text is what operators read in the queue and what search finds, so a
media-only comment is never an empty ticket and the same photo reads the same on
every network. Labels are stored data (the city's language), not interface strings.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: canonical attachment kind → label stored in the message text
LABELS: dict[str, str] = {
    "photo": "[фото]",
    "video": "[видео]",
    "video_note": "[видеосообщение]",
    "animation": "[анимация]",
    "sticker": "[стикер]",
    "file": "[файл]",
    "voice": "[голосовое]",
    "audio": "[аудио]",
    "repost": "[репост]",
    "forward": "[пересланное сообщение]",
    "location": "[геолокация]",
    "contact": "[контакт]",
    "poll": "[опрос]",
    "link": "[ссылка]",
    "game": "[игра]",
    "dice": "[кубик]",
    "story": "[история]",
    "gift": "[подарок]",
    "market": "[товар]",
    "other": "[вложение]",
}


def label(kind: str) -> str:
    """The label of one canonical kind (unknown kinds read as a generic attachment)."""
    return LABELS.get(kind, LABELS["other"])


def labels(kinds: Iterable[str]) -> str:
    """``"[фото ×3] [видео]"``: each kind once, in first-seen order, with its count."""
    counts = Counter(kinds)
    parts = []
    for kind, count in counts.items():
        text = label(kind)
        parts.append(f"{text[:-1]} ×{count}]" if count > 1 else text)
    return " ".join(parts)


def compose(caption: object, kinds: Iterable[str] = ()) -> str:
    """The stored text of a message: its attachments' labels, then its caption.

    ``caption`` may be anything a payload carries (``None``, a number a broken client
    sent): only a non-empty string counts as words.
    """
    words = caption.strip() if isinstance(caption, str) else ""
    head = labels(kinds)
    if head and words:
        return f"{head} {words}"
    return head or words
