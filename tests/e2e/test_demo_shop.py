"""The demo shop in a plain desktop Chromium against `wechat-sandbox up`: the seed's nine steps, done right,
and each of its pitfalls flagged by the sandbox.

WECHAT_SANDBOX_DOCS=1 also writes the README's screenshots to docs/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.e2e.demo import Demo, Shopper, delivered, open_shopper, out_trade_no, running_demo, wait_until

MODES = ["jssdk", "bridge"]
"""wx.chooseWXPay, or the checkout page's switch to WeixinJSBridge.invoke('getBrandWCPayRequest')."""


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """One `wechat-sandbox up` for the module: tests that share it use their own orders and browser contexts."""
    with running_demo() as running:
        yield running


@pytest.fixture
def fresh_demo() -> Iterator[Demo]:
    """A `wechat-sandbox up` of the test's own, for tests that move the clock or need a first sign-in."""
    with running_demo() as running:
        yield running


@pytest.fixture
def shopper(browser: Browser, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    """A fresh browser context on the module's demo."""
    yield from open_shopper(browser, demo, request)


@pytest.fixture
def fresh_shopper(browser: Browser, fresh_demo: Demo, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    """A fresh browser context on a demo of the test's own."""
    yield from open_shopper(browser, fresh_demo, request)


# -- paying ------------------------------------------------------------------------------------------


def test_happy_path_signs_in_pays_and_fulfils_once(fresh_shopper: Shopper) -> None:
    """Picker → consent → back signed in → buy → checkout → pay sheet → PIN → PAID, SUCCESS, fulfilled once."""
    s, page = fresh_shopper, fresh_shopper.page
    with s.evidence():
        page.goto(s.shop)
        expect(page.get_by_test_id("shop-product").first).to_be_disabled()  # sign in first (seed note 5)
        s.sign_in("alice", docs=True)
        expect(page).to_have_url(s.shop + "/")
        expect(page.get_by_test_id("shop-product").first).to_be_enabled()
        s.screenshot_for_docs("1-shop")

        order = s.buy("tea")
        expect(page).to_have_url(re.compile(rf"/checkout/{order}$"))
        s.screenshot_for_docs("4-checkout")
        s.open_sheet()
        expect(page.get_by_test_id("wechat-pay-amount")).to_have_text("¥12.80")
        s.confirm(docs=True)

        s.wait_result(order)
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("1")
        assert s.demo.order(order)["trade_state"] == "SUCCESS"
        delivered(s.demo, order)
        page.reload()
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("1")
        s.screenshot_for_docs("6-result")

        page.goto(f"{s.shop}/flow")
        for step in (1, 2, 4, 5, 7, 8, 9):
            expect(page.locator(".step", has_text=f"Step {step} ")).not_to_contain_text("not run yet")
        s.screenshot_for_docs("7-flow")


def test_weixinjsbridge_switch_pays(shopper: Shopper) -> None:
    """The same payment through WeixinJSBridge.invoke('getBrandWCPayRequest') (the seed's note 1)."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.buy("coffee")
        s.use_bridge()
        s.open_sheet()
        s.confirm()
        s.wait_result(order)
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("1")
        assert s.demo.order(order)["trade_state"] == "SUCCESS"


@pytest.mark.parametrize("mode", MODES)
def test_cancel_on_the_sheet_leaves_the_order_unpaid(shopper: Shopper, mode: str) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.buy()
        if mode == "bridge":
            s.use_bridge()
        s.open_sheet()
        page.get_by_test_id("wechat-pay-cancel").click()
        s.wait_result(order)
        expect(page.locator("h2")).to_have_text("You cancelled the payment")
        expect(page.get_by_test_id("shop-order-status")).not_to_have_text("PAID")
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("0")
        assert s.demo.order(order)["trade_state"] == "NOTPAY"


@pytest.mark.parametrize("mode", MODES)
def test_insufficient_balance_shows_the_failure_page(shopper: Shopper, mode: str) -> None:
    """bob's wallet is emptied through the control API; the sheet says 零钱余额不足 and nothing is paid."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.demo.api("PATCH", "users/bob", {"balance": 0})
        s.sign_in("bob")
        order = s.buy()
        if mode == "bridge":
            s.use_bridge()
        s.open_sheet()
        s.confirm()
        s.wait_result(order)
        expect(page.locator("h2")).to_have_text("The payment failed")
        expect(page.get_by_test_id("shop-order-status")).not_to_have_text("PAID")
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("0")
        assert s.demo.order(order)["trade_state"] == "NOTPAY"
        s.wait_console("bob has 0 fen, the order needs 1280")


# -- notifications -----------------------------------------------------------------------------------


def test_a_failed_notification_is_retried_and_fulfils_once(fresh_shopper: Shopper) -> None:
    """The shop answers the first notification FAIL (/admin's switch); 15 s later on the sandbox clock
    WeChat tries again, the shop acknowledges it, and the goods went out once."""
    s, page = fresh_shopper, fresh_shopper.page
    with s.evidence():
        s.sign_in()
        page.goto(f"{s.shop}/admin")
        page.get_by_test_id("shop-fail-next").click()
        expect(page.locator("body")).to_contain_text("(1 pending)")
        order = s.pay()  # the result page asked WeChat (order query) while the notification failed

        def failed_once() -> list[dict[str, Any]] | None:
            notes = s.demo.notifications(order)
            return notes if notes and notes[0]["attempts"] else None

        [note] = wait_until(failed_once, "the first notification attempt")
        assert note["status"] != "delivered"
        assert note["attempts"][0]["ok"] is False
        s.demo.advance(15)
        [note] = delivered(s.demo, order)
        assert [a["ok"] for a in note["attempts"]] == [False, True]
        assert s.admin_row(order)["Fulfilled"] == "1"
        page.goto(f"{s.shop}/result/{order}")
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        expect(page.get_by_test_id("shop-fulfilled")).to_have_text("1")


def test_a_duplicated_notification_is_recorded_but_fulfils_once(shopper: Shopper) -> None:
    s = shopper
    with s.evidence():
        s.sign_in()
        order = s.pay()
        [original] = delivered(s.demo, order)
        before = int(s.admin_row(order)["Deliveries"])
        s.demo.api("POST", f"notifications/{original['id']}/resend", {"duplicate": True})
        delivered(s.demo, order, count=3)

        def both_recorded() -> dict[str, str] | None:
            row = s.admin_row(order)
            return row if int(row["Deliveries"]) == before + 2 else None

        row = wait_until(both_recorded, "the two copies recorded by the shop")
        assert row["Fulfilled"] == "1"
        assert row["State"] == "PAID"


@pytest.mark.parametrize("tamper", ["amount", "sign"])
def test_a_tampered_notification_is_refused_and_listed(shopper: Shopper, tamper: str) -> None:
    """A copy with its sign zeroed, or its total_fee changed after signing: the shop's check of the sign
    refuses both (a correctly signed wrong amount would be refused by the amount check)."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.pay()
        [original] = delivered(s.demo, order)
        [forged] = s.demo.api("POST", f"notifications/{original['id']}/resend", {"tamper": tamper})["notifications"]

        def refused() -> dict[str, Any] | None:
            note = next(n for n in s.demo.notifications(order) if n["id"] == forged["id"])
            return note if note["attempts"] else None

        note = wait_until(refused, f"the {tamper}-tampered copy delivered")
        assert note["attempts"][0]["ok"] is False
        assert "FAIL" in str(note["attempts"][0]["body"])
        page.goto(f"{s.shop}/admin")
        expect(page.get_by_test_id("shop-forged").locator("tr", has_text=order)).to_contain_text(
            "the sign does not verify"
        )
        assert s.admin_row(order)["Fulfilled"] == "1"


# -- tokens ------------------------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_and_paying_still_works(fresh_shopper: Shopper) -> None:
    """Two hours later (the sandbox clock) the shop's cached jsapi_ticket is dead: the page's first wx.config
    fails, the page asks the shop to sign again (it reloads itself once), the shop refreshes its
    access_token (42001 → /cgi-bin/token) and the payment goes through."""
    s, page = fresh_shopper, fresh_shopper.page
    with s.evidence():
        s.sign_in()
        s.buy()  # the shop now caches an access_token and a jsapi_ticket
        mark = s.demo.journal()[-1]["id"]
        s.demo.advance(7300)

        signatures: list[str] = []
        page.on("request", lambda r: signatures.append(r.url) if "/api/jssdk-config" in r.url else None)
        order = s.buy("coffee")
        s.wait_console("wx.config signature does not verify")
        assert sum("/api/jssdk-config/refresh" in url for url in signatures) == 1
        assert sum("/api/jssdk-config?" in url for url in signatures) == 2  # before and after the reload

        since = [e for e in s.demo.journal() if e["id"] > mark]
        paths = [e["path"] for e in since]
        assert "/cgi-bin/token" in paths, paths
        assert any(e["path"] == "/cgi-bin/ticket/getticket" and e["errcode"] == 42001 for e in since), since
        assert paths.index("/cgi-bin/token") > paths.index("/cgi-bin/ticket/getticket")

        s.open_sheet()
        s.confirm()
        s.wait_result(order)
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        assert s.demo.order(order)["trade_state"] == "SUCCESS"


# -- refunds -----------------------------------------------------------------------------------------


def test_admin_refunds_part_then_the_rest(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.pay("tea")  # ¥12.80
        row = page.locator(f'[data-testid="shop-admin-order"][data-order="{order}"]')

        page.goto(f"{s.shop}/admin")
        row.locator('input[name="amount"]').fill("500")
        row.get_by_test_id("shop-refund").click()
        expect(row).to_contain_text("PARTIALLY_REFUNDED")
        expect(row).to_contain_text("¥5.00")

        row.get_by_test_id("shop-refund").click()  # the amount defaults to what is left: ¥7.80
        expect(row).to_contain_text("REFUNDED")
        expect(row).not_to_contain_text("PARTIALLY")
        expect(row).to_contain_text("¥7.80")
        expect(row.get_by_test_id("shop-refund")).to_have_count(0)

        sandbox_order = s.demo.order(order)
        assert sandbox_order["trade_state"] == "REFUND"
        assert sorted(r["refund_fee"] for r in sandbox_order["refunds"]) == [500, 780]
        delivered(s.demo, order, count=2, kind="refund")
        wait_until(lambda: s.admin_row(order)["Refunds"].count("(SUCCESS)") == 2, "both refund notifications")


# -- the seed's pitfalls, each flagged by the sandbox ------------------------------------------------


def open_broken(s: Shopper, variant: str) -> str:
    """Sign in, press the variant's button on /broken: the checkout page that makes that mistake."""
    s.sign_in()
    s.page.goto(f"{s.shop}/broken")
    s.page.get_by_test_id(f"shop-broken-{variant}").click()
    s.page.wait_for_url(re.compile(r"/(checkout|broken/pay)/\w+"))
    expect(s.page.get_by_test_id("shop-broken")).to_be_visible()
    return out_trade_no(s.page.url)


def test_broken_double_config_opens_two_pay_sheets(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        order = open_broken(s, "double-config")
        expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(2)
        assert "wx.config was called 2 times" in s.wait_console("wx.config was called 2 times")
        s.wait_console("a second pay sheet opened")
        assert s.demo.order(order)["trade_state"] == "NOTPAY"


def test_broken_hash_fails_wx_config_and_explains_the_fragment(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        open_broken(s, "hash")
        expect(page).to_have_url(re.compile(r"#pay$"))
        expect(page.get_by_test_id("shop-checkout-status")).to_have_text(re.compile("config:invalid signature"))
        s.wait_console("wx.config signature")
        s.wait_console("It was signed with the #fragment in the URL")
        expect(page.get_by_test_id("shop-sandbox-console")).to_contain_text("#fragment")
        s.screenshot_for_docs("8-broken-hash")


def test_broken_timestamp_is_refused_by_the_sheet(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        order = open_broken(s, "timestamp")
        page.get_by_test_id("shop-pay").click()
        s.wait_console("timeStamp is 'undefined'")
        expect(page.get_by_test_id("wechat-alert")).to_be_visible()
        expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
        assert s.demo.order(order)["trade_state"] == "NOTPAY"


def test_broken_order_sign_as_pay_sign_is_explained(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        open_broken(s, "order-sign")
        page.get_by_test_id("shop-pay").click()
        s.wait_console("paySign is the `sign` of the unifiedorder answer")
        expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)


def test_broken_directory_is_refused_with_the_pay_directory_explained(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        open_broken(s, "directory")
        expect(page).to_have_url(re.compile(r"/broken/pay/"))
        page.get_by_test_id("shop-pay").click()
        expect(page.get_by_test_id("wechat-alert-text")).to_contain_text("当前页面的URL未注册")
        line = s.wait_console("which is not a pay directory")
        assert f"{s.shop}/checkout/" in line
        s.screenshot_for_docs("9-broken-directory")


# -- newcomer traps ----------------------------------------------------------------------------------


def test_the_shop_sends_localhost_to_its_own_url(demo: Demo) -> None:
    """Opening http://localhost:PORT would lose the session on the way back from WeChat (the redirect_uri and
    the pay directory are 127.0.0.1): the shop redirects to the URL it printed."""
    port = demo.shop_url.rsplit(":", 1)[1]
    answer = requests.get(f"http://localhost:{port}/checkout/x?mode=bridge", allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{demo.shop_url}/checkout/x?mode=bridge"


def test_sign_in_never_redirects_off_the_shop() -> None:
    from demo_shop.pages import local_path

    for hostile in ("//evil.example", "/\\evil.example/x", "/\tevil", "https://evil.example/", "javascript:x"):
        assert local_path(hostile) == "/"
    assert local_path("/checkout/1?mode=bridge") == "/checkout/1?mode=bridge"
