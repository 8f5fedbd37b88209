"""Open311 GeoReport v2 at ``/open311/v2`` (http://wiki.open311.org/GeoReport_v2).

The city's active categories are the services; public tickets of every platform are the
service requests (a merged ticket shows as the incident it joined; spam and "not an
appeal" are never listed); a city system holding an :class:`~desk.models.intake.Open311Key`
posts new requests, which go through :func:`desk.intake.services.file_appeal` like the
web form's. Every endpoint answers ``.json`` and ``.xml``; errors take the spec's shape.

- :mod:`.render`: the two formats, the spec's error shape (:class:`Open311Error`);
- :mod:`.params`: reading the query and the form (w3 datetimes, comma lists, duplicates);
- :mod:`.catalog`: services and their definitions;
- :mod:`.records`: the service requests as the spec names their fields, a page in a
  handful of queries;
- :mod:`.filing`: ``POST requests`` and ``GET tokens``;
- :mod:`.keys`: API keys (issue, revoke, check, a light rate limit per key);
- :mod:`.views` (the API), :mod:`.admin` (the keys page), :mod:`.cli` (``flask open311 keys``).
"""
