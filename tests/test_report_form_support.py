"""Helpers of the web form's tests (tests/test_report_form*.py): open the form as a
browser would, post it with its tokens, and make pictures with Pillow."""
from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image

TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DONE_RE = re.compile(r"^/report(/embed)?/done/(\d+)-([0-9a-f]+)\?lang=(ru|en)$")

#: a latitude/longitude that must not survive unless the resident asks
GPS = {1: "N", 2: (62.0, 1.0, 30.0), 3: "E", 4: (129.0, 43.0, 5.0)}


def open_form(client, path: str = "/report") -> dict[str, str]:
    """GET the form; returns its hidden tokens (the CSRF token only on /report)."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    tokens = {"form_token": TOKEN_RE.search(html).group(1)}
    csrf = CSRF_RE.search(html)
    if csrf:
        tokens["csrf_token"] = csrf.group(1)
    return tokens


def fields(category: Any = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": str(category.id) if hasattr(category, "id") else (category or "other"),
        "description": "Во дворе дома 12 по ул. Кирова яма, машины застревают.",
        "address": "ул. Кирова, 12",
        "name": "Иван Петров",
        "email": "ivan@example.ru",
        "consent": "yes",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def file_report(client, path: str = "/report", tokens: dict[str, str] | None = None, photos=(), headers=None,
                environ_base=None, **data: Any):
    """Open the form (unless ``tokens`` are given) and post it; ``photos``: (bytes, filename, type)."""
    tokens = open_form(client, path) if tokens is None else tokens
    payload: dict[str, Any] = {**tokens, **data}
    if photos:
        payload["photos"] = [(io.BytesIO(content), filename, content_type) for content, filename, content_type in photos]
    return client.post(path, data=payload, content_type="multipart/form-data", headers=headers or {},
                       environ_base=environ_base or {})


def jpeg(size=(64, 48), color=(200, 30, 30), *, exif=None, quality=90) -> bytes:
    out = io.BytesIO()
    options = {"quality": quality}
    if exif is not None:
        options["exif"] = exif.tobytes()
    Image.new("RGB", size, color).save(out, "JPEG", **options)
    return out.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = dict(GPS)  # GPSInfo
    if orientation is not None:
        exif[0x0112] = orientation
    return exif


def png(size=(40, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret author note")
    Image.new(mode, size, 120).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, "WEBP")
    return out.getvalue()
