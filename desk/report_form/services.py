"""Filing a checked web form, and what staff pages read about web-form appeals.

:func:`file_report` goes through the one door for direct appeals
(:func:`desk.intake.services.file_appeal`), then stores the photos and adds their
:class:`~desk.models.intake.SubmissionPhoto` rows. It only flushes; the view commits once
and calls :func:`discard_files` if the commit fails, so no file outlives a rolled-back
ticket.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for

from ..extensions import db
from ..intake.services import Filing, file_appeal
from ..models import Platform, Ticket, utcnow
from ..models.intake import Submission, SubmissionPhoto
from . import photos as photo_store
from .form import ReportInput
from .photos import Photo


def file_report(report: ReportInput, photos: list[Photo], locale: str) -> tuple[Ticket, list[str]]:
    """Open the ticket of a checked form; returns it and the names of the files written."""
    ticket, submission = file_appeal(Filing(
        channel=Platform.WEB.value, description=report.description.strip(), category=report.category,
        name=report.name.strip(), email=report.email_normalized, address=report.address.strip(),
        consent=True, photo_location_kept=report.keep_location and bool(photos),
        locale=locale if locale in ("ru", "en") else "ru"))
    written: list[str] = []
    try:
        for photo in photos:
            name = photo_store.store(photo)
            written.append(name)
            db.session.add(SubmissionPhoto(submission=submission, stored_name=name, content_type=photo.content_type,
                                           size=len(photo.data), width=photo.width, height=photo.height))
        db.session.flush()
    except BaseException:
        discard_files(written)
        raise
    return ticket, written


def discard_files(names: list[str]) -> None:
    for name in names:
        photo_store.remove(name)


def web_submission(ticket_id: int) -> Submission | None:
    """The web form's submission of ticket ``ticket_id``, if it came through the form."""
    return db.session.scalars(db.select(Submission).where(Submission.ticket_id == ticket_id,
                                                          Submission.channel == Platform.WEB.value)).first()


@dataclass(frozen=True)
class PhotoLink:
    """A photo as a staff page shows it (the URL is served only to staff who see the ticket)."""

    url: str
    width: int
    height: int
    content_type: str


def photos_of_ticket(ticket_id: int) -> list[PhotoLink]:
    """The web-form photos of ticket ``ticket_id``, oldest first (for the ticket card)."""
    rows = db.session.scalars(
        db.select(SubmissionPhoto).join(Submission).where(Submission.ticket_id == ticket_id)
        .order_by(SubmissionPhoto.id)).all()
    return [PhotoLink(url_for("report_form.photo", photo_id=p.id), p.width, p.height, p.content_type) for p in rows]


@dataclass(frozen=True)
class FormCounts:
    last_day: int
    last_week: int
    last_month: int
    photos_last_month: int


def recent_counts() -> FormCounts:
    """Appeals filed through the web form in the last 24 hours, 7 and 30 days."""
    now = utcnow()

    def since(days: int) -> int:
        return db.session.scalar(db.select(db.func.count(Submission.id)).where(
            Submission.channel == Platform.WEB.value, Submission.created_at >= now - timedelta(days=days))) or 0

    photos = db.session.scalar(db.select(db.func.count(SubmissionPhoto.id)).where(
        SubmissionPhoto.created_at >= now - timedelta(days=30))) or 0
    return FormCounts(since(1), since(7), since(30), photos)
