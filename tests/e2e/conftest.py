"""Real headless Chromium (Playwright, sync API) against a sandbox served from a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page

import sandbox
from sandbox.testing import AppThread
from tests.conftest import make_config

STARTUP_TIMEOUT = 10.0


class LiveServer(AppThread):
    """The plugin's AppThread (an aiohttp app on a free port in a thread of its own), with its port."""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclass
class Merchant:
    """The merchant's site: records the query string of every visit to its OAuth callback."""

    server: LiveServer
    received: list[dict[str, str]] = field(default_factory=list)

    @property
    def callback(self) -> str:
        return f"{self.server.url}/oauth/callback"


def merchant_app(received: list[dict[str, str]]) -> web.Application:
    async def callback(request: web.Request) -> web.Response:
        received.append(dict(request.query))
        return web.Response(text='<h1 data-testid="merchant-callback">merchant</h1>', content_type="text/html")

    app = web.Application()
    app.router.add_get("/oauth/callback", callback)
    return app


@pytest.fixture
def sandbox_server() -> Iterator[LiveServer]:
    """The whole sandbox (`sandbox.create_app`), in memory, with the test config."""
    server = LiveServer(lambda: sandbox.create_app(make_config())).start()
    yield server
    server.stop()


@pytest.fixture
def merchant() -> Iterator[Merchant]:
    received: list[dict[str, str]] = []
    server = LiveServer(lambda: merchant_app(received)).start()
    yield Merchant(server, received)
    server.stop()


@pytest.fixture(scope="module")
def browser(wechat_browser: Browser) -> Browser:
    """The pytest plugin's browser: one Playwright per module, shared with the plugin's own fixtures."""
    return wechat_browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) with a phone-sized viewport."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# The shop and the WeChat-like page, for the bridge tests (imported last: shop.py uses LiveServer above).
from tests.e2e.shop import phone, shop  # noqa: E402, F401
