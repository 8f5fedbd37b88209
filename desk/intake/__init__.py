"""Appeals filed straight with the desk (the web form, Open311 GeoReport v2).

:func:`desk.intake.services.file_appeal` takes a :class:`~desk.intake.services.Filing`
through the one door (:func:`desk.ingest.ingest`), so routing, the SLA, merging and
reports treat it like any comment. Answers reach the resident on the public status page
and by e-mail (:mod:`desk.intake.mail`); one click unsubscribes (:mod:`desk.intake.views`).
"""
