"""Issue 4, item 6: each classic integration pitfall, triggered in headless Chromium, must be explained in the
page's console ([wechat-sandbox] …), in the journal, and in WeChat's own error text where it has one."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect
from wechatpy.pay import WeChatPay

from sandbox import defaults
from tests.conftest import APPID, OTHER_APPID, make_config
from tests.e2e.bridge_kit import callbacks, journal_notes, open_page, running, sandbox_lines, wait_console, wait_log
from tests.e2e.conftest import LiveServer
from tests.e2e.shop import MCH_ID, MCH_KEY, Sandbox, Shop, WeChatPage, page_html

INVOKE = "/_sandbox/bridge/invoke"
SHEET_OPEN = "/_sandbox/bridge/sheet/open"
SDKS = ["official", "sandbox"]


def choose_wx_pay(params: dict[str, Any], label: str = "pay") -> str:
    """`wx.chooseWXPay(params + callbacks that log `label`)`."""
    return f"wx.chooseWXPay(Object.assign({json.dumps(params)}, {{{callbacks(label)}}}));"


def serve(shop: Shop, sandbox_url: str, path: str, script: str, sdk: str = "official") -> str:
    shop.pages[path] = page_html(sandbox_url, sdk, script)
    return f"{shop.url}{path}"


def pay_with(
    wechat: Sandbox, shop: Shop, phone: WeChatPage, sandbox_url: str, path: str, params: dict[str, Any]
) -> Page:
    """A page whose wx.ready calls wx.chooseWXPay(params) (official SDK)."""
    url = f"{shop.url}{path}"
    script = wechat.wx_config(url) + "wx.ready(function () {" + choose_wx_pay(params) + "});"
    return open_page(phone, serve(shop, sandbox_url, path, script))


def refused_with(page: Page, alert: str) -> list[str]:
    """The sheet did not open: WeChat's alert shows `alert`; the page's console lines."""
    expect(page.get_by_test_id("wechat-alert-text")).to_have_text(alert)
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    return list(page.evaluate("window.__console"))


def hmac_sign(fields: dict[str, str], key: str) -> str:
    plain = "&".join(f"{k}={fields[k]}" for k in sorted(fields)) + f"&key={key}"
    return hmac.new(key.encode(), plain.encode(), hashlib.sha256).hexdigest().upper()


# -- wx.config called twice; wx.ready handlers running twice -----------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
def test_wx_config_called_twice_is_flagged(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/twice/config"
    config = wechat.wx_config(url)
    script = config + config + "wx.ready(function () { log.push('ready'); });"
    page = open_page(phone, serve(shop, sandbox_server.url, "/twice/config", script, sdk))
    lines = wait_console(page, "wx.config was called 2 times on this page")
    assert any("Call wx.config once per page" in m for m in lines)
    if sdk == "sandbox":  # our jweixin also says it at once, without waiting for the sandbox
        assert any(m.startswith("[wechat-sandbox] wx.config called 2 times on this page") for m in lines), lines
    notes = journal_notes(sandbox_server.url, INVOKE)
    assert any("wx.config was called 2 times on this page" in n for n in notes), notes


@pytest.mark.parametrize("sdk", SDKS)
def test_wx_ready_handler_runs_once_per_config_answer(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """Two wx.config calls before the first is answered run the wx.ready queue twice (CLIENTS.md §C.3)."""
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/twice/ready"
    config = wechat.wx_config(url)
    script = config + config + "wx.ready(function () { log.push('ready'); });"
    page = open_page(phone, serve(shop, sandbox_server.url, "/twice/ready", script, sdk))
    wait_console(page, "wx.config was called 2 times")
    assert wait_log(page, 2) == ["ready", "ready"]
    if sdk == "sandbox":
        lines = wait_console(page, "a wx.ready handler is running a second time")
        assert any("opening the pay sheet, happens twice" in m for m in lines), lines


def test_wx_ready_handler_registered_after_config_runs_once(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """One wx.config, then wx.ready twice with different handlers: each runs once, nothing is flagged."""
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/once/ready"
    script = (
        wechat.wx_config(url) + "wx.ready(function () { log.push('a'); }); wx.ready(function () { log.push('b'); });"
    )
    page = open_page(phone, serve(shop, sandbox_server.url, "/once/ready", script, "sandbox"))
    assert wait_log(page, 2) == ["a", "b"]
    page.evaluate("new Promise(function (done) { wx.getNetworkType({complete: done}); })")  # one more round trip
    assert page.evaluate("window.log") == ["a", "b"]
    assert sandbox_lines(page) == []


@pytest.mark.parametrize("sdk", SDKS)
def test_double_wx_config_opens_two_pay_sheets(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """The seed's double pay sheet: wx.config twice, and the pay code in wx.ready runs twice."""
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order(f"TWICE-{sdk}", shop.notify_url)
    params = wechat.jsapi_params(prepay_id, jssdk=True)
    url = f"{shop.url}/twice/pay"
    config = wechat.wx_config(url)
    script = config + config + "wx.ready(function () {" + choose_wx_pay(params) + "});"
    page = open_page(phone, serve(shop, sandbox_server.url, "/twice/pay", script, sdk))
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(2)
    lines = wait_console(page, "a second pay sheet opened")
    assert any(
        f"a second pay sheet opened for prepay_id {prepay_id} on this page while one was still open" in m for m in lines
    )
    assert any("wx.config was called 2 times on this page" in m for m in lines)
    notes = journal_notes(sandbox_server.url, SHEET_OPEN)
    assert any("a second pay sheet opened" in n for n in notes), notes
    # the user pays in the sheet on top, then closes the other one
    page.get_by_test_id("wechat-pay-pin").last.fill("123456")
    page.get_by_test_id("wechat-pay-confirm").last.click()
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(1)
    page.get_by_test_id("wechat-pay-cancel").click()
    assert sorted(wait_log(page, 2)) == ["pay cancel:chooseWXPay:cancel", "pay success:chooseWXPay:ok"]
    assert wechat.order_state(f"TWICE-{sdk}") == "SUCCESS"


# -- a second pay sheet for the same prepay_id ---------------------------------------------------------


def test_second_pay_sheet_for_the_same_prepay_id_opens_and_is_flagged(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """A double tap on the pay button: both sheets open, as in WeChat, and the second is flagged."""
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order("DOUBLE-TAP", shop.notify_url)
    params = wechat.jsapi_params(prepay_id, jssdk=True)
    url = f"{shop.url}/tap/pay"
    script = (
        "document.body.insertAdjacentHTML('beforeend', '<button id=\"pay\" data-testid=\"pay\">付款</button>');"
        + wechat.wx_config(url) + "wx.ready(function () { log.push('ready'); });"
        "document.getElementById('pay').onclick = function () {" + choose_wx_pay(params) + "};"
    )  # fmt: skip
    page = open_page(phone, serve(shop, sandbox_server.url, "/tap/pay", script))
    wait_log(page, 1)
    # a double tap: both clicks land before the first sheet covers the button (in one task, so always)
    page.evaluate("() => { const button = document.getElementById('pay'); button.click(); button.click(); }")
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(2)
    expect(page.get_by_test_id("wechat-pay-sheet").first).to_be_visible()
    expect(page.get_by_test_id("wechat-pay-sheet").last).to_be_visible()
    lines = wait_console(page, "a second pay sheet opened")
    assert any(
        f"a second pay sheet opened for prepay_id {prepay_id} on this page while one was still open: both are open" in m
        for m in lines
    ), lines
    notes = journal_notes(sandbox_server.url, SHEET_OPEN)
    assert sum("a second pay sheet opened" in n for n in notes) == 1, notes


def test_second_sheet_after_the_first_was_closed_is_not_flagged(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """Cancelling, then paying again is normal: no second-sheet warning."""
    wechat = Sandbox(sandbox_server.url)
    params = wechat.jsapi_params(wechat.order("RETRY", shop.notify_url), jssdk=False)
    script = (
        "WeixinJSBridge.invoke('getBrandWCPayRequest', "
        + json.dumps(params)
        + ", function (r) { log.push(r.err_msg); });"
    )
    page = open_page(phone, serve(shop, sandbox_server.url, "/retry/pay", script, "raw"))
    page.get_by_test_id("wechat-pay-cancel").click()
    assert wait_log(page, 1) == ["get_brand_wcpay_request:cancel"]
    page.evaluate(
        "p => WeixinJSBridge.invoke('getBrandWCPayRequest', p, function (r) { log.push(r.err_msg); })", params
    )
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(1)
    assert not any("second pay sheet" in m for m in sandbox_lines(page))


# -- wx.chooseWXPay arguments ------------------------------------------------------------------------


def test_choose_wx_pay_given_timestamp_with_capital_s(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """wechatpy's default get_jsapi_params() is for WeixinJSBridge; wx.chooseWXPay then sends timeStamp 'undefined'."""
    wechat = Sandbox(sandbox_server.url)
    params = wechat.jsapi_params(wechat.order("CAPITAL-S", shop.notify_url), jssdk=False)
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/args/timestamp", params)
    lines = refused_with(page, "支付验证签名失败")
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:invalid signature"]
    assert any(
        "timeStamp is 'undefined': wx.chooseWXPay takes `timestamp` (lowercase) and sends timeStamp itself" in m
        for m in lines
    ), lines
    notes = journal_notes(sandbox_server.url, SHEET_OPEN)
    assert any("timeStamp is 'undefined'" in n for n in notes), notes


def test_choose_wx_pay_without_sign_type(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    """jweixin sends signType SHA1 when the page gives none; paySign was made for MD5."""
    wechat = Sandbox(sandbox_server.url)
    params = wechat.jsapi_params(wechat.order("NO-SIGNTYPE", shop.notify_url), jssdk=True)
    del params["signType"]
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/args/signtype", params)
    lines = refused_with(page, "支付验证签名失败")
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:invalid signature"]
    assert any("signType is SHA1, jweixin's default when wx.chooseWXPay gets no signType" in m for m in lines), lines
    assert any("paySign is valid for signType MD5" in m for m in lines), lines
    assert any("signType is SHA1" in n for n in journal_notes(sandbox_server.url, SHEET_OPEN))


# -- paySign -----------------------------------------------------------------------------------------


def test_pay_sign_made_with_hmac_but_labelled_md5(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    params = wechat.jsapi_params(wechat.order("HMAC-AS-MD5", shop.notify_url), jssdk=True)
    signed = {
        "appId": APPID, "timeStamp": params["timestamp"], "nonceStr": params["nonceStr"],
        "package": params["package"], "signType": "MD5",
    }  # fmt: skip
    params["paySign"] = hmac_sign(signed, MCH_KEY)
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/sign/hmac", params)
    lines = refused_with(page, "支付验证签名失败")
    assert any(
        "It verifies with HMAC-SHA256 (over these same fields, signType=MD5): signType must name the algorithm" in m
        for m in lines
    ), lines
    assert any("It verifies with HMAC-SHA256" in n for n in journal_notes(sandbox_server.url, SHEET_OPEN))
    assert MCH_KEY not in "\n".join(phone.console)


def test_pay_sign_is_the_unifiedorder_sign(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    answer = wechat.pay.order.create(
        "JSAPI", "测试商品", 100, shop.notify_url, client_ip="127.0.0.1", user_id=wechat.openid(),
        out_trade_no="ANSWER-SIGN",
    )  # fmt: skip
    params = wechat.jsapi_params(answer["prepay_id"], jssdk=True)
    params["paySign"] = answer["sign"]
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/sign/answer", params)
    lines = refused_with(page, "支付验证签名失败")
    assert any("paySign is the `sign` of the unifiedorder answer" in m for m in lines), lines
    assert any("`sign` of the unifiedorder answer" in n for n in journal_notes(sandbox_server.url, SHEET_OPEN))


def test_pay_sign_made_with_another_appid(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    """The back end signs with the appId of another account; jweixin sends wx.config's appId."""
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order("OTHER-APPID", shop.notify_url)
    other = WeChatPay(OTHER_APPID, MCH_KEY, MCH_ID)
    params = dict(other.jsapi.get_jsapi_params(prepay_id, jssdk=True))
    assert params["appId"] == OTHER_APPID
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/sign/appid", params)
    lines = refused_with(page, "支付验证签名失败")
    assert any(
        f"It was signed with appId {OTHER_APPID}, but the page's wx.config appId is {APPID}" in m for m in lines
    ), lines
    assert any(f"signed with appId {OTHER_APPID}" in n for n in journal_notes(sandbox_server.url, SHEET_OPEN))


# -- pay directories ---------------------------------------------------------------------------------


@pytest.fixture
def strict_directory(shop: Shop) -> Iterator[LiveServer]:
    """A merchant whose only pay directory is http://127.0.0.1/shop/ (loopback not trusted)."""
    merchant = replace(
        defaults.default_merchant(),
        pay_directories=("http://127.0.0.1/shop/",),
        notify_hosts=(f"127.0.0.1:{shop.server.port}",),
        trust_loopback=False,
    )
    with running(make_config(merchants=(merchant,))) as server:
        yield server


def test_pay_directory_mismatch(strict_directory: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(strict_directory.url)
    params = wechat.jsapi_params(wechat.order("DIRECTORY", shop.notify_url), jssdk=True)
    page = pay_with(wechat, shop, phone, strict_directory.url, "/pay/checkout.html", params)
    url = f"{shop.url}/pay/checkout.html"
    expect(page.get_by_test_id("wechat-alert-text")).to_have_text(f"当前页面的URL未注册：{url}")
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:fail"]
    lines = wait_console(page, "not a pay directory")
    (line,) = [m for m in lines if "not a pay directory" in m]
    assert f"the page {url} is in the directory {shop.url}/pay/" in line
    assert f"not a pay directory of merchant {MCH_ID}: http://127.0.0.1/shop/" in line
    assert "the nearest is http://127.0.0.1/shop/" in line
    assert any("not a pay directory" in n for n in journal_notes(strict_directory.url, SHEET_OPEN))


@pytest.fixture
def exact_directory(shop: Shop) -> Iterator[LiveServer]:
    """A merchant whose only pay directory is the shop's /pay/ (loopback not trusted)."""
    merchant = replace(
        defaults.default_merchant(),
        pay_directories=(f"{shop.url}/pay/",),
        notify_hosts=(f"127.0.0.1:{shop.server.port}",),
        trust_loopback=False,
    )
    with running(make_config(merchants=(merchant,))) as server:
        yield server


@pytest.mark.parametrize(("path", "opens"), [("/pay/checkout.html", True), ("/pay/sub/checkout.html", False)])
def test_deeper_pay_directory_must_match_exactly(
    exact_directory: LiveServer, shop: Shop, phone: WeChatPage, path: str, opens: bool
) -> None:
    wechat = Sandbox(exact_directory.url)
    params = wechat.jsapi_params(wechat.order("EXACT", shop.notify_url), jssdk=True)
    page = pay_with(wechat, shop, phone, exact_directory.url, path, params)
    if opens:
        expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(1)
    else:
        expect(page.get_by_test_id("wechat-alert-text")).to_contain_text("当前页面的URL未注册")
        wait_console(page, f"the nearest is {shop.url}/pay/")


# -- the sheet closed behind the page's back ---------------------------------------------------------


@pytest.mark.parametrize("action", ["confirm", "cancel"])
def test_sheet_that_the_sandbox_no_longer_knows_fails_the_payment(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, action: str
) -> None:
    """The sandbox was reset while the sheet was open: the page must get fail, never ok."""
    wechat = Sandbox(sandbox_server.url)
    params = wechat.jsapi_params(wechat.order(f"RESET-{action}", shop.notify_url), jssdk=True)
    page = pay_with(wechat, shop, phone, sandbox_server.url, "/reset/pay", params)
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(1)
    assert requests.post(f"{sandbox_server.url}/_sandbox/api/reset", timeout=5).status_code == 200
    if action == "confirm":
        page.get_by_test_id("wechat-pay-pin").fill("123456")
        page.get_by_test_id("wechat-pay-confirm").click()
    else:
        page.get_by_test_id("wechat-pay-cancel").click()
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:fail"]
    wait_console(page, "is not open")
