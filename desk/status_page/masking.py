"""Personal data out of text shown in public (152-FZ): phones, e-mails, document and card
numbers masked; a person's name reduced to initials.

One pattern per kind, tried in one pass (leftmost match wins, then the order below), so an
11-digit phone is never half-eaten by the 10-digit INN rule. The rules lean to masking:
a digit run that looks like a document number goes, while the numbers a resident needs to
be understood stay — dates (12.03.2026), house and flat numbers (д. 12 кв. 5), ticket
numbers (№1234), sums (1500 руб.), years and times.
"""
from __future__ import annotations

import re
from collections.abc import Callable

# Separators people put inside numbers: spaces (also no-break), hyphens and dashes.
_SEP = r"[ \u00a0\-\u2010-\u2015]"
# A number starts and ends where no digit touches it; "12.03" and "1,5" are one number,
# but a full stop or a comma ending a sentence is not part of it.
_START = r"(?<!\d)(?<!\d[.,])"
_END = r"(?!\d|[.,]\d)"

PATTERNS: dict[str, str] = {
    "email": r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}",
    # 16-19 digits in groups of four: bank cards (before phones: "4276 3800 ..." is no phone).
    "card": rf"(?<!\d)\d{{4}}(?:{_SEP}?\d{{4}}){{3}}(?:{_SEP}?\d{{1,3}})?{_END}",
    # Russian numbers: +7 / 8 / 7, then 10 digits with any of ( ) - spaces between groups.
    "phone": (rf"(?<![\w+])(?:\+{_SEP}?7|8|7)(?:{_SEP}|\(|\)){{0,3}}\d{{3}}(?:{_SEP}|\(|\)){{0,3}}"
              rf"\d{{3}}{_SEP}?\d{{2}}{_SEP}?\d{{2}}(?!\d)"
              # other countries: + and 9-14 digits
              rf"|(?<![\w+])\+\d(?:[ \u00a0\-()]?\d){{8,13}}(?!\d)"
              # a mobile number without the country code: 9xx xxx-xx-xx
              rf"|{_START}\(?9\d{{2}}\)?{_SEP}?\d{{3}}{_SEP}?\d{{2}}{_SEP}?\d{{2}}{_END}"
              # a local city number: 2-34-56, 52-34-56
              rf"|{_START}(?<!-)\d{{1,3}}-\d{{2}}-\d{{2}}{_END}(?!-\d)"),
    # СНИЛС: 123-456-789 01 (or 11 digits in a row).
    "snils": rf"{_START}\d{{3}}{_SEP}?\d{{3}}{_SEP}?\d{{3}}{_SEP}?\d{{2}}{_END}",
    # Passport: series 98 14 (or 9814), number 123456; "серия 9814 № 123456".
    "passport": rf"{_START}\d{{2}}{_SEP}?\d{{2}}(?:{_SEP}|{_SEP}?(?:№|N|номер){_SEP}?){{1,2}}\d{{6}}{_END}",
    # ИНН (10 or 12 digits), ОГРН (13), ОГРНИП (15), a passport written as 10 digits, a polis (16).
    "number": rf"{_START}\d{{10}}(?:\d{{2,6}})?{_END}",
}

_KINDS = list(PATTERNS)
_COMBINED = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in PATTERNS.items()),
                       re.IGNORECASE)

#: what replaces a masked piece when the caller gives nothing better
DEFAULT_HIDDEN = "***"


def mask_personal_data(text: str, hidden: Callable[[str], str] | None = None) -> str:
    """``text`` with phones, e-mails, card, СНИЛС, passport and ИНН-like numbers replaced.

    ``hidden(kind)`` gives the replacement for a kind (``email``, ``card``, ``phone``,
    ``snils``, ``passport``, ``number``); the default is ``***`` for all.
    """
    if not text:
        return ""

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "number"
        return hidden(kind) if hidden is not None else DEFAULT_HIDDEN

    return _COMBINED.sub(replace, text)


def found_kinds(text: str) -> list[str]:
    """The kinds of personal data in ``text``, in order (for tests and logs)."""
    return [match.lastgroup or "" for match in _COMBINED.finditer(text or "")]


_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
MAX_INITIALS = 3


def initials(name: str | None) -> str:
    """A name as initials: "Иван Петров" -> "И. П."; nothing for an empty or
    letterless name (a nickname of digits and signs says nothing to keep)."""
    words = _WORD.findall(name or "")
    return " ".join(f"{word[0].upper()}." for word in words[:MAX_INITIALS])
