"""Real headless Chromium (Playwright, sync API) against a sandbox served from a background thread."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, sync_playwright

import sandbox
from tests.conftest import make_config

CHROMIUM_ENV = "WECHAT_SANDBOX_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT = 10.0


def find_chromium() -> str | None:
    """$WECHAT_SANDBOX_CHROMIUM, else a Chromium on PATH, else None: Playwright's bundled browser."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class LiveServer:
    """An aiohttp app on 127.0.0.1 (a free port), run by its own event loop in a daemon thread."""

    def __init__(self, build: Callable[[], web.Application]) -> None:
        self._build = build
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="e2e-live-server", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which raises it
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        runner = web.AppRunner(self._build(), access_log=None)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        assert host == "127.0.0.1"
        self.port = int(port)

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT):
            raise RuntimeError("the live server did not start")
        if self._error is not None:
            raise RuntimeError("the live server failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(STARTUP_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STARTUP_TIMEOUT)
        self._loop.close()


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
def browser() -> Iterator[Browser]:
    """One headless Chromium per module (its Playwright loop lives only while the module's tests run)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) with a phone-sized viewport."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# The shop and the WeChat-like page, for the bridge tests (imported last: shop.py uses LiveServer above).
from tests.e2e.shop import shop, wechat_page  # noqa: E402, F401
