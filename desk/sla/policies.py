"""Which SLA policy applies to a ticket: its category's, else its department's, else the
global one, else the built-in defaults (24 calendar hours to react, 7 working days)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ..extensions import db
from ..models import Category, Ticket
from ..models.sla import SlaPolicy


@dataclass(frozen=True)
class PolicyTerms:
    """The numbers of a policy, detached from the database (for the pure deadline functions)."""

    reaction: timedelta = timedelta(hours=24)
    reaction_in_working_hours: bool = False
    reaction_stops_at: str = "first_reply"
    resolution_days: int = 7
    high_factor: float = 0.5
    urgent_factor: float = 0.25

    @classmethod
    def of(cls, policy: SlaPolicy | None) -> PolicyTerms:
        if policy is None:
            return cls()
        return cls(
            reaction=timedelta(minutes=policy.reaction_minutes),
            reaction_in_working_hours=bool(policy.reaction_in_working_hours),
            reaction_stops_at=policy.reaction_stops_at,
            resolution_days=policy.resolution_days,
            high_factor=policy.high_factor,
            urgent_factor=policy.urgent_factor,
        )


def find_policy(category_id: int | None, department_id: int | None) -> SlaPolicy | None:
    """The most specific policy for a category and department (one query, two when the
    department comes from the category's default)."""
    if category_id is not None and department_id is None:
        category = db.session.get(Category, category_id)
        department_id = category.default_department_id if category else None
    candidates: Sequence[SlaPolicy] = db.session.scalars(db.select(SlaPolicy).where(db.or_(
        SlaPolicy.category_id == category_id if category_id is not None else db.false(),
        SlaPolicy.department_id == department_id if department_id is not None else db.false(),
        db.and_(SlaPolicy.category_id.is_(None), SlaPolicy.department_id.is_(None)),
    )).order_by(SlaPolicy.id)).all()
    for scope in ("category", "department", "global"):
        for policy in candidates:
            if policy.scope == scope:
                return policy
    return None


def global_policy() -> SlaPolicy | None:
    return db.session.scalars(
        db.select(SlaPolicy).where(SlaPolicy.category_id.is_(None), SlaPolicy.department_id.is_(None))
        .order_by(SlaPolicy.id)
    ).first()


def terms_for(ticket: Ticket) -> PolicyTerms:
    return PolicyTerms.of(find_policy(ticket.category_id, ticket.department_id))
