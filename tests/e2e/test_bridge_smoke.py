"""The whole in-page payment with the official JS-SDK: wx.config, wx.chooseWXPay, the sheet, the PIN."""

from __future__ import annotations

import json

from tests.e2e.conftest import LiveServer
from tests.e2e.shop import Sandbox, Shop, WeChatPage, page_html


def test_official_sdk_pays_through_the_sheet(sandbox_server: LiveServer, shop: Shop, wechat_page: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order("SMOKE-1", shop.notify_url)
    params = wechat.jsapi_params(prepay_id, jssdk=True)
    url = f"{shop.url}/pay/smoke"
    script = wechat.wx_config(url) + (
        "wx.error(function (r) { log.push('error:' + r.errMsg); });"
        "wx.ready(function () { log.push('ready'); wx.chooseWXPay(Object.assign(" + json.dumps(params) + ", {"
        "success: function (r) { log.push('success:' + r.errMsg); },"
        "cancel: function (r) { log.push('cancel:' + r.errMsg); },"
        "fail: function (r) { log.push('fail:' + r.errMsg); } })); });"
    )
    shop.pages["/pay/smoke"] = page_html(sandbox_server.url, "official", script)
    page = wechat_page.page
    page.goto(url)
    page.get_by_test_id("wechat-pay-pin").fill("123456")
    page.get_by_test_id("wechat-pay-confirm").click()
    page.wait_for_function("window.log.length >= 2")
    assert page.evaluate("window.log") == ["ready", "success:chooseWXPay:ok"]
    assert wechat.order_state("SMOKE-1") == "SUCCESS"
