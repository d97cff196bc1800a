"""The tea shop's payment, end to end, with nothing but wechat-sandbox's fixtures and wechatpy."""

from __future__ import annotations

import json
from urllib.parse import quote

import tea_shop
from wechatpy.pay import WeChatPay


def wechat_pay(wechat_sandbox):
    pay = WeChatPay(wechat_sandbox.appid, wechat_sandbox.mch_key, wechat_sandbox.mch_id)
    pay.API_BASE_URL = wechat_sandbox.url + "/"
    return pay


def open_pay_page(wechat_sandbox, shop, wechat_page, out_trade_no: str) -> None:
    pay = wechat_pay(wechat_sandbox)
    order = pay.order.create("JSAPI", "龙井", 1280, shop.url + "/notify", client_ip="127.0.0.1",
                             user_id=wechat_sandbox.openid(), out_trade_no=out_trade_no)  # fmt: skip
    params = pay.jsapi.get_jsapi_params(order["prepay_id"], jssdk=True)
    wechat_page.goto(f"{shop.url}/pay?params={quote(json.dumps(params))}")


def test_customer_pays_and_the_shop_is_notified(wechat_sandbox, shop, wechat_page, pay_sheet) -> None:
    open_pay_page(wechat_sandbox, shop, wechat_page, "TEA-1")
    assert pay_sheet.wait().amount() == "¥12.80"
    pay_sheet.confirm()
    wechat_page.get_by_text("paid").wait_for()
    wechat_sandbox.notifications("TEA-1", wait_for=1)
    delivered = shop.app[tea_shop.NOTIFICATIONS][0]
    assert wechat_pay(wechat_sandbox).parse_payment_result(delivered)["out_trade_no"] == "TEA-1"
    assert wechat_sandbox.order("TEA-1")["trade_state"] == "SUCCESS"


def test_customer_cancels(wechat_sandbox, shop, wechat_page, pay_sheet) -> None:
    open_pay_page(wechat_sandbox, shop, wechat_page, "TEA-2")
    pay_sheet.wait().cancel()
    wechat_page.get_by_text("cancelled").wait_for()
    assert wechat_sandbox.order("TEA-2")["trade_state"] == "NOTPAY"


def test_not_enough_balance(wechat_sandbox, shop, wechat_page, pay_sheet) -> None:
    wechat_sandbox.update_user(wechat_sandbox.user()["id"], balance=0)
    open_pay_page(wechat_sandbox, shop, wechat_page, "TEA-3")
    pay_sheet.wait().confirm()
    wechat_page.get_by_text("failed: chooseWXPay:fail").wait_for()
    assert wechat_sandbox.order("TEA-3")["trade_state"] == "NOTPAY"
