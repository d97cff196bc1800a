"""The whole in-page payment through the pytest plugin's own fixtures, as a user's suite would write it."""

from __future__ import annotations

import json
from urllib.parse import quote

from aiohttp import web
from playwright.sync_api import Page
from wechatpy.pay import WeChatPay

from sandbox.playwright import PaySheet
from sandbox.testing import AppThread, WeChatSandbox
from tests.e2e.shop import OFFICIAL_SDK


def merchant(sandbox: WeChatSandbox, notified: list[str]) -> web.Application:
    """A page that loads the official JS-SDK and pays with `params`, signed by the merchant's back end."""

    async def page(request: web.Request) -> web.Response:
        from tests.e2e.shop import Sandbox

        config = Sandbox(sandbox.url).wx_config(str(request.url))
        script = config + "wx.ready(function () { wx.chooseWXPay(Object.assign(" + request.query["params"] + ", {"
        script += "success: function () { document.title = 'paid'; } })); });"
        html = (
            "<script>var module = {exports: {}};</script><script src='/sdk.js'></script>"
            f"<script>window.wx = module.exports;</script><script>{script}</script>"
        )
        return web.Response(text=html, content_type="text/html")

    async def sdk(request: web.Request) -> web.Response:
        return web.Response(body=OFFICIAL_SDK.read_bytes(), content_type="application/javascript")

    async def notify(request: web.Request) -> web.Response:
        notified.append(await request.text())
        return web.Response(text="<xml><return_code>SUCCESS</return_code></xml>", content_type="text/xml")

    app = web.Application()
    app.router.add_get("/pay", page)
    app.router.add_get("/sdk.js", sdk)
    app.router.add_post("/notify", notify)
    return app


def open_pay_page(wechat_sandbox: WeChatSandbox, page: Page, shop: AppThread, out_trade_no: str) -> WeChatPay:
    """wechatpy makes the order (1 yuan, for the first user); the page pays it with the official JS-SDK."""
    pay = WeChatPay(wechat_sandbox.appid, wechat_sandbox.mch_key, wechat_sandbox.mch_id)
    pay.API_BASE_URL = wechat_sandbox.url + "/"
    order = pay.order.create("JSAPI", "茶", 100, shop.url + "/notify", client_ip="127.0.0.1",
                             user_id=wechat_sandbox.openid(), out_trade_no=out_trade_no)  # fmt: skip
    params = json.dumps(pay.jsapi.get_jsapi_params(order["prepay_id"], jssdk=True))
    page.goto(f"{shop.url}/pay?params={quote(params)}")
    return pay


def test_official_sdk_pays_through_the_plugin_fixtures(
    wechat_sandbox: WeChatSandbox, wechat_page: Page, pay_sheet: PaySheet
) -> None:
    notified: list[str] = []
    shop = AppThread(lambda: merchant(wechat_sandbox, notified)).start()
    try:
        pay = open_pay_page(wechat_sandbox, wechat_page, shop, "SMOKE-1")
        assert pay_sheet.wait().amount() == "¥1.00"
        pay_sheet.confirm()
        wechat_sandbox.notifications("SMOKE-1", wait_for=1)
        assert pay.parse_payment_result(notified[0])["out_trade_no"] == "SMOKE-1"
        assert wechat_sandbox.order("SMOKE-1")["trade_state"] == "SUCCESS"
    finally:
        shop.stop()


def test_reloading_the_page_closes_its_sheet_instead_of_flagging_a_second_one(
    wechat_sandbox: WeChatSandbox, wechat_page: Page, pay_sheet: PaySheet
) -> None:
    notified: list[str] = []
    shop = AppThread(lambda: merchant(wechat_sandbox, notified)).start()
    try:
        open_pay_page(wechat_sandbox, wechat_page, shop, "RELOAD-1")
        pay_sheet.wait()
        wechat_page.reload()
        pay_sheet.wait()
        entries = wechat_sandbox.journal()
        assert any(e["path"].endswith("/cancel") for e in entries)  # the old page's sheet was closed on pagehide
        notes = [n for e in entries for n in e["notes"]]
        assert not [n for n in notes if "second pay sheet" in n or "another page" in n]
    finally:
        shop.stop()
