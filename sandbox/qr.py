"""QR codes: drawn with segno (for a code_url to be scanned), read with zxing-cpp (an uploaded picture of one)."""

from __future__ import annotations

import io
from typing import Any


class Unreadable(ValueError):
    """The picture is no image, or holds no QR code; the message says which."""


def _code(text: str) -> Any:
    import segno  # imported here: ~60 ms of start-up otherwise, for a page few runs open

    return segno.make(text, error="m", micro=False)


def svg(text: str, scale: int = 4) -> str:
    """An SVG QR code of `text` (error correction M, the quiet zone of 4 modules a scanner needs)."""
    return str(_code(text).svg_inline(scale=scale, border=4))


def png(text: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def read(image: bytes) -> str:
    """The text of the first QR code in a PNG, JPEG, GIF or WebP picture."""
    import zxingcpp  # imported here: only a phone that uploads a picture pays for it
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as picture:
            found = zxingcpp.read_barcodes(picture.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Unreadable("not a picture the sandbox can read (PNG, JPEG, GIF, WebP)") from None
    if not found:
        raise Unreadable("no QR code found in the picture")
    return str(found[0].text)
