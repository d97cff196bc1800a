"""Paying in the page, three ways: the official JS-SDK, our jweixin-sandbox.js, and raw WeixinJSBridge.invoke.

Each page logs what its callbacks receive in `window.log`; the sheet is driven through its test ids.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.shop import ROOT, WECHAT_UA, Sandbox, Shop, WeChatPage, page_html

BRIDGE_JS = ROOT / "static" / "wechat-bridge.js"
SDKS = ("official", "sandbox", "raw")
WX_SDKS = ("official", "sandbox")
PIN = "123456"
WRONG_PIN = "支付密码错误，请重试"
"""What WeChat says under the PIN field, the sheet staying open."""
EVENT = {"ok": "success", "cancel": "cancel", "fail": "fail"}
CALLBACKS = (
    "{success: function (r) { log.push('success:' + r.errMsg); },"
    " cancel: function (r) { log.push('cancel:' + r.errMsg); },"
    " fail: function (r) { log.push('fail:' + r.errMsg); },"
    " complete: function (r) { log.push('complete:' + r.errMsg); }}"
)
"""JS: jweixin callbacks that log `<event>:<errMsg>` (complete runs last, always)."""
LOG_ERROR_AND_READY = (
    "wx.error(function (r) { log.push('error:' + r.errMsg); });"  # registered first: called before ready
    "wx.ready(function () { log.push('ready'); });"
)


def pay_script(wechat: Sandbox, sdk: str, page_url: str, prepay_id: str) -> str:
    """The page's pay code for `sdk`: wx.config + wx.chooseWXPay in wx.ready, or the raw bridge call."""
    if sdk == "raw":
        params = json.dumps(wechat.jsapi_params(prepay_id, jssdk=False))
        return (
            "function onBridgeReady() { WeixinJSBridge.invoke('getBrandWCPayRequest', " + params + ","
            " function (res) { log.push('callback:' + res.err_msg); }); }"
            "if (typeof WeixinJSBridge === 'undefined') {"
            " document.addEventListener('WeixinJSBridgeReady', onBridgeReady, false); } else { onBridgeReady(); }"
        )
    params = json.dumps(wechat.jsapi_params(prepay_id, jssdk=True))
    return wechat.wx_config(page_url) + (
        "wx.error(function (r) { log.push('error:' + r.errMsg); });"
        "wx.ready(function () { log.push('ready');"
        " wx.chooseWXPay(Object.assign(" + params + ", " + CALLBACKS + ")); });"
    )


def outcome_log(sdk: str, status: str) -> list[str]:
    """What `window.log` holds once the pay callback ran with `get_brand_wcpay_request:<status>`."""
    if sdk == "raw":
        return [f"callback:get_brand_wcpay_request:{status}"]
    return ["ready", f"{EVENT[status]}:chooseWXPay:{status}", f"complete:chooseWXPay:{status}"]


def wait_for_log(page: Page, expected: list[str]) -> None:
    page.wait_for_function("n => window.log.length >= n", arg=len(expected))
    assert page.evaluate("window.log") == expected


def poll(page: Page, ready: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Wait (bounded) for something outside the page, e.g. the shop's notify endpoint."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(20)


def nickname(sandbox_url: str, user: str) -> str:
    users = requests.get(f"{sandbox_url}/_sandbox/api/config", timeout=5).json()["users"]
    return str(next(u for u in users if u["id"] == user)["nickname"])


@dataclass
class PayPage:
    """A shop page with an order for `user`, its sheet open."""

    wechat: Sandbox
    page: Page
    out_trade_no: str

    def type_pin(self, pin: str = PIN) -> None:
        self.page.get_by_test_id("wechat-pay-pin").fill(pin)
        self.page.get_by_test_id("wechat-pay-confirm").click()


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_sheet(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str, total_fee: int, user: str = "alice"
) -> PayPage:
    wechat = Sandbox(sandbox_server.url)
    out_trade_no = f"PAY-{sdk}-{total_fee}"
    prepay_id = wechat.order(out_trade_no, shop.notify_url, total_fee=total_fee, user=user)
    path = f"/pay/{sdk}/checkout"
    shop.pages[path] = page_html(sandbox_server.url, sdk, pay_script(wechat, sdk, shop.url + path, prepay_id))
    page = phone.page
    page.goto(shop.url + path)
    expect(page.get_by_test_id("wechat-pay-sheet")).to_be_visible()
    expect(page.get_by_test_id("wechat-pay-amount")).to_have_text(f"¥{total_fee // 100}.{total_fee % 100:02d}")
    expect(page.get_by_test_id("wechat-pay-user")).to_have_text(f"{nickname(sandbox_server.url, user)} ({user})")
    return PayPage(wechat, page, out_trade_no)


def test_wrong_pin_keeps_the_sheet_then_the_right_pin_pays_and_notifies(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    paying = open_sheet(sandbox_server, shop, phone, sdk, total_fee=1234)
    page = paying.page
    paying.type_pin("000000")
    expect(page.get_by_test_id("wechat-pay-message")).to_have_text(WRONG_PIN)
    expect(page.get_by_test_id("wechat-pay-sheet")).to_be_visible()
    expect(page.get_by_test_id("wechat-pay-pin")).to_have_value("")
    assert page.evaluate("window.log") == ([] if sdk == "raw" else ["ready"])
    assert paying.wechat.order_state(paying.out_trade_no) == "NOTPAY"

    paying.type_pin()
    wait_for_log(page, outcome_log(sdk, "ok"))
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    assert paying.wechat.order_state(paying.out_trade_no) == "SUCCESS"
    poll(page, lambda: len(shop.notifications) >= 1, "the payment notification at the shop's notify_url")
    assert len(shop.notifications) == 1
    result = paying.wechat.pay.parse_payment_result(shop.notifications[0])
    assert result["out_trade_no"] == paying.out_trade_no
    assert (result["return_code"], result["result_code"], result["total_fee"]) == ("SUCCESS", "SUCCESS", 1234)
    assert result["openid"] == paying.wechat.openid("alice")
    # a correct integration draws no pitfall warning: the console explains only the wrong PIN
    [explained] = phone.sandbox_messages()
    assert "PIN" in explained


def test_cancel_gives_the_cancel_callback_and_leaves_the_order_unpaid(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    paying = open_sheet(sandbox_server, shop, phone, sdk, total_fee=1, user="bob")  # nickname "Bob <b>&"
    paying.page.get_by_test_id("wechat-pay-cancel").click()
    wait_for_log(paying.page, outcome_log(sdk, "cancel"))
    expect(paying.page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    assert paying.wechat.order_state(paying.out_trade_no) == "NOTPAY"


def test_balance_not_enough_fails_with_the_alert_and_leaves_the_order_unpaid(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    paying = open_sheet(sandbox_server, shop, phone, sdk, total_fee=250)
    paying.page.get_by_test_id("wechat-pay-outcome").select_option("notenough")
    paying.type_pin()
    wait_for_log(paying.page, outcome_log(sdk, "fail"))
    expect(paying.page.get_by_test_id("wechat-alert-text")).to_have_text("零钱余额不足")
    expect(paying.page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    assert paying.wechat.order_state(paying.out_trade_no) == "NOTPAY"
    paying.page.get_by_test_id("wechat-alert-ok").click()
    expect(paying.page.get_by_test_id("wechat-alert")).to_have_count(0)


def test_outcome_fail_fails_and_the_order_is_payerror(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    paying = open_sheet(sandbox_server, shop, phone, sdk, total_fee=399)
    paying.page.get_by_test_id("wechat-pay-outcome").select_option("fail")
    paying.type_pin()
    wait_for_log(paying.page, outcome_log(sdk, "fail"))
    expect(paying.page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    assert paying.wechat.order_state(paying.out_trade_no) == "PAYERROR"


# -- wx.config: ready and error -------------------------------------------------------------------------


@pytest.mark.parametrize("sdk_name", WX_SDKS)
def test_a_correct_signature_is_ready_without_error(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk_name: str
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/good?from=menu"
    script = wechat.wx_config(url) + LOG_ERROR_AND_READY
    shop.pages["/config/good"] = page_html(sandbox_server.url, sdk_name, script)
    phone.page.goto(url + "#section")
    wait_for_log(phone.page, ["ready"])  # error, had it come, comes before ready


@pytest.mark.parametrize("sdk_name", WX_SDKS)
def test_a_wrong_signature_calls_error_and_still_runs_ready(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk_name: str
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/bad"
    # jweixin keeps the failure for a wx.error registered later only when no handler had it (next test)
    again = "wx.error(function (r) { log.push('again:' + r.errMsg); }); log.push('registered again');"
    script = wechat.wx_config(url, signature="0" * 40) + LOG_ERROR_AND_READY + f"wx.ready(function () {{ {again} }});"
    shop.pages["/config/bad"] = page_html(sandbox_server.url, sdk_name, script)
    phone.page.goto(url)
    wait_for_log(phone.page, ["error:config:invalid signature", "ready", "registered again"])


@pytest.mark.parametrize("sdk_name", WX_SDKS)
def test_wx_error_registered_after_the_failure_is_called_at_once(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk_name: str
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/late"
    script = wechat.wx_config(url, signature="0" * 40) + (
        "wx.ready(function () { log.push('ready');"
        " wx.error(function (r) { log.push('late error:' + r.errMsg); }); log.push('registered'); });"
    )
    shop.pages["/config/late"] = page_html(sandbox_server.url, sdk_name, script)
    phone.page.goto(url)
    wait_for_log(phone.page, ["ready", "late error:config:invalid signature", "registered"])


# -- the bridge as a Playwright init script ---------------------------------------------------------------


@pytest.fixture
def injected_page(browser: Browser, sandbox_server: LiveServer) -> Iterator[Page]:
    """A WeChat-like page whose bridge comes from init scripts, not from a <script> tag of the page."""
    context = browser.new_context(user_agent=WECHAT_UA, viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(10_000)

    def beacon(route: Route) -> None:
        route.fulfill(status=204)

    context.route("https://open.weixin.qq.com/**", beacon)
    context.add_init_script(script=f"window.__WECHAT_SANDBOX_URL__ = {json.dumps(sandbox_server.url)};")
    context.add_init_script(path=BRIDGE_JS)
    yield context.new_page()
    context.close()


def test_the_bridge_as_an_init_script_pays_with_the_official_sdk(
    sandbox_server: LiveServer, shop: Shop, injected_page: Page
) -> None:
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order("INJECTED-1", shop.notify_url, total_fee=888)
    url = f"{shop.url}/pay/injected"
    shop.pages["/pay/injected"] = (
        '<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>'
        "<script>window.log = [];</script>"
        "<script>var module = {exports: {}};</script>"
        '<script src="/sdk/jweixin-npm.js"></script>'
        "<script>window.wx = module.exports;</script>"
        f"<script>{pay_script(wechat, 'official', url, prepay_id)}</script></body></html>"
    )
    injected_page.goto(url)
    assert injected_page.evaluate("document.querySelectorAll('script[src*=\"wechat-bridge\"]').length") == 0
    expect(injected_page.get_by_test_id("wechat-pay-amount")).to_have_text("¥8.88")
    injected_page.get_by_test_id("wechat-pay-pin").fill(PIN)
    injected_page.get_by_test_id("wechat-pay-confirm").click()
    wait_for_log(injected_page, outcome_log("official", "ok"))
    assert wechat.order_state("INJECTED-1") == "SUCCESS"
    poll(injected_page, lambda: len(shop.notifications) >= 1, "the payment notification")
    assert wechat.pay.parse_payment_result(shop.notifications[0])["out_trade_no"] == "INJECTED-1"


def test_a_double_tap_on_close_cancels_once(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    paying = open_sheet(sandbox_server, shop, phone, sdk, total_fee=5)
    page = paying.page
    page.evaluate(
        "window.cancels = 0; var realFetch = window.fetch;"
        "window.fetch = function (url) { if (/\\/cancel$/.test(url)) cancels += 1;"
        " return realFetch.apply(this, arguments); };"
    )
    page.get_by_test_id("wechat-pay-cancel").dblclick()
    wait_for_log(page, outcome_log(sdk, "cancel"))
    assert page.evaluate("window.cancels") == 1  # a second cancel would answer the page a second time (a fail)
    assert paying.wechat.order_state(paying.out_trade_no) == "NOTPAY"
