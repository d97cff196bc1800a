"""The pytest plugin (`pytest11` entry point `wechat_sandbox`): a sandbox per session, WeChat-like pages.

Fixtures (none autouse):
- `wechat_sandbox`: the sandbox, reset before each test (`.url`, `.config`, `.pay()`, `.notifications()`…).
  In-process on a free port, or the one at `$WECHAT_SANDBOX_URL`. Its URL is also a proxy for WeChat's hosts
  (`.proxy`, trusting `.ca_certificate()`); `--wechat-sandbox-tls-port N` (or the ini option) adds `.tls_url`.
- `wechat_context` / `wechat_page`: a Playwright context/page that behaves like WeChat's browser.
- `pay_sheet`: the pay sheet of `wechat_page`.
- `h5_page` / `h5_cashier`: a phone's ordinary browser (H5 pay happens outside WeChat), its requests to WeChat's
  hosts (wx.tenpay.com's cashier too) sent to the sandbox, and WeChat's H5 cashier in it (`.pay()`, `.error()`).
- `wechat_sandbox.scan(code_url, user=…)` scans and pays a NATIVE code (mode 2, or mode 1 via the merchant's
  scan-pay callback); `/_sandbox/phone` does it by hand.
- `async_wechat_context` / `async_wechat_page` / `async_pay_sheet`: the same for Playwright's async API
  (with pytest-asyncio).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from sandbox import playwright as helpers
from sandbox.testing import SandboxThread, WeChatSandbox, load_config

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext as AsyncContext
    from playwright.async_api import Page as AsyncPage
    from playwright.sync_api import Browser, BrowserContext, Page

URL_ENV = "WECHAT_SANDBOX_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("wechat_sandbox_config", "a TOML config for the in-process sandbox", default="")
    parser.addini("wechat_sandbox_platform", "android or ios: the WeChat user agent of wechat_page", default="android")
    parser.addini("wechat_sandbox_user", "the sandbox user wechat_page acts as (default: the first)", default="")
    parser.addini(
        "wechat_sandbox_tls_port", "serve HTTPS too, on this port (0: a free one); empty: no TLS listener", default=""
    )
    parser.addoption(
        "--wechat-sandbox-tls-port",
        type=int,
        metavar="N",
        help="the in-process sandbox also serves HTTPS on this port (0: a free one), like `serve --tls-port`",
    )


@pytest.fixture(scope="session")
def wechat_sandbox_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """$WECHAT_SANDBOX_URL, or a sandbox started for this test session (in memory, on a free port)."""
    external = os.environ.get(URL_ENV)
    if external:
        yield external.rstrip("/")
        return
    tls_port = pytestconfig.getoption("--wechat-sandbox-tls-port")
    if tls_port is None and str(pytestconfig.getini("wechat_sandbox_tls_port")).strip():
        tls_port = int(str(pytestconfig.getini("wechat_sandbox_tls_port")))
    config = load_config(str(pytestconfig.getini("wechat_sandbox_config")) or None)
    server = SandboxThread(config, tls_port=tls_port).start()
    yield server.url
    server.stop()


@pytest.fixture
def wechat_sandbox(wechat_sandbox_url: str) -> WeChatSandbox:
    """The sandbox, reset to its configured start before the test."""
    sandbox = WeChatSandbox(wechat_sandbox_url)
    sandbox.reset()
    return sandbox


def _user(pytestconfig: pytest.Config, sandbox: WeChatSandbox) -> str:
    return str(pytestconfig.getini("wechat_sandbox_user")) or str(sandbox.user()["id"])


def _pins(sandbox: WeChatSandbox) -> dict[str, str]:
    return {str(u["id"]): str(u["pin"]) for u in sandbox.config["users"]}


@pytest.fixture(scope="module")
def wechat_browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """pytest-playwright's `browser` when it is installed, else a headless Chromium of our own.

    Ours lives for one test module: Playwright's sync API keeps an event loop running in the test thread, and
    asyncio tests in other modules need that thread free."""
    if request.config.pluginmanager.hasplugin("playwright"):
        yield request.getfixturevalue("browser")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(headless=True, **helpers.launch_options())
        yield browser
        browser.close()


@dataclass
class WeChatPhone:
    """A Playwright context acting as one user's WeChat, and its routing of WeChat's hosts."""

    context: BrowserContext
    routing: helpers.WeChatRouting
    sandbox_url: str

    def login_as(self, user: str) -> None:
        helpers.login_as(self.context, self.sandbox_url, user, self.routing)


@pytest.fixture
def wechat_phone(
    wechat_browser: Browser, wechat_sandbox: WeChatSandbox, pytestconfig: pytest.Config
) -> Iterator[WeChatPhone]:
    platform = str(pytestconfig.getini("wechat_sandbox_platform"))
    context = wechat_browser.new_context(**helpers.context_options(platform))
    context.set_default_timeout(10_000)
    routing = helpers.prepare_context(context, wechat_sandbox.url, _user(pytestconfig, wechat_sandbox))
    yield WeChatPhone(context, routing, wechat_sandbox.url)
    context.close()


@pytest.fixture
def wechat_context(wechat_phone: WeChatPhone) -> BrowserContext:
    """A context that is WeChat's browser: user agent, bridge, WeChat's hosts routed, a user chosen."""
    return wechat_phone.context


@pytest.fixture
def wechat_page(wechat_context: BrowserContext) -> Page:
    return wechat_context.new_page()


@pytest.fixture
def login_as(wechat_phone: WeChatPhone) -> Callable[[str], None]:
    """`login_as("bob")`: the browser is that user from now on (no user picker)."""
    return wechat_phone.login_as


@pytest.fixture
def pay_sheet(wechat_page: Page, wechat_sandbox: WeChatSandbox) -> helpers.PaySheet:
    return helpers.PaySheet(wechat_page, _pins(wechat_sandbox))


@pytest.fixture
def h5_page(wechat_browser: Browser, wechat_sandbox: WeChatSandbox) -> Iterator[Page]:
    """A page of a phone's ordinary browser (Android Chrome, no MicroMessenger): where H5 pay happens."""
    context = wechat_browser.new_context(**helpers.browser_options())
    context.set_default_timeout(10_000)
    helpers.prepare_context(context, wechat_sandbox.url, bridge=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def h5_cashier(h5_page: Page, wechat_sandbox: WeChatSandbox) -> helpers.H5Cashier:
    """WeChat's H5 cashier in `h5_page`: follow the merchant's link to mweb_url, then `.pay()`."""
    return helpers.H5Cashier(h5_page, _pins(wechat_sandbox))


if importlib.util.find_spec("pytest_asyncio") is not None:  # the async variants need pytest-asyncio
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def async_wechat_context(
        wechat_sandbox: WeChatSandbox, pytestconfig: pytest.Config
    ) -> AsyncIterator[AsyncContext]:
        """`wechat_context` for Playwright's async API (a browser of its own for the test)."""
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(headless=True, **helpers.launch_options())
            platform = str(pytestconfig.getini("wechat_sandbox_platform"))
            context = await browser.new_context(**helpers.context_options(platform))
            context.set_default_timeout(10_000)
            await helpers.prepare_context_async(context, wechat_sandbox.url, _user(pytestconfig, wechat_sandbox))
            yield context
            await browser.close()

    @pytest_asyncio.fixture
    async def async_wechat_page(async_wechat_context: AsyncContext) -> AsyncPage:
        return await async_wechat_context.new_page()

    @pytest_asyncio.fixture
    async def async_pay_sheet(async_wechat_page: AsyncPage, wechat_sandbox: WeChatSandbox) -> helpers.AsyncPaySheet:
        return helpers.AsyncPaySheet(async_wechat_page, _pins(wechat_sandbox))
