"""The sandbox phone in Chromium: a NATIVE order placed by wechatpy is scanned (picked, pasted, or read from an
uploaded picture of its QR code) and paid on WeChat's pay sheet with the PIN."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from wechatpy.pay import WeChatPay

from sandbox import qr
from sandbox.playwright import PaySheet
from sandbox.testing import WeChatSandbox


def native_order(sandbox: WeChatSandbox, out_trade_no: str) -> str:
    """wechatpy places a NATIVE order (12.80 yuan); its code_url."""
    pay = WeChatPay(sandbox.appid, sandbox.mch_key, sandbox.mch_id)
    pay.API_BASE_URL = sandbox.url + "/"
    answer = pay.order.create(
        "NATIVE", "龙井茶", 1280, "http://127.0.0.1:9/notify", client_ip="127.0.0.1", product_id="tea",
        out_trade_no=out_trade_no,
    )  # fmt: skip
    return str(answer["code_url"])


def test_the_phone_pays_an_open_native_order_picked_from_its_list(wechat_sandbox: WeChatSandbox, page: Page) -> None:
    native_order(wechat_sandbox, "PHONE1")
    page.goto(f"{wechat_sandbox.url}/_sandbox/phone")
    page.get_by_test_id("phone-user").select_option("bob")
    page.locator('[data-testid="phone-order"][data-order="PHONE1"]').click()
    sheet = PaySheet(page, {"bob": str(wechat_sandbox.user("bob")["pin"])}).wait()
    assert (sheet.amount(), sheet.user().endswith("(bob)")) == ("¥12.80", True)
    sheet.confirm()
    expect(page.get_by_test_id("phone-result")).to_have_text("支付成功")
    order = wechat_sandbox.order("PHONE1")
    assert (order["trade_state"], order["user"]) == ("SUCCESS", "bob")


def test_the_phone_reads_an_uploaded_picture_of_the_qr_code(
    wechat_sandbox: WeChatSandbox, page: Page, tmp_path: Path
) -> None:
    picture = tmp_path / "code.png"
    picture.write_bytes(qr.png(native_order(wechat_sandbox, "PHONE2")))
    page.goto(f"{wechat_sandbox.url}/_sandbox/phone")
    page.get_by_test_id("phone-picture").set_input_files(str(picture))
    PaySheet(page).wait().confirm()
    expect(page.get_by_test_id("phone-result")).to_have_text("支付成功")
    assert wechat_sandbox.order("PHONE2")["trade_state"] == "SUCCESS"


def test_the_phone_shows_why_a_pasted_text_is_no_pay_code(wechat_sandbox: WeChatSandbox, page: Page) -> None:
    page.goto(f"{wechat_sandbox.url}/_sandbox/phone")
    page.get_by_test_id("phone-code").fill("https://example.com/")
    page.get_by_test_id("phone-scan").click()
    expect(page.get_by_test_id("phone-result")).to_have_text("二维码无效")
    expect(page.get_by_test_id("phone-diagnostics")).to_contain_text("is not a WeChat Pay code")
