"""QR codes of account links (segno), as SVG for the screen and print, PNG for download."""
from __future__ import annotations

import io

import segno


def qr_svg(link: str, *, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    # dark/light given so the code prints the same on any page colour
    segno.make(link, error="m").save(buffer, kind="svg", scale=scale, border=4, dark="#000", light="#fff",
                                     xmldecl=True, svgclass="qr")
    return buffer.getvalue()


def qr_png(link: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
