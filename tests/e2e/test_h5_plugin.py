"""H5 pay through the pytest plugin's own fixtures: a merchant's page links to mweb_url on wx.tenpay.com (routed to
the sandbox), `h5_cashier` pays it, and WeChat sends the browser back to redirect_url."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from aiohttp import web
from playwright.sync_api import Page

from mock_wechat.pay import v2_xml
from sandbox.playwright import H5Cashier
from sandbox.testing import AppThread, WeChatSandbox
from tests.pay_helpers import order_fields, signed_xml


def merchant_app(links: dict[str, str]) -> web.Application:
    async def shop(request: web.Request) -> web.Response:
        html = f'<a data-testid="go" href="{links["pay"]}">微信支付</a>'
        return web.Response(text=html, content_type="text/html")

    async def done(request: web.Request) -> web.Response:
        return web.Response(text='<h1 data-testid="done">back at the shop</h1>', content_type="text/html")

    app = web.Application()
    app.router.add_get("/shop", shop)
    app.router.add_get("/done", done)
    return app


@pytest.fixture
def shop() -> Iterator[tuple[AppThread, dict[str, str]]]:
    links: dict[str, str] = {}
    server = AppThread(lambda: merchant_app(links)).start()
    yield server, links
    server.stop()


def mweb_url_on_wechats_host(sandbox: WeChatSandbox, out_trade_no: str) -> str:
    """unifiedorder addressed to api.mch.weixin.qq.com (as through the proxy): the link is WeChat's own."""
    body = signed_xml(order_fields(out_trade_no=out_trade_no, trade_type="MWEB", openid=None), sandbox.mch_key)
    answer = requests.post(
        f"{sandbox.url}/pay/unifiedorder", data=body, headers={"Host": "api.mch.weixin.qq.com"}, timeout=10
    )
    return v2_xml.parse(answer.content)["mweb_url"]


def test_h5_cashier_pays_a_wx_tenpay_link_and_returns_to_redirect_url(
    wechat_sandbox: WeChatSandbox, h5_page: Page, h5_cashier: H5Cashier, shop: tuple[AppThread, dict[str, str]]
) -> None:
    server, links = shop
    link = mweb_url_on_wechats_host(wechat_sandbox, "H5PLUGIN1")
    assert link.startswith("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?")
    links["pay"] = f"{link}&redirect_url={quote(server.url + '/done', safe='')}"
    h5_page.goto(f"{server.url}/shop")
    h5_page.get_by_test_id("go").click()
    assert h5_cashier.wait().amount() == "¥1.00"
    h5_cashier.pay(user="bob")
    h5_page.wait_for_url(f"{server.url}/done")
    order = wechat_sandbox.order("H5PLUGIN1")
    assert (order["trade_state"], order["user"]) == ("SUCCESS", "bob")


def test_h5_cashier_reads_wechats_refusal_of_a_link_typed_in(
    wechat_sandbox: WeChatSandbox, h5_page: Page, h5_cashier: H5Cashier
) -> None:
    h5_page.goto(mweb_url_on_wechats_host(wechat_sandbox, "H5PLUGIN2"))
    assert h5_cashier.error() == "商家参数格式有误，请联系商家解决"
    assert h5_cashier.diagnostic().startswith("wechat-sandbox: the request has no Referer")
