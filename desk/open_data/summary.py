"""The plain-words summary of the open figures, in the reader's language.

Counted nouns agree with their number through the locale's CLDR plural category, used
as the message context (``pgettext``): Russian needs three forms ("1 обращение",
"2 обращения", "5 обращений") and the merged catalogs of the desk carry no single
Plural-Forms header that ``ngettext`` could rely on.
"""
from __future__ import annotations

from datetime import date

from flask_babel import format_date, get_locale, pgettext
from flask_babel import gettext as _

from ..templating import duration_short, share, thousands
from .services import OpenFigures, Row


def count_appeals(n: int) -> str:
    number = thousands(n)
    locale = get_locale()
    category = locale.plural_form(n) if locale is not None else ("one" if n == 1 else "other")
    if category == "one":
        return str(pgettext("one", "%(num)s appeal", num=number))
    return str(pgettext(category, "%(num)s appeals", num=number))


def month_name(day: date) -> str:
    return format_date(day, "LLLL yyyy")


def sentences(figures: OpenFigures, row: Row | None = None) -> list[str]:
    """A few sentences on ``row`` (a month) or on the whole period."""
    row = row or figures.total
    start, end = date.fromisoformat(row.start), date.fromisoformat(row.end)
    if row is not figures.total or (start.day == 1 and (start.year, start.month) == (end.year, end.month)):
        out = [_("In %(month)s the city received %(appeals)s.", month=month_name(start),
                 appeals=count_appeals(row.received))]
    else:
        out = [_("From %(start)s to %(end)s the city received %(appeals)s.",
                 start=format_date(start, "d MMMM yyyy"), end=format_date(end, "d MMMM yyyy"),
                 appeals=count_appeals(row.received))]
    if row.answered_share is not None:
        out.append(_("It answered %(share)s of them publicly within a day.", share=share(row.answered_share)))
    if row.median_first_answer_seconds is not None:
        out.append(_("Half of the first public answers came within %(time)s.",
                     time=duration_short(row.median_first_answer_seconds)))
    if row.resolved_share is not None:
        out.append(_("%(share)s of the appeals were resolved within the deadline.",
                     share=share(row.resolved_share)))
    if row is figures.total:
        out.append(_("Open now: %(appeals)s, of them for more than a week: %(old)s.",
                     appeals=count_appeals(figures.open_now), old=thousands(figures.open_old)))
    return out
