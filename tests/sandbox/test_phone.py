"""`/_sandbox/phone`: the page lists open NATIVE orders, reads an uploaded QR code, draws one."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.pay import v2_xml
from sandbox import qr
from tests.conftest import ClientFactory, make_config
from tests.pay_helpers import order_fields, post

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def test_the_phone_lists_an_open_native_order_with_its_code_url(api: Client) -> None:
    order = order_fields(out_trade_no="N1", trade_type="NATIVE", openid=None, product_id="tea")
    _, text = await post(api, "/pay/unifiedorder", order)
    code_url = v2_xml.parse(text.encode())["code_url"]
    page = await (await api.get("/_sandbox/phone")).text()
    assert f'data-code="{code_url}" data-order="N1"' in page


async def test_the_phone_escapes_a_pasted_code_url(api: Client) -> None:
    page = await (await api.get("/_sandbox/phone", params={"code_url": "</textarea><script>x</script>"})).text()
    assert "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>" in page


async def test_an_uploaded_picture_of_a_code_reads_as_its_text(api: Client) -> None:
    resp = await api.post("/_sandbox/phone/decode", data=qr.png("weixin://wxpay/bizpayurl?pr=abcdefg"))
    assert (resp.status, await resp.json()) == (200, {"code_url": "weixin://wxpay/bizpayurl?pr=abcdefg"})


async def test_an_upload_that_is_no_picture_says_so(api: Client) -> None:
    resp = await api.post("/_sandbox/phone/decode", data=b"GIF-but-not-really")
    assert (resp.status, await resp.json()) == (
        400,
        {"error": "not a picture the sandbox can read (PNG, JPEG, GIF, WebP)"},
    )


async def test_the_qr_image_of_a_text_is_an_svg(api: Client) -> None:
    resp = await api.get("/_sandbox/qr.svg", params={"text": "weixin://wxpay/bizpayurl?pr=abcdefg"})
    assert (resp.status, resp.content_type) == (200, "image/svg+xml")


async def test_the_app_page_escapes_pasted_parameters(api: Client) -> None:
    page = await (await api.get("/_sandbox/app", params={"params": '{"sign": "</textarea>"}'})).text()
    assert "{&#34;sign&#34;: &#34;&lt;/textarea&gt;&#34;}</textarea>" in page


async def test_the_console_shows_an_open_native_orders_code_with_a_link_to_the_phone(api: Client) -> None:
    order = order_fields(out_trade_no="N2", trade_type="NATIVE", openid=None, product_id="tea")
    _, text = await post(api, "/pay/unifiedorder", order)
    code_url = v2_xml.parse(text.encode())["code_url"]
    page = await (await api.get("/_sandbox/orders/1900000109/N2")).text()
    assert f'<a href="/_sandbox/phone?code_url={quote(code_url, safe="/")}">scan it with the sandbox phone</a>' in page
