"""Photos of the web form: read by their content, re-encoded upright and without metadata
(the GPS position kept only when asked), stored by a random name under the instance
folder; anything that is not an acceptable picture is refused in Russian, never a 500."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from desk.extensions import db
from desk.models import Ticket
from desk.models.intake import Submission, SubmissionPhoto
from desk.report_form.photos import stored_path, upload_dir
from tests.test_report_form_support import GPS, fields, file_report, gps_exif, jpeg, png, webp


@pytest.fixture
def quick(app):
    app.config["REPORT_MIN_FILL_SECONDS"] = 0
    return app


def stored_files(app) -> list[Path]:
    with app.test_request_context():
        root = upload_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def only_photo() -> SubmissionPhoto:
    [photo] = db.session.scalars(db.select(SubmissionPhoto)).all()
    return photo


def open_stored(photo: SubmissionPhoto) -> Image.Image:
    path = stored_path(photo.stored_name)
    assert path is not None and path.is_file()
    return Image.open(path)


def test_gps_is_removed_by_default_and_the_photo_is_turned_upright(client, quick, app):
    before = set(stored_files(app))
    original = jpeg((80, 40), exif=gps_exif(orientation=6))  # "rotate 90° clockwise to view"
    response = file_report(client, photos=[(original, "IMG_0001 (мой дом).jpg", "application/octet-stream")],
                           **fields())
    assert response.status_code == 303
    photo = only_photo()
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (40, 80)
    assert "IMG_0001" not in photo.stored_name and photo.stored_name.endswith(".jpg")
    path = stored_path(photo.stored_name)
    assert Path(app.instance_path) / "uploads" / "report" in path.parents
    assert set(stored_files(app)) - before == {path}
    assert photo.size == path.stat().st_size and path.read_bytes() != original
    with open_stored(photo) as image:
        exif = image.getexif()
        assert image.size == (40, 80)
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert ExifTags.Base.Make not in exif and ExifTags.Base.Orientation not in exif
    assert b"PhoneMaker" not in path.read_bytes()
    submission = db.session.scalars(db.select(Submission)).one()
    assert submission.photo_location_kept is False


def test_gps_is_kept_when_the_resident_ticks_the_box(client, quick):
    original = jpeg((30, 20), exif=gps_exif())
    response = file_report(client, photos=[(original, "a.jpg", "image/jpeg")], **fields(keep_location="yes"))
    assert response.status_code == 303
    photo = only_photo()
    with open_stored(photo) as image:
        exif = image.getexif()
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert gps[1] == "N" and gps[3] == "E"
        assert [float(x) for x in gps[2]] == list(GPS[2]) and [float(x) for x in gps[4]] == list(GPS[4])
        assert ExifTags.Base.Make not in exif  # only the position is kept
    assert db.session.scalars(db.select(Submission)).one().photo_location_kept is True


def test_png_and_webp_are_accepted_and_lose_their_text_chunks(client, quick):
    response = file_report(client, photos=[(png(), "scan.PNG", "image/png"), (webp(), "w.webp", "image/webp"),
                                           (png(mode="P"), "pal.png", "image/png")], **fields())
    assert response.status_code == 303
    rows = db.session.scalars(db.select(SubmissionPhoto).order_by(SubmissionPhoto.id)).all()
    assert [r.content_type for r in rows] == ["image/png", "image/webp", "image/png"]
    with open_stored(rows[0]) as image:
        assert image.format == "PNG" and "Comment" not in image.info
    assert b"secret author note" not in stored_path(rows[0].stored_name).read_bytes()
    with open_stored(rows[1]) as image:
        assert image.format == "WEBP"


def test_large_photos_are_scaled_down_and_cmyk_becomes_rgb(client, quick):
    buffer = io.BytesIO()
    Image.new("CMYK", (3000, 1000), (0, 50, 100, 0)).save(buffer, "JPEG")
    response = file_report(client, photos=[(buffer.getvalue(), "cmyk.jpg", "image/jpeg")], **fields())
    assert response.status_code == 303
    photo = only_photo()
    assert max(photo.width, photo.height) == 2560
    with open_stored(photo) as image:
        assert image.mode == "RGB"


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) \
        + chunk(b"IEND", b"")


def _zip_bomb_png() -> bytes:
    """A real 10000 × 10000 PNG (100 megapixels) that compresses to a few hundred kilobytes."""
    row = b"\0" + b"\0" * 10000
    data = zlib.compress(row * 10000, 9)
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 10000, 10000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    return buffer.getvalue()


def _heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def _svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'


BAD = {
    "text named .jpg": (b"just some text, not a picture", "photo.jpg", "image/jpeg", "не удалось прочитать"),
    "truncated jpeg": (jpeg((300, 300))[:600], "cut.jpg", "image/jpeg", "не удалось прочитать"),
    "gif": (_gif(), "a.gif", "image/gif", "не удалось прочитать"),
    "svg with a script": (_svg(), "a.svg", "image/svg+xml", "не удалось прочитать"),
    "heic": (_heic(), "IMG_1.HEIC", "image/heic", "в формате HEIC"),
    "header of a bomb": (_png_declaring(100_000, 100_000), "bomb.png", "image/png", ""),
    "zip bomb": (_zip_bomb_png(), "zip.png", "image/png", ""),
    "empty file": (b"", "empty.jpg", "image/jpeg", "пустой файл"),
    "zero size": (_png_declaring(0, 10), "zero.png", "image/png", ""),
    "html as png": (b"<html><script>alert(1)</script></html>", "x.png", "image/png", "не удалось прочитать"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_anything_but_a_readable_picture_is_refused_in_russian(client, quick, app, name):
    before = stored_files(app)
    content, filename, content_type, message = BAD[name]
    response = file_report(client, photos=[(jpeg(), "good.jpg", "image/jpeg"), (content, filename, content_type)],
                           **fields(description="Сломанная скамейка во дворе"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Фото 2" in html and message in html and "Сломанная скамейка во дворе" in html
    assert 'data-test="error-photos"' in html
    assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0
    assert stored_files(app) == before


def test_a_photo_above_the_pixel_limit_is_refused(client, quick, app):
    app.config["REPORT_PHOTO_MAX_PIXELS"] = 100 * 100
    response = file_report(client, photos=[(jpeg((101, 100)), "a.jpg", "image/jpeg")], **fields())
    assert response.status_code == 422
    assert "не больше 0.01 мегапикселей" in response.get_data(as_text=True)


def test_an_empty_file_part_is_no_photo(client, quick):
    nothing = [(b"", "", "application/octet-stream")]  # what a browser sends when no file is chosen
    refused = file_report(client, photos=nothing, **fields(consent=None))
    assert refused.status_code == 422 and "прикрепите их снова" not in refused.get_data(as_text=True)
    response = file_report(client, photos=nothing, **fields())
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count(SubmissionPhoto.id))) == 0


def test_files_are_removed_when_the_ticket_cannot_be_saved(client, quick, app, monkeypatch):
    before = stored_files(app)

    def failing_commit():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        file_report(client, photos=[(jpeg(), "a.jpg", "image/jpeg")], **fields())
    monkeypatch.undo()
    assert stored_files(app) == before
    assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0
