"""Make a Playwright browser context behave like WeChat's browser, and drive the pay sheet (sync and async)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mock_wechat import trust
from mock_wechat.surfaces.assets import static_root

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext as AsyncContext
    from playwright.async_api import Page as AsyncPage
    from playwright.async_api import Route as AsyncRoute
    from playwright.sync_api import BrowserContext, Page, Route

USER_AGENTS = {
    "android": (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 "
        "Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F30) NetType/WIFI Language/zh_CN"
    ),
    "ios": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
    ),
}
PHONE_BROWSER = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 "
    "Mobile Safari/537.36"
)
"""A phone's ordinary browser (no MicroMessenger): where H5 pay (MWEB) happens."""
WECHAT_HOSTS = (
    "https://open.weixin.qq.com/**",
    "https://res.wx.qq.com/**",
    "http://res.wx.qq.com/**",
    "https://wx.tenpay.com/**",
)
CASHIER_HOST = "wx.tenpay.com"
CHROMIUM_ENV = "WECHAT_SANDBOX_CHROMIUM"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """$WECHAT_SANDBOX_CHROMIUM, else a Chromium on PATH, else None (Playwright's own browser)."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_options() -> dict[str, Any]:
    return {"executable_path": find_chromium(), "args": CHROMIUM_ARGS}


def proxy_launch_options(proxy_url: str, ca_certificate: Path) -> dict[str, Any]:
    """`chromium.launch(**proxy_launch_options(sandbox.url, sandbox.ca_certificate))`: `launch_options()`, and
    WeChat's hosts (res.wx.qq.com, open.weixin.qq.com, api.weixin.qq.com …) reached through the sandbox's proxy
    with its CA trusted, so a page's `https://res.wx.qq.com/open/js/jweixin-1.6.0.js` loads with no routing.

    Only WeChat's hosts go to the proxy (a PAC script): the pages under test and the browser's own traffic go
    direct. (Playwright's `proxy` option would send loopback through the proxy too, and the sandbox refuses
    other hosts.) The CA is trusted by its public key, `--ignore-certificate-errors-spki-list`, as Chromium on
    Linux otherwise reads roots from an NSS database only `certutil` writes: a certificate error is forgiven
    when the chain the server sends holds a certificate with that key, and the sandbox's chain holds its CA."""
    parts = urlsplit(proxy_url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"the sandbox's proxy is its http://HOST:PORT URL, got {proxy_url!r}")
    options = launch_options()
    options["args"] = [
        *options["args"],
        f"--proxy-pac-url={proxy_pac_url(parts.netloc)}",
        f"--ignore-certificate-errors-spki-list={spki_hash(ca_certificate)}",
    ]
    return options


def proxy_pac_url(proxy: str) -> str:
    """A `data:` PAC script sending WeChat's hosts (any scheme) to the HTTP proxy `proxy` (`HOST:PORT`)."""
    script = (
        f"var WECHAT_HOSTS = {json.dumps(list(trust.WECHAT_HOSTS))};\n"
        "function FindProxyForURL(url, host) {\n"
        "  host = host.toLowerCase().replace(/\\.$/, '');\n"
        f'  return WECHAT_HOSTS.indexOf(host) !== -1 ? {json.dumps("PROXY " + proxy)} : "DIRECT";\n'
        "}\n"
    )
    return "data:application/x-ns-proxy-autoconfig;base64," + base64.b64encode(script.encode()).decode()


def spki_hash(certificate: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate: what Chromium's SPKI lists take."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def context_options(platform: str = "android") -> dict[str, Any]:
    """`browser.new_context(**context_options())`: WeChat's user agent, a phone-sized viewport."""
    return {"user_agent": USER_AGENTS[platform], "viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def browser_options() -> dict[str, Any]:
    """`browser.new_context(**browser_options())`: a phone's ordinary browser (H5 pay), not WeChat's."""
    return {"user_agent": PHONE_BROWSER, "viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def bridge_script(sandbox_url: str) -> str:
    """The init script: where the sandbox is, then wechat-bridge.js itself."""
    source = (static_root() / "wechat-bridge.js").read_text(encoding="utf-8")
    return f"window.__WECHAT_SANDBOX_URL__ = {json.dumps(sandbox_url)};\n{source}"


@dataclass
class WeChatRouting:
    """Sends what a page asks of WeChat's real hosts (authorize pages, jweixin, the beacon) to the sandbox."""

    sandbox_url: str
    user: str | None = None
    """When set, authorization is done by this user without the picker."""
    forwarded: list[str] = field(default_factory=list)

    def target(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.netloc.startswith("res.wx.qq.com"):
            return f"{self.sandbox_url}/open/js/jweixin-1.6.0.js"
        return f"{self.sandbox_url}{parts.path}{'?' + parts.query if parts.query else ''}"

    def headers(self, original: dict[str, str], url: str = "") -> dict[str, str]:
        """The request's headers for the sandbox; WeChat's H5 cashier keeps the Referer it checks."""
        dropped = ("host", "origin") if urlsplit(url).hostname == CASHIER_HOST else ("host", "origin", "referer")
        headers = {k: v for k, v in original.items() if k.lower() not in dropped}
        if self.user:
            headers["X-WeChat-Sandbox-User"] = self.user
        return headers

    def handle(self, route: Route) -> None:
        from playwright.sync_api import Error

        request = route.request
        target = self.target(request.url)
        self.forwarded.append(target)
        try:
            response = route.fetch(
                url=target, headers=self.headers(request.headers, request.url), method=request.method,
                post_data=request.post_data_buffer, max_redirects=0,
            )  # fmt: skip
            route.fulfill(response=response)
        except Error:  # the page or its context went away while the request was on its way
            with contextlib.suppress(Error):
                route.abort()

    async def handle_async(self, route: AsyncRoute) -> None:
        from playwright.async_api import Error

        request = route.request
        target = self.target(request.url)
        self.forwarded.append(target)
        try:
            response = await route.fetch(
                url=target, headers=self.headers(request.headers, request.url), method=request.method,
                post_data=request.post_data_buffer, max_redirects=0,
            )  # fmt: skip
            await route.fulfill(response=response)
        except Error:  # the page or its context went away while the request was on its way
            with contextlib.suppress(Error):
                await route.abort()


def prepare_context(
    context: BrowserContext, sandbox_url: str, user: str | None = None, *, bridge: bool = True
) -> WeChatRouting:
    """Turn a Playwright context into WeChat's browser: the bridge in every page, WeChat's hosts routed. With
    `bridge=False` it stays an ordinary browser whose requests to WeChat's hosts reach the sandbox (H5 pay)."""
    if bridge:
        context.add_init_script(script=bridge_script(sandbox_url))
    routing = WeChatRouting(sandbox_url, user)
    for pattern in WECHAT_HOSTS:
        context.route(pattern, routing.handle)
    if user:
        login_as(context, sandbox_url, user, routing)
    return routing


async def prepare_context_async(context: AsyncContext, sandbox_url: str, user: str | None = None) -> WeChatRouting:
    await context.add_init_script(script=bridge_script(sandbox_url))
    routing = WeChatRouting(sandbox_url, user)
    for pattern in WECHAT_HOSTS:
        await context.route(pattern, routing.handle_async)
    if user:
        await context.add_cookies([{"name": "wxsandbox_user", "value": user, "url": sandbox_url}])
    return routing


def login_as(context: BrowserContext, sandbox_url: str, user: str, routing: WeChatRouting | None = None) -> None:
    """This browser is `user` from now on: no user picker, on the sandbox origin or through WeChat's hosts."""
    context.add_cookies([{"name": "wxsandbox_user", "value": user, "url": sandbox_url}])
    if routing is not None:
        routing.user = user


class PaySheet:
    """The pay sheet of one page (sync API): wait for it, read it, pay or close it."""

    def __init__(self, page: Page, pins: dict[str, str] | None = None) -> None:
        self.page = page
        self.pins = pins or {}

    def _sheet(self) -> Any:
        return self.page.get_by_test_id("wechat-pay-sheet").last

    def wait(self, timeout: float = 10_000) -> PaySheet:
        self._sheet().wait_for(timeout=timeout)
        return self

    def amount(self) -> str:
        """The amount as shown, e.g. `¥1.00`."""
        return str(self._sheet().get_by_test_id("wechat-pay-amount").inner_text())

    def user(self) -> str:
        return str(self._sheet().get_by_test_id("wechat-pay-user").inner_text())

    def choose(self, outcome: str) -> PaySheet:
        """The sandbox outcome: `success`, `notenough` or `fail`."""
        self._sheet().get_by_test_id("wechat-pay-outcome").select_option(outcome)
        return self

    def confirm(self, pin: str | None = None) -> None:
        """Type the PIN (the payer's own by default) and confirm."""
        sheet = self._sheet()
        if pin is None:
            payer = self.user().rsplit("(", 1)[-1].rstrip(")")
            pin = self.pins.get(payer, "123456")
        sheet.get_by_test_id("wechat-pay-pin").fill(pin)
        sheet.get_by_test_id("wechat-pay-confirm").click()

    def message(self) -> str:
        return str(self._sheet().get_by_test_id("wechat-pay-message").inner_text())

    def cancel(self) -> None:
        self._sheet().get_by_test_id("wechat-pay-cancel").click()


class AsyncPaySheet:
    """The same, for Playwright's async API."""

    def __init__(self, page: AsyncPage, pins: dict[str, str] | None = None) -> None:
        self.page = page
        self.pins = pins or {}

    def _sheet(self) -> Any:
        return self.page.get_by_test_id("wechat-pay-sheet").last

    async def wait(self, timeout: float = 10_000) -> AsyncPaySheet:
        await self._sheet().wait_for(timeout=timeout)
        return self

    async def amount(self) -> str:
        return str(await self._sheet().get_by_test_id("wechat-pay-amount").inner_text())

    async def user(self) -> str:
        return str(await self._sheet().get_by_test_id("wechat-pay-user").inner_text())

    async def choose(self, outcome: str) -> AsyncPaySheet:
        await self._sheet().get_by_test_id("wechat-pay-outcome").select_option(outcome)
        return self

    async def confirm(self, pin: str | None = None) -> None:
        sheet = self._sheet()
        if pin is None:
            payer = (await self.user()).rsplit("(", 1)[-1].rstrip(")")
            pin = self.pins.get(payer, "123456")
        await sheet.get_by_test_id("wechat-pay-pin").fill(pin)
        await sheet.get_by_test_id("wechat-pay-confirm").click()

    async def message(self) -> str:
        return str(await self._sheet().get_by_test_id("wechat-pay-message").inner_text())

    async def cancel(self) -> None:
        await self._sheet().get_by_test_id("wechat-pay-cancel").click()


class H5Cashier:
    """WeChat's H5 cashier (the page `mweb_url` / `h5_url` opens) in a page of an ordinary browser (sync API)."""

    def __init__(self, page: Page, pins: dict[str, str] | None = None) -> None:
        self.page = page
        self.pins = pins or {}

    def wait(self, timeout: float = 10_000) -> H5Cashier:
        self.page.get_by_test_id("wechat-cashier").wait_for(timeout=timeout)
        return self

    def amount(self) -> str:
        return str(self.page.get_by_test_id("wechat-cashier-amount").inner_text())

    def pay(self, user: str | None = None, pin: str | None = None, outcome: str | None = None) -> None:
        """Open WeChat as `user` (the one the page chose by default), type the PIN, confirm. WeChat then sends
        the browser to the link's redirect_url, if it has one."""
        if user is not None:
            self.page.get_by_test_id("wechat-cashier-user").select_option(user)
        payer = user or self.page.get_by_test_id("wechat-cashier-user").input_value()
        self.page.get_by_test_id("wechat-cashier-pay").click()
        sheet = PaySheet(self.page, self.pins).wait()
        if outcome is not None:
            sheet.choose(outcome)
        sheet.confirm(pin if pin is not None else self.pins.get(payer))

    def error(self) -> str:
        """WeChat's error text, when the cashier refused the link."""
        return str(self.page.get_by_test_id("wechat-error-text").inner_text())

    def diagnostic(self) -> str:
        """The sandbox's reason under WeChat's error text."""
        return str(self.page.get_by_test_id("wechat-sandbox-diagnostic").inner_text())
