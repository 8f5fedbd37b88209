"""Photos of the web form: checked by their content, re-encoded, stored by a random name.

A photo is accepted only when Pillow reads it as JPEG, PNG or WebP (whatever its name or
the browser's content type say), within ``REPORT_PHOTO_MAX_BYTES`` and
``REPORT_PHOTO_MAX_PIXELS``. HEIC/HEIF is refused with its own message: this Pillow cannot
read it (a phone's browser usually converts such a photo to JPEG when it uploads it).

What is stored is a new file, never the upload: the picture turned upright as its EXIF
orientation says, at most :data:`STORED_MAX_SIDE` pixels on its long side, without any
metadata (EXIF, XMP, comments, text chunks) except the colour profile and, only when the
resident ticked "keep the location", the GPS block of the EXIF. Files live under
``REPORT_UPLOAD_DIR`` (default ``instance/uploads/report``) as ``<2 hex>/<32 hex>.<ext>``.
"""
from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import ExifTags, Image, ImageOps

from ..i18n import lazy_gettext as _l
from .errors import ReportRefusal

#: the formats accepted (Pillow's names) and how each is stored
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
#: the long side of a stored photo, in pixels (larger photos are scaled down)
STORED_MAX_SIDE = 2560
JPEG_QUALITY = 88
WEBP_QUALITY = 85
#: ISO base-media brands of HEIC/HEIF files (the ``ftyp`` box at offset 4)
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"heif"}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


@dataclass
class Photo:
    """A photo ready to store: the re-encoded bytes and what the row records."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def upload_dir() -> Path:
    configured = current_app.config["REPORT_UPLOAD_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "report"


def stored_path(stored_name: str) -> Path | None:
    """Where a stored photo lives; None for a name the desk could not have made."""
    if not STORED_NAME.match(stored_name or ""):
        return None
    return upload_dir() / stored_name[:2] / stored_name


def _is_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def read_photo(data: bytes, *, keep_location: bool, number: int) -> Photo:
    """Check ``data`` (one uploaded file, already within the byte limit) and re-encode it.
    Raises :class:`ReportRefusal` for anything that is not an acceptable picture."""
    if not data:
        raise ReportRefusal(_l("Photo %(number)s is empty.", number=number), field="photos")
    if _is_heif(data[:16]):
        raise ReportRefusal(_l("Photo %(number)s is in HEIC format, which the form does not accept. Send it as "
                               "JPEG (on an iPhone: Settings → Camera → Formats → Most Compatible) or take a "
                               "screenshot of it.", number=number), field="photos")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            return _reencode(image, keep_location=keep_location, number=number)
    except ReportRefusal:
        raise
    except Exception as exc:  # noqa: BLE001 — Pillow reports a broken file with many types
        # (OSError, SyntaxError, ValueError, struct.error, DecompressionBombError, EOFError …):
        # for the resident each means the same thing.
        raise ReportRefusal(_l("Photo %(number)s could not be read: send a JPEG, PNG or WebP picture.",
                               number=number), field="photos") from exc


def _too_large(number: int) -> ReportRefusal:
    limit = current_app.config["REPORT_PHOTO_MAX_PIXELS"]
    return ReportRefusal(_l("Photo %(number)s is too large: at most %(megapixels)s megapixels.",
                            number=number, megapixels=f"{limit / 1_000_000:g}"), field="photos")


def _reencode(image: Image.Image, *, keep_location: bool, number: int) -> Photo:
    width, height = image.size
    if width < 1 or height < 1 or width * height > current_app.config["REPORT_PHOTO_MAX_PIXELS"]:
        raise _too_large(number)
    source_format = image.format or "JPEG"
    content_type, extension = FORMATS[source_format]
    gps = _gps_block(image) if keep_location else None
    icc = image.info.get("icc_profile")
    if source_format == "JPEG" and max(width, height) > 2 * STORED_MAX_SIDE:
        image.draft("RGB", (STORED_MAX_SIDE, STORED_MAX_SIDE))  # decode at 1/2, 1/4 … scale: less memory
    image.seek(0)  # an animated PNG or WebP: its first frame
    image.load()
    try:
        picture = ImageOps.exif_transpose(image) or image
    except Exception:  # noqa: BLE001 — a broken EXIF block: the picture as it is stored
        picture = image
    picture = _storable_mode(picture, source_format)
    if max(picture.size) > STORED_MAX_SIDE:
        picture.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)
    options: dict = {}
    if icc:
        options["icc_profile"] = icc
    if gps:
        kept = Image.Exif()
        kept[ExifTags.IFD.GPSInfo] = gps
        options["exif"] = kept.tobytes()
    out = io.BytesIO()
    if source_format == "JPEG":
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    elif source_format == "WEBP":
        picture.save(out, "WEBP", quality=WEBP_QUALITY, **options)
    else:
        picture.save(out, "PNG", **options)
    return Photo(out.getvalue(), content_type, extension, picture.width, picture.height)


def _gps_block(image: Image.Image) -> dict | None:
    try:
        gps = dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:  # noqa: BLE001 — an unreadable GPS block is simply not kept
        return None
    return gps or None


def _storable_mode(picture: Image.Image, source_format: str) -> Image.Image:
    """A mode the format can write (CMYK or 16-bit pictures become RGB)."""
    if source_format == "JPEG":
        return picture if picture.mode in ("RGB", "L") else picture.convert("RGB")
    if picture.mode in ("RGB", "RGBA", "L", "LA") or (source_format == "PNG" and picture.mode in ("P", "1")):
        return picture
    has_alpha = "A" in picture.getbands() or "transparency" in picture.info
    return picture.convert("RGBA" if has_alpha else "RGB")


def store(photo: Photo) -> str:
    """Write ``photo`` under the upload folder by a new random name; returns the name."""
    name = f"{secrets.token_hex(16)}.{photo.extension}"
    path = stored_path(name)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as fh:  # never overwrite
        fh.write(photo.data)
    return name


def remove(stored_name: str) -> None:
    """Delete a stored photo (its ticket was not saved after all)."""
    path = stored_path(stored_name)
    if path is not None:
        path.unlink(missing_ok=True)
