"""A few demo appeals filed straight with the desk: three from the web form, one from a
city app over Open311 (idempotent: nothing is added once the demo has direct appeals)."""
from __future__ import annotations

from ..extensions import db
from ..intake.services import Filing, file_appeal
from ..models import Category
from ..models.intake import Submission

DIRECT_APPEALS = (
    ("web", "Во дворе дома по улице Ленина, 14 третий день не вывозят мусор, контейнеры переполнены.",
     "ул. Ленина, 14", "Ольга Васильева", "olga.vasilieva@example.org", 56.8386, 60.6055, "мусор"),
    ("web", "На остановке «Площадь Победы» разбито стекло павильона, осколки на тротуаре.",
     "остановка «Площадь Победы»", "", "", 56.8431, 60.6454, "остановк"),
    ("web", "Не горят фонари вдоль дорожки в сквере у школы №7, вечером очень темно.",
     "сквер у школы №7", "Павел Коротков", "p.korotkov@example.org", None, None, "освещ"),
    ("open311", "Яма на проезжей части напротив дома 3 по улице Мира, глубина около 15 см.",
     "ул. Мира, 3", "Мобильное приложение «Мой город»", "", 56.8290, 60.5990, "дорог"),
)


def _category(hint: str, categories: list[Category]) -> Category | None:
    return next((c for c in categories if hint in c.name.lower()), categories[0] if categories else None)


def load_direct_appeals(categories: list[Category]) -> int:
    """File the demo's direct appeals once; returns how many were filed."""
    if db.session.scalar(db.select(Submission.id).limit(1)) is not None:
        return 0
    for channel, text, address, name, email, lat, long, hint in DIRECT_APPEALS:
        file_appeal(Filing(channel=channel, description=text, category=_category(hint, categories), name=name,
                           email=email, address=address, lat=lat, long=long, consent=True,
                           with_token=channel == "open311"))
    db.session.commit()
    return len(DIRECT_APPEALS)
