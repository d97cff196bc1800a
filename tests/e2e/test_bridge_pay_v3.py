"""Paying an API v3 order in the page (issue 10, item 5): signType RSA through the official JS-SDK, our
jweixin-sandbox.js and raw WeixinJSBridge.invoke, the order placed and paySign made by wechatpayv3, unchanged."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.testing import WeChatSandbox
from tests.e2e.bridge_kit import callbacks, journal_notes, open_page, sandbox_lines, wait_console, wait_log
from tests.e2e.conftest import LiveServer
from tests.e2e.shop import Sandbox, Shop, WeChatPage, page_html

SDKS = ("official", "sandbox", "raw")
PIN = "123456"
SHEET_OPEN = "/_sandbox/bridge/sheet/open"
V3_RULE = (
    "this order was placed with API v3: its paySign is SHA256-RSA with the merchant's API private key "
    "(apiclient_key.pem) over appId\\ntimeStamp\\nnonceStr\\npackage\\n, signType RSA"
)


def merchant(sandbox_url: str, notify_url: str) -> Any:
    """wechatpayv3 set up as the plugin's `wechat_sandbox.v3` says (public-key mode), pointed at the sandbox."""
    wxpay = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, notify_url=notify_url, **WeChatSandbox(sandbox_url).v3)
    wxpay._core._gate_way = sandbox_url
    return wxpay


def order(wxpay: Any, wechat: Sandbox, out_trade_no: str, total: int) -> str:
    """POST /v3/pay/transactions/jsapi for alice through wechatpayv3; the prepay_id."""
    code, text = wxpay.pay(
        description="测试商品", out_trade_no=out_trade_no, amount={"total": total}, payer={"openid": wechat.openid()}
    )
    assert code == 200, text
    return str(json.loads(text)["prepay_id"])


def rsa_params(wxpay: Any, prepay_id: str) -> dict[str, str]:
    """What the merchant's back end hands the page: wechatpayv3's `sign([appId, timeStamp, nonceStr, package])`."""
    timestamp, nonce, package = str(int(time.time())), "v3nonce" + str(time.monotonic_ns()), f"prepay_id={prepay_id}"
    pay_sign = wxpay.sign([wxpay._appid, timestamp, nonce, package])
    return {"appId": wxpay._appid, "timeStamp": timestamp, "nonceStr": nonce, "package": package, "paySign": pay_sign}


def pay_script(wechat: Sandbox, sdk: str, page_url: str, params: dict[str, str]) -> str:
    """The page's pay code: wx.chooseWXPay({timestamp, …, signType: 'RSA'}) in wx.ready, or the raw bridge call."""
    if sdk == "raw":
        return (
            "function onBridgeReady() { WeixinJSBridge.invoke('getBrandWCPayRequest', "
            + json.dumps({**params, "signType": "RSA"})
            + ", function (res) { log.push('callback:' + res.err_msg); }); }"
            "if (typeof WeixinJSBridge === 'undefined') {"
            " document.addEventListener('WeixinJSBridgeReady', onBridgeReady, false); } else { onBridgeReady(); }"
        )
    wx_params = {k: v for k, v in params.items() if k not in ("appId", "timeStamp")}
    wx_params |= {"timestamp": params["timeStamp"], "signType": "RSA"}
    return wechat.wx_config(page_url) + (
        "wx.ready(function () { log.push('ready');"
        f" wx.chooseWXPay(Object.assign({json.dumps(wx_params)}, {{{callbacks('pay')}}})); }});"
    )


def wait_for_order(wxpay: Any, out_trade_no: str, page: Page, state: str) -> dict[str, Any]:
    """The order as wechatpayv3 queries it (GET /v3/pay/transactions/out-trade-no/…), once in `state`."""
    deadline = time.monotonic() + 5.0
    while True:
        code, text = wxpay.query(out_trade_no=out_trade_no)
        assert code == 200, text
        found: dict[str, Any] = json.loads(text)
        if found["trade_state"] == state or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(20)


@pytest.mark.parametrize("sdk", SDKS)
def test_a_v3_order_pays_with_sign_type_rsa(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    wechat, wxpay = Sandbox(sandbox_server.url), merchant(sandbox_server.url, shop.notify_url)
    out_trade_no = f"V3-RSA-{sdk}"
    params = rsa_params(wxpay, order(wxpay, wechat, out_trade_no, total=2468))
    path = f"/pay/v3/{sdk}/checkout"
    shop.pages[path] = page_html(sandbox_server.url, sdk, pay_script(wechat, sdk, shop.url + path, params))
    page = open_page(phone, shop.url + path)
    expect(page.get_by_test_id("wechat-pay-amount")).to_have_text("¥24.68")
    page.get_by_test_id("wechat-pay-pin").fill(PIN)
    page.get_by_test_id("wechat-pay-confirm").click()
    if sdk == "raw":
        assert wait_log(page, 1) == ["callback:get_brand_wcpay_request:ok"]
    else:
        assert wait_log(page, 2) == ["ready", "pay success:chooseWXPay:ok"]
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    paid = wait_for_order(wxpay, out_trade_no, page, "SUCCESS")
    assert (paid["trade_state"], paid["amount"]["total"], paid["payer"]["openid"]) == (
        "SUCCESS", 2468, wechat.openid()
    )  # fmt: skip
    assert sandbox_lines(page) == []  # a correct integration draws no explanation
    deadline = time.monotonic() + 5.0
    while not shop.notifications and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    [notification] = shop.notifications  # WeChat Pay's v3 notification at the order's notify_url
    assert json.loads(notification)["event_type"] == "TRANSACTION.SUCCESS"


def test_a_v2_pay_sign_for_a_v3_order_is_refused_and_named(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """The back end placed the order with API v3 but still signs the page's parameters the v2 way (wechatpy)."""
    wechat, wxpay = Sandbox(sandbox_server.url), merchant(sandbox_server.url, shop.notify_url)
    prepay_id = order(wxpay, wechat, "V3-WITH-MD5", total=100)
    params = wechat.jsapi_params(prepay_id, jssdk=True)  # signType MD5, paySign with the API key
    script = wechat.wx_config(f"{shop.url}/pay/v3/md5") + (
        f"wx.ready(function () {{ wx.chooseWXPay(Object.assign({json.dumps(params)}, {{{callbacks('pay')}}})); }});"
    )
    shop.pages["/pay/v3/md5"] = page_html(sandbox_server.url, "official", script)
    page = open_page(phone, f"{shop.url}/pay/v3/md5")
    expect(page.get_by_test_id("wechat-alert-text")).to_have_text("支付验证签名失败")
    expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:invalid signature"]
    lines = wait_console(page, "paySign is a v2 MD5 paySign")
    assert any(f"signType MD5 for an order placed with API v3: {V3_RULE}" in m for m in lines), lines
    notes = journal_notes(sandbox_server.url, SHEET_OPEN)
    assert any("paySign is a v2 MD5 paySign" in n for n in notes), notes
    assert wait_for_order(wxpay, "V3-WITH-MD5", page, "NOTPAY")["trade_state"] == "NOTPAY"


def test_choose_wx_pay_without_sign_type_for_a_v3_order_names_rsa(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    """The official SDK sends signType SHA1 when the page gives none; the paySign is a valid RSA one."""
    wechat, wxpay = Sandbox(sandbox_server.url), merchant(sandbox_server.url, shop.notify_url)
    params = rsa_params(wxpay, order(wxpay, wechat, "V3-NO-SIGNTYPE", total=100))
    wx_params = {"timestamp": params["timeStamp"], "nonceStr": params["nonceStr"], "package": params["package"]}
    wx_params["paySign"] = params["paySign"]
    script = wechat.wx_config(f"{shop.url}/pay/v3/sha1") + (
        f"wx.ready(function () {{ wx.chooseWXPay(Object.assign({json.dumps(wx_params)}, {{{callbacks('pay')}}})); }});"
    )
    shop.pages["/pay/v3/sha1"] = page_html(sandbox_server.url, "official", script)
    page = open_page(phone, f"{shop.url}/pay/v3/sha1")
    assert wait_log(page, 1) == ["pay fail:chooseWXPay:invalid signature"]
    lines = wait_console(page, "paySign is a valid RSA paySign, but the call sent signType 'SHA1'")
    assert any("or RSA (API v3)" in m for m in lines), lines  # the note on jweixin's SHA1 default
