"""The public web form "Сообщить о проблеме" (``/report``) and its embeddable twin
(``/report/embed``).

- :mod:`.form` reads and checks the fields (category, description, address, name,
  e-mail, consent);
- :mod:`.photos` checks photos by their content with Pillow and re-encodes them without
  metadata (GPS kept only when the resident asks);
- :mod:`.guard` holds the protections that need no third-party captcha: the signed
  timestamp of the form (minimum fill time, one filing per form), the honeypot field, the
  per-address rate limits in Redis and, for the embedded form, the same-origin check that
  stands in for the session's CSRF token (a framed page gets no cookies);
- :mod:`.services` files the appeal through :func:`desk.intake.services.file_appeal` and
  adds the photos; :mod:`.views` is the blueprint (the form, the confirmation, the staff's
  photo route, the administrators' snippet page).
"""
