"""The demo shop for buyers outside WeChat, over HTTP: the way picked by user agent, the QR code of a desktop
checkout, the H5 redirect, the APP parameters, and mode 1's scan-pay callback."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from demo_shop.outside import way_of
from sandbox import defaults
from tests.demo_shop.conftest import World, close_world, open_world

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
PHONE = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
)
WECHAT = PHONE + " MicroMessenger/8.0.47.2560(0x28002F30)"
MCH_ID = defaults.DEFAULT_MCH_ID


@pytest.fixture
async def guest(tmp_path: Path) -> AsyncIterator[World]:
    """The shop and the sandbox, and a browser that did not sign in with WeChat."""
    found = await open_world(None)
    try:
        yield found
    finally:
        await close_world(found)


async def guest_order(world: World, product: str = "tea") -> str:
    placed = await world.post("/orders/guest", data={"product": product})
    assert placed.status == 302, await placed.text()
    return placed.headers["Location"].rsplit("/", 1)[1]


@pytest.mark.parametrize(("agent", "way"), [(DESKTOP, "NATIVE"), (PHONE, "MWEB"), (WECHAT, "JSAPI")])
def test_the_user_agent_picks_the_way(agent: str, way: str) -> None:
    assert way_of(agent) == way


async def test_a_desktop_checkout_shows_the_orders_code_url_as_a_qr_code(guest: World) -> None:
    out_trade_no = await guest_order(guest)
    page = await (await guest.get(f"/pay/{out_trade_no}", headers={"User-Agent": DESKTOP})).text()
    order = await guest.sandbox_json("GET", f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}")
    code_url = "weixin://wxpay/bizpayurl?pr=" + order["prepay_id"][-7:]
    assert (order["trade_type"], f'data-testid="shop-code-url">{code_url}</code>' in page) == ("NATIVE", True)
    assert '<div data-testid="shop-qr" style="display:inline-block;background:#fff;padding:4px"><svg' in page


async def test_the_qr_page_polls_the_order_until_the_scan_pays_it(guest: World) -> None:
    out_trade_no = await guest_order(guest)
    await guest.get(f"/pay/{out_trade_no}", headers={"User-Agent": DESKTOP})
    order = await guest.sandbox_json("GET", f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}")
    await guest.sandbox_json(
        "POST", "/_sandbox/api/scan", {"code_url": "weixin://wxpay/bizpayurl?pr=" + order["prepay_id"][-7:]}
    )
    status = await (await guest.get(f"/api/orders/{out_trade_no}?ask=1")).json()
    assert status == {"out_trade_no": out_trade_no, "status": "PAID"}


async def test_h5_pay_redirects_to_the_cashier_with_the_result_page_as_redirect_url(guest: World) -> None:
    out_trade_no = await guest_order(guest)
    sent = await guest.post(f"/pay/{out_trade_no}/h5", headers={"User-Agent": PHONE})
    location = sent.headers["Location"]
    assert sent.status == 303
    assert re.fullmatch(
        re.escape(guest.sandbox_url)
        + r"/cgi-bin/mmpayweb-bin/checkmweb\?prepay_id=wx\w+&package=\d+&redirect_url="
        + re.escape(quote(f"{guest.shop_url}/result/{out_trade_no}", safe="")),
        location,
    ), location


async def test_another_sites_page_may_not_open_the_shops_h5_link(guest: World) -> None:
    out_trade_no = await guest_order(guest)
    location = (await guest.post(f"/pay/{out_trade_no}/h5", headers={"User-Agent": PHONE})).headers["Location"]
    page = await (
        await guest.get(location, headers={"User-Agent": PHONE, "Referer": "https://elsewhere.example/"})
    ).text()
    assert "商家存在未配置的参数，请联系商家解决" in page


async def test_the_app_parameters_are_paid_by_the_sandbox_app(guest: World) -> None:
    out_trade_no = await guest_order(guest)
    page = await (await guest.get(f"/app/{out_trade_no}")).text()
    params = html.unescape(page.split('data-testid="shop-app-params">', 1)[1].split("</pre>", 1)[0])
    answer = await guest.sandbox_json("POST", "/_sandbox/api/app-pay", {"params": json.loads(params)})
    assert (answer["errCode"], answer["order"]["trade_state"]) == (0, "SUCCESS")


async def test_the_mode_one_code_is_paid_through_the_shops_callback(guest: World) -> None:
    page = await (await guest.get("/products/tea/code")).text()
    code_url = html.unescape(page.split('data-testid="shop-mode1-url">', 1)[1].split("</code>", 1)[0])
    paid = await guest.sandbox_json("POST", "/_sandbox/api/scan", {"code_url": code_url, "user": "bob"})
    assert (paid["order"]["trade_state"], paid["order"]["total_fee"], paid["order"]["user"]) == ("SUCCESS", 1280, "bob")


@pytest.fixture
async def guest_v3(tmp_path: Path) -> AsyncIterator[World]:
    """The same, the shop speaking API v3."""
    found = await open_world(None, "v3")
    try:
        yield found
    finally:
        await close_world(found)


async def test_a_v3_shops_desktop_checkout_is_paid_by_scanning_its_code(guest_v3: World) -> None:
    out_trade_no = await guest_order(guest_v3)
    page = await (await guest_v3.get(f"/pay/{out_trade_no}", headers={"User-Agent": DESKTOP})).text()
    code_url = html.unescape(page.split('data-testid="shop-code-url">', 1)[1].split("</code>", 1)[0])
    await guest_v3.sandbox_json("POST", "/_sandbox/api/scan", {"code_url": code_url})
    status = await (await guest_v3.get(f"/api/orders/{out_trade_no}?ask=1")).json()
    assert status["status"] == "PAID"


async def test_a_v3_shops_h5_pay_goes_to_the_h5_url_with_redirect_url(guest_v3: World) -> None:
    out_trade_no = await guest_order(guest_v3)
    sent = await guest_v3.post(f"/pay/{out_trade_no}/h5", headers={"User-Agent": PHONE})
    cashier = await guest_v3.get(sent.headers["Location"], headers={"User-Agent": PHONE, "Referer": guest_v3.shop_url})
    page = await cashier.text()
    assert f'var redirectUrl = "{guest_v3.shop_url}/result/{out_trade_no}";' in page
