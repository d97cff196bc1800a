"""A merchant's shop for browser tests: pages on its own origin, the official JS-SDK, a notify endpoint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from playwright.sync_api import Browser, ConsoleMessage, Page, Route
from wechatpy.pay import WeChatPay

from sandbox import defaults
from sandbox.playwright import context_options
from tests.conftest import APPID, SECRET
from tests.e2e.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_SDK = ROOT / "node_modules" / "weixin-js-sdk" / "index.js"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 "
    "Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F30) NetType/WIFI Language/zh_CN"
)
MCH_ID, MCH_KEY = defaults.DEFAULT_MCH_ID, defaults.DEFAULT_MCH_KEY
ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"


@dataclass
class Shop:
    """The merchant's origin: `pages[path] = html` is served at `path`; notifications are recorded."""

    server: LiveServer
    pages: dict[str, str] = field(default_factory=dict)
    notifications: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def notify_url(self) -> str:
        return f"{self.url}/notify"


def shop_app(shop: Shop) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        if request.path == "/sdk/jweixin-npm.js":
            return web.Response(body=OFFICIAL_SDK.read_bytes(), content_type="application/javascript")
        html = shop.pages.get(request.path)
        if html is None:
            raise web.HTTPNotFound()
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def notify(request: web.Request) -> web.Response:
        shop.notifications.append(await request.text())
        return web.Response(text=ACK, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/notify", notify)
    app.router.add_get("/{tail:.*}", page)
    return app


def sdk_tags(sandbox_url: str, sdk: str) -> str:
    """The bridge, then the JS-SDK: `official` (npm weixin-js-sdk), `sandbox` (our jweixin) or `raw` (none)."""
    bridge = f'<script src="{sandbox_url}/_sandbox/static/wechat-bridge.js"></script>'
    if sdk == "official":
        return bridge + (
            "<script>var module = {exports: {}};</script>"
            '<script src="/sdk/jweixin-npm.js"></script>'
            "<script>window.wx = module.exports;</script>"
        )
    if sdk == "sandbox":
        return bridge + f'<script src="{sandbox_url}/open/js/jweixin-1.6.0.js"></script>'
    return bridge


def page_html(sandbox_url: str, sdk: str, script: str) -> str:
    """A page that records what happens in `window.log` (a list of strings) and runs `script`."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>'
        "<h1>shop</h1><script>window.log = [];</script>"
        f"{sdk_tags(sandbox_url, sdk)}<script>{script}</script></body></html>"
    )


class Sandbox:
    """The merchant back end's view of the sandbox: tokens, tickets, orders through wechatpy."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pay = WeChatPay(APPID, MCH_KEY, MCH_ID)
        self.pay.API_BASE_URL = url + "/"

    def ticket(self) -> str:
        params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        token = requests.get(f"{self.url}/cgi-bin/token", params=params, timeout=5).json()["access_token"]
        query = {"access_token": token, "type": "jsapi"}
        return str(requests.get(f"{self.url}/cgi-bin/ticket/getticket", params=query, timeout=5).json()["ticket"])

    def wx_config(self, page_url: str, *, jsapis: list[str] | None = None, signature: str | None = None) -> str:
        """`wx.config({...})` signed for `page_url` (its `#fragment` removed, as WeChat signs it)."""
        nonce, timestamp = "noncexyz", "1700000000"
        plain = f"jsapi_ticket={self.ticket()}&noncestr={nonce}&timestamp={timestamp}&url={page_url.split('#')[0]}"
        config = {
            "debug": False,
            "appId": APPID,
            "timestamp": int(timestamp),
            "nonceStr": nonce,
            "signature": signature or hashlib.sha1(plain.encode()).hexdigest(),  # noqa: S324 - WeChat's algorithm
            "jsApiList": jsapis or ["chooseWXPay", "updateAppMessageShareData", "getNetworkType"],
        }
        return f"wx.config({json.dumps(config)});"

    def openid(self, user: str = "alice") -> str:
        users = requests.get(f"{self.url}/_sandbox/api/config", timeout=5).json()["users"]
        return str(next(u for u in users if u["id"] == user)["openids"][APPID])

    def order(self, out_trade_no: str, notify_url: str, total_fee: int = 100, user: str = "alice", **extra: Any) -> str:
        """unifiedorder through wechatpy; returns the prepay_id."""
        answer = self.pay.order.create(
            "JSAPI", "测试商品", total_fee, notify_url, client_ip="127.0.0.1", user_id=self.openid(user),
            out_trade_no=out_trade_no, **extra,
        )  # fmt: skip
        return str(answer["prepay_id"])

    def jsapi_params(self, prepay_id: str, jssdk: bool) -> dict[str, str]:
        return dict(self.pay.jsapi.get_jsapi_params(prepay_id, jssdk=jssdk))

    def order_state(self, out_trade_no: str) -> str:
        found = requests.get(f"{self.url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}", timeout=5).json()
        return str(found["trade_state"])


@pytest.fixture
def shop() -> Iterator[Shop]:
    holder: list[Shop] = []
    server = LiveServer(lambda: shop_app(holder[0]))
    holder.append(Shop(server))
    server.start()
    yield holder[0]
    server.stop()


@dataclass
class WeChatPage:
    """A Playwright page that looks like WeChat's browser, with its console captured."""

    page: Page
    console: list[str]

    def sandbox_messages(self) -> list[str]:
        return [m for m in self.console if m.startswith("[wechat-sandbox]")]


@pytest.fixture
def phone(browser: Browser) -> Iterator[WeChatPage]:
    """A WeChat-like page (the plugin's user agent and viewport) whose console is recorded.

    The bridge itself comes from each page's <script> tag here, since these tests check the tag too; the
    plugin's `wechat_page` (see test_bridge_smoke.py) injects it instead."""
    context = browser.new_context(**context_options("android"))
    context.set_default_timeout(10_000)

    def beacon(route: Route) -> None:
        route.fulfill(status=204)

    context.route("https://open.weixin.qq.com/**", beacon)
    page = context.new_page()
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", record)
    yield WeChatPage(page, console)
    context.close()
