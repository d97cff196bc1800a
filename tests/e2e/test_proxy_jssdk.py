"""Issue 11: the official JS-SDK loaded from https://res.wx.qq.com/open/js/jweixin-1.6.0.js through the sandbox's
proxy, as a page really loads it: Chromium launched with `proxy_launch_options` (WeChat's hosts to the proxy, the
sandbox's CA trusted by its key), the sandbox configured with `jssdk_file` (npm weixin-js-sdk), and no request
routing anywhere (no `context.route`, no `page.route`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserType, ConsoleMessage, Page, sync_playwright

from sandbox.config_file import load
from sandbox.playwright import PaySheet, bridge_script, context_options, proxy_launch_options
from sandbox.testing import SandboxThread
from tests.e2e.bridge_kit import journal
from tests.e2e.shop import OFFICIAL_SDK, Sandbox, Shop

JWEIXIN = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
CALLBACKS = (
    "{success: function (r) { log.push('success:' + r.errMsg); },"
    " cancel: function (r) { log.push('cancel:' + r.errMsg); },"
    " fail: function (r) { log.push('fail:' + r.errMsg); },"
    " complete: function (r) { log.push('complete:' + r.errMsg); }}"
)


@pytest.fixture(scope="module")
def wechat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxThread]:
    """The sandbox from a config file naming the npm JS-SDK; its CA in a directory of this module's own."""
    directory = tmp_path_factory.mktemp("proxy-jssdk")
    config_path = directory / "sandbox.toml"
    config_path.write_text(f"[sandbox]\njssdk_file = {json.dumps(str(OFFICIAL_SDK))}\n", encoding="utf-8")
    server = SandboxThread(load(config_path), ca_dir=directory / "ca").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[BrowserType]:
    with sync_playwright() as playwright:
        yield playwright.chromium


@pytest.fixture(scope="module")
def proxied(chromium: BrowserType, wechat: SandboxThread) -> Iterator[Browser]:
    """Chromium sending WeChat's hosts through the sandbox's proxy and trusting its CA."""
    browser = chromium.launch(headless=True, **proxy_launch_options(wechat.url, wechat.ca_certificate))
    yield browser
    browser.close()


def wechat_page(browser: Browser, sandbox_url: str) -> tuple[Page, list[str]]:
    """A page of WeChat's browser: its user agent and the bridge (an init script); its console recorded."""
    context = browser.new_context(**context_options("android"))
    context.set_default_timeout(10_000)
    context.add_init_script(script=bridge_script(sandbox_url))
    page = context.new_page()
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    return page, console


def checkout_html(script: str) -> str:
    """A merchant page loading the JS-SDK from res.wx.qq.com, as WeChat's docs tell merchants to."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body><h1>shop</h1>'
        f'<script>window.log = [];</script><script src="{JWEIXIN}"></script><script>{script}</script></body></html>'
    )


def wait_journal(sandbox_url: str, path: str, timeout: float = 10.0) -> dict[str, object]:
    """The first journal entry for `path`, once the sandbox has one."""
    deadline = time.monotonic() + timeout
    while True:
        found = [entry for entry in journal(sandbox_url) if entry["path"] == path]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no journal entry for {path} within {timeout} s")
        time.sleep(0.05)


def test_the_official_sdk_from_res_wx_qq_com_pays_a_v2_order(
    wechat: SandboxThread, proxied: Browser, shop: Shop
) -> None:
    merchant = Sandbox(wechat.url)
    prepay_id = merchant.order("PROXY-SDK-1", shop.notify_url, total_fee=1280)
    page_url = f"{shop.url}/checkout"
    params = json.dumps(merchant.jsapi_params(prepay_id, jssdk=True))
    pay = f"wx.chooseWXPay(Object.assign({params}, {CALLBACKS}));"
    shop.pages["/checkout"] = checkout_html(
        merchant.wx_config(page_url)
        + "wx.error(function (r) { log.push('error:' + r.errMsg); });"
        + f"wx.ready(function () {{ log.push('ready'); {pay} }});"
    )
    page, console = wechat_page(proxied, wechat.url)

    with page.expect_response(JWEIXIN) as loaded:
        page.goto(page_url)
    sdk = loaded.value
    assert sdk.status == 200
    assert OFFICIAL_SDK.read_text(encoding="utf-8") in sdk.text()  # npm weixin-js-sdk, not jweixin-sandbox.js
    details = sdk.security_details()
    assert details is not None
    issuer = details.get("issuer") or ""
    assert issuer.startswith("wechat-sandbox local CA"), issuer  # TLS from the sandbox, its CA trusted by key
    assert page.evaluate("typeof module === 'undefined' && window.wx === window.jWeixin") is True

    sheet = PaySheet(page).wait()
    assert sheet.amount() == "¥12.80"
    sheet.confirm()
    page.wait_for_function("window.log.length >= 3")
    assert page.evaluate("window.log") == ["ready", "success:chooseWXPay:ok", "complete:chooseWXPay:ok"]
    assert merchant.order_state("PROXY-SDK-1") == "SUCCESS"

    assert wait_journal(wechat.url, "/open/js/jweixin-1.6.0.js")["status"] == 200
    assert wait_journal(wechat.url, "/sdk/report")["status"] == 204  # the SDK's beacon, through the proxy too
    assert [e for e in journal(wechat.url) if e["status"] == 403] == []  # only WeChat's hosts reached the proxy
    assert [m for m in console if m.startswith(("[wechat-sandbox]", "pageerror"))] == []


def test_without_the_ca_trusted_the_script_does_not_load(
    chromium: BrowserType, wechat: SandboxThread, shop: Shop
) -> None:
    """The trust is the CA's key and nothing wider: leave it out and res.wx.qq.com's certificate is refused."""
    options = proxy_launch_options(wechat.url, wechat.ca_certificate)
    options["args"] = [a for a in options["args"] if not a.startswith("--ignore-certificate-errors-spki-list=")]
    browser = chromium.launch(headless=True, **options)
    try:
        shop.pages["/untrusted"] = checkout_html("log.push(typeof wx);")
        page, _ = wechat_page(browser, wechat.url)
        failures: list[str] = []
        page.on("requestfailed", lambda request: failures.append(f"{request.url} {request.failure}"))
        page.goto(f"{shop.url}/untrusted")
        page.wait_for_function("window.log.length >= 1")
        assert page.evaluate("window.log") == ["undefined"]
        assert failures == [f"{JWEIXIN} net::ERR_CERT_AUTHORITY_INVALID"]
    finally:
        browser.close()
