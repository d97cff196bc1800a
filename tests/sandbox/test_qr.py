"""QR codes: drawn with segno, read back with zxing-cpp."""

from __future__ import annotations

import pytest

from sandbox import qr

CODE_URL = "weixin://wxpay/bizpayurl?pr=6cd192a"


def test_a_drawn_png_reads_back_as_its_text() -> None:
    assert qr.read(qr.png(CODE_URL)) == CODE_URL


def test_the_svg_is_an_svg_image() -> None:
    assert qr.svg(CODE_URL).startswith("<svg ")


def test_bytes_that_are_no_picture_are_unreadable() -> None:
    with pytest.raises(qr.Unreadable, match=r"^not a picture the sandbox can read \(PNG, JPEG, GIF, WebP\)$"):
        qr.read(b"not a picture")


def test_a_picture_without_a_code_is_unreadable() -> None:
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("L", (64, 64), 255).save(blank, format="PNG")
    with pytest.raises(qr.Unreadable, match=r"^no QR code found in the picture$"):
        qr.read(blank.getvalue())
