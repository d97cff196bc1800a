"""The demo shop outside WeChat, in Chromium against `wechat-sandbox up`: a desktop's QR code paid by the sandbox
phone, H5 pay in a phone's browser and WeChat's error pages, the APP-sign mistake, and scan to pay mode 1."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from sandbox import qr
from tests.e2e.demo import MCH_ID, PIN, WAIT, Demo, running_demo

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
    "Safari/537.36"
)


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with running_demo() as running:
        yield running


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(WAIT * 1000)
    yield context.new_page()
    context.close()


@pytest.fixture
def mobile(browser: Browser) -> Iterator[Page]:
    """A phone's ordinary browser: Android Chrome, no MicroMessenger."""
    context = browser.new_context(user_agent=ANDROID_CHROME, viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(WAIT * 1000)
    yield context.new_page()
    context.close()


def buy_outside_wechat(page: Page, demo: Demo, product: str = "tea") -> str:
    page.goto(demo.shop_url)
    page.locator(f'[data-testid="shop-product-guest"][data-product="{product}"]').click()
    page.wait_for_url(re.compile(r"/pay/\w+"))
    return page.url.rsplit("/", 1)[1].split("?")[0]


def pay_on_sheet(page: Page) -> None:
    page.get_by_test_id("wechat-pay-pin").fill(PIN)
    page.get_by_test_id("wechat-pay-confirm").click()


def test_a_desktop_checkout_shows_a_qr_code_the_phone_pays_and_the_page_turns_paid(demo: Demo, desktop: Page) -> None:
    order = buy_outside_wechat(desktop, demo)
    qr_code = desktop.get_by_test_id("shop-qr")
    expect(qr_code).to_be_visible()
    code_url = qr.read(qr_code.screenshot())
    assert code_url == "weixin://wxpay/bizpayurl?pr=" + str(demo.order(order)["prepay_id"])[-7:]
    phone = desktop.context.new_page()
    phone.goto(f"{demo.sandbox_url}/_sandbox/phone")
    phone.get_by_test_id("phone-user").select_option("bob")
    phone.get_by_test_id("phone-code").fill(code_url)
    phone.get_by_test_id("phone-scan").click()
    pay_on_sheet(phone)
    expect(phone.get_by_test_id("phone-result")).to_have_text("支付成功")
    expect(desktop.get_by_test_id("shop-order-status")).to_have_text("PAID")  # polled: the page never reloaded
    assert demo.order(order)["user"] == "bob"


def start_h5(page: Page, demo: Demo) -> str:
    """From the shop's H5 page to WeChat's cashier; the order."""
    order = buy_outside_wechat(page, demo)
    page.get_by_test_id("shop-h5-pay").click()
    expect(page.get_by_test_id("wechat-cashier")).to_be_visible()
    return order


def test_h5_pay_in_a_phones_browser_lands_on_redirect_url_after_paying(demo: Demo, mobile: Page) -> None:
    order = start_h5(mobile, demo)
    assert mobile.url.startswith(f"{demo.sandbox_url}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=")
    mobile.get_by_test_id("wechat-cashier-pay").click()
    pay_on_sheet(mobile)
    mobile.wait_for_url(f"{demo.shop_url}/result/{order}")
    expect(mobile.get_by_test_id("shop-order-status")).to_have_text("PAID")


def test_the_h5_link_opened_without_a_referer_shows_wechats_error_and_why(demo: Demo, mobile: Page) -> None:
    start_h5(mobile, demo)
    link = mobile.url
    other = mobile.context.new_page()
    other.goto(link)
    expect(other.get_by_test_id("wechat-error-text")).to_have_text("商家参数格式有误，请联系商家解决")
    expect(other.get_by_test_id("wechat-sandbox-diagnostic")).to_contain_text("the request has no Referer")


def test_the_h5_link_followed_from_another_site_shows_wechats_error_and_why(demo: Demo, mobile: Page) -> None:
    start_h5(mobile, demo)
    link = mobile.url
    other = mobile.context.new_page()
    other.goto(link, referer="https://elsewhere.example/")
    expect(other.get_by_test_id("wechat-error-text")).to_have_text("商家存在未配置的参数，请联系商家解决")
    expect(other.get_by_test_id("wechat-sandbox-diagnostic")).to_contain_text(
        "the Referer https://elsewhere.example/ is not under an H5 pay domain (H5支付域名; the setting h5_domains)"
    )


def test_the_broken_h5_page_with_a_wrong_redirect_url_shows_note_sevens_page(demo: Demo, mobile: Page) -> None:
    mobile.goto(f"{demo.shop_url}/broken")
    mobile.get_by_test_id("shop-broken-h5-redirect").click()
    mobile.get_by_test_id("shop-h5-pay").click()
    expect(mobile.get_by_test_id("wechat-error-text")).to_have_text("redirectUrl不正确")
    expect(mobile.get_by_test_id("wechat-sandbox-diagnostic")).to_contain_text(
        "its host qzone.eyee.com is not under an H5 pay domain (h5_domains)"
    )


def test_the_broken_app_sign_is_named_by_the_sandbox_app(demo: Demo, desktop: Page) -> None:
    desktop.goto(f"{demo.shop_url}/broken")
    desktop.get_by_test_id("shop-broken-app-sign").click()
    desktop.get_by_test_id("shop-open-app").click()
    desktop.get_by_test_id("app-pay").click()
    expect(desktop.get_by_test_id("app-result")).to_have_text("onResp: errCode -1 (错误)")
    expect(desktop.get_by_test_id("app-diagnostics")).to_contain_text("It is a JSAPI paySign")


def test_the_shops_app_parameters_are_paid_in_the_sandbox_app(demo: Demo, desktop: Page) -> None:
    placed = desktop.request.post(f"{demo.shop_url}/orders/guest", form={"product": "tea"}, max_redirects=0)
    order = str(placed.headers["location"]).rsplit("/", 1)[1]  # not opened on /pay: that places a NATIVE order
    desktop.goto(f"{demo.shop_url}/app/{order}")
    desktop.get_by_test_id("shop-open-app").click()
    desktop.get_by_test_id("app-pay").click()
    pay_on_sheet(desktop)
    expect(desktop.get_by_test_id("app-result")).to_have_text("onResp: errCode 0 (支付成功)")
    assert demo.order(order)["trade_state"] == "SUCCESS"


def mode_one_code(demo: Demo, page: Page) -> str:
    page.goto(f"{demo.shop_url}/products/tea/code")
    return qr.read(page.get_by_test_id("shop-mode1-qr").screenshot())


def test_a_products_mode_one_code_is_paid_through_the_shops_callback(demo: Demo, desktop: Page) -> None:
    paid = demo.api("POST", "scan", {"code_url": mode_one_code(demo, desktop), "user": "carol"})
    assert (paid["order"]["trade_state"], paid["order"]["total_fee"]) == ("SUCCESS", 1280)
    row = demo.order(paid["order"]["out_trade_no"])
    assert (row["trade_type"], row["user"]) == ("NATIVE", "carol")


def test_a_mode_one_code_is_refused_when_the_registered_callback_url_is_not_the_shops(
    demo: Demo, desktop: Page
) -> None:
    code_url = mode_one_code(demo, desktop)
    merchant = f"{demo.sandbox_url}/_sandbox/api/merchants/{MCH_ID}"
    wrong = f"{demo.shop_url}/not-the-callback"
    requests.post(merchant, json={"native_callback_url": wrong}, timeout=5).raise_for_status()
    try:
        answer = requests.post(f"{demo.sandbox_url}/_sandbox/api/scan", json={"code_url": code_url}, timeout=10)
    finally:
        requests.post(merchant, json={"native_callback_url": f"{demo.shop_url}/native/callback"}, timeout=5)
    assert answer.status_code == 409
    assert answer.json()["diagnostics"][-1] == f"the scan-pay callback {wrong} answered HTTP 404, not 200"
