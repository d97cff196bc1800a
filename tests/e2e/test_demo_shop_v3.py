"""The demo shop over WeChat Pay API v3 (`wechat-sandbox up --shop-api v3`) in a plain desktop Chromium: the same
nine steps, with RSA-signed requests and paySign, verified answers, and notifications verified and decrypted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.demo import MCH_ID, Demo, Shopper, delivered, open_shopper, running_demo, wait_until


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """One `wechat-sandbox up --shop-api v3` for the module: each test has its own orders and browser context."""
    with running_demo("--shop-api", "v3") as running:
        yield running


@pytest.fixture
def shopper(browser: Browser, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    yield from open_shopper(browser, demo, request)


def calls(demo: Demo, method: str, path: str) -> list[dict[str, Any]]:
    """The sandbox's journal entries of one API v3 call."""
    return [e for e in demo.journal() if e["method"] == method and e["path"] == path]


def test_happy_path_pays_over_api_v3(shopper: Shopper) -> None:
    """Sign in → buy → JSAPI order over v3 (answer verified) → RSA paySign → sheet → PIN → PAID; the notification
    is verified and decrypted (the shop answers 204) and the goods go out once."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.buy("tea")
        s.open_sheet()
        training = page.get_by_test_id("shop-training")
        expect(training).to_contain_text("/v3/pay/transactions/jsapi")
        expect(training).to_contain_text("WeChat Pay's public key PUB_KEY_ID_")  # the answer's signature checked
        expect(training).to_contain_text('"signType": "RSA"')
        expect(page.get_by_test_id("wechat-pay-amount")).to_have_text("¥12.80")
        s.confirm()

        s.wait_result(order)
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        assert s.demo.order(order)["trade_state"] == "SUCCESS"
        [note] = delivered(s.demo, order)
        assert [a["status"] for a in note["attempts"]] == [204]
        assert s.admin_row(order)["Fulfilled"] == "1"
        [placed] = calls(s.demo, "POST", "/v3/pay/transactions/jsapi")[-1:]
        assert placed["status"] == 200

        page.goto(f"{s.shop}/flow")
        expect(page.get_by_test_id("shop-pay-api")).to_contain_text("API v3")
        expect(page.locator(".step", has_text="Step 8 ")).to_contain_text("JSAPI order (API v3)")
        expect(page.locator(".step", has_text="Step 8 ")).to_contain_text("paySign RSA")


def test_weixinjsbridge_switch_pays_with_the_rsa_pay_sign(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.buy("coffee")
        s.use_bridge()
        s.open_sheet()
        s.confirm()
        s.wait_result(order)
        expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        assert s.demo.order(order)["trade_state"] == "SUCCESS"
        [note] = delivered(s.demo, order)
        assert note["attempts"][-1]["status"] == 204


@pytest.mark.parametrize(
    ("tamper", "status", "why"),
    [
        ("sign", 401, "the signature does not verify with WeChat Pay's public key"),
        ("amount", 401, "the signature does not verify with WeChat Pay's public key"),
        ("ciphertext", 400, "the resource does not decrypt"),
    ],
)
def test_a_tampered_notification_is_refused_and_listed(shopper: Shopper, tamper: str, status: int, why: str) -> None:
    """A copy with a forged signature, an amount changed after signing, or a resource that does not open: the
    shop answers 4xx with code FAIL, lists it on /admin, and fulfils nothing more."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.pay()
        [original] = delivered(s.demo, order)
        [forged] = s.demo.api("POST", f"notifications/{original['id']}/resend", {"tamper": tamper})["notifications"]

        def refused() -> dict[str, Any] | None:
            note = next(n for n in s.demo.notifications(order) if n["id"] == forged["id"])
            return note if note["attempts"] else None

        attempt = wait_until(refused, f"the {tamper}-tampered copy delivered")["attempts"][0]
        assert (attempt["ok"], attempt["status"]) == (False, status)
        assert '"code":"FAIL"' in attempt["body"].replace(" ", "")
        page.goto(f"{s.shop}/admin")
        expect(page.get_by_test_id("shop-forged").locator("tr", has_text=forged["id"])).to_contain_text(why)
        assert s.admin_row(order)["Fulfilled"] == "1"


def test_the_result_page_asks_the_v3_order_query_while_the_notification_fails(shopper: Shopper) -> None:
    """The first notification is answered FAIL (/admin's switch): the result page asks GET
    /v3/pay/transactions/out-trade-no/…; 15 s later (sandbox clock) WeChat retries and the shop answers 204."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        page.goto(f"{s.shop}/admin")
        page.get_by_test_id("shop-fail-next").click()
        expect(page.locator("body")).to_contain_text("(1 pending)")
        order = s.pay()
        queried = calls(s.demo, "GET", f"/v3/pay/transactions/out-trade-no/{order}")
        assert queried, "the result page did not ask WeChat Pay"
        assert all(e["status"] == 200 for e in queried)

        def failed_once() -> list[dict[str, Any]] | None:
            notes = s.demo.notifications(order)
            return notes if notes and notes[0]["attempts"] else None

        wait_until(failed_once, "the first notification attempt")
        s.demo.advance(15)
        [note] = delivered(s.demo, order)
        assert [a["status"] for a in note["attempts"]] == [500, 204]
        assert s.admin_row(order)["Fulfilled"] == "1"


def test_admin_refunds_over_v3_and_the_refund_notifications_decrypt(shopper: Shopper) -> None:
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        order = s.pay("tea")  # ¥12.80
        row = page.locator(f'[data-testid="shop-admin-order"][data-order="{order}"]')
        page.goto(f"{s.shop}/admin")
        row.locator('input[name="amount"]').fill("500")
        row.get_by_test_id("shop-refund").click()
        expect(row).to_contain_text("PARTIALLY_REFUNDED")
        expect(page.get_by_test_id("shop-training")).to_contain_text("/v3/refund/domestic/refunds")
        row.get_by_test_id("shop-refund").click()  # the rest: ¥7.80
        expect(row).to_contain_text("REFUNDED")
        expect(row).not_to_contain_text("PARTIALLY")

        assert sorted(r["refund_fee"] for r in s.demo.order(order)["refunds"]) == [500, 780]
        notes = delivered(s.demo, order, count=2, kind="refund")
        assert [n["attempts"][-1]["status"] for n in notes] == [204, 204]
        wait_until(lambda: s.admin_row(order)["Refunds"].count("(SUCCESS)") == 2, "both refund notifications")


def test_answers_signed_with_the_platform_certificate_verify_too(shopper: Shopper) -> None:
    """A merchant still on platform certificates: answers and notifications carry the certificate's serial in
    Wechatpay-Serial, and the shop verifies them with that certificate."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.demo.api("POST", f"merchants/{MCH_ID}", {"response_signing": "platform_certificate"})
        try:
            s.sign_in()
            order = s.buy("coffee")
            s.open_sheet()
            expect(page.get_by_test_id("shop-training")).to_contain_text(re.compile(r"platform certificate [0-9A-F]+"))
            s.confirm()
            s.wait_result(order)
            expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
            [note] = delivered(s.demo, order)
            assert note["attempts"][-1]["status"] == 204
        finally:
            s.demo.api("POST", f"merchants/{MCH_ID}", {"response_signing": "public_key"})


def test_broken_order_sign_as_pay_sign_is_explained_for_v3(shopper: Shopper) -> None:
    """The seed's note 1 over v3: the answer's Wechatpay-Signature passed off as the page's RSA paySign."""
    s, page = shopper, shopper.page
    with s.evidence():
        s.sign_in()
        page.goto(f"{s.shop}/broken")
        page.get_by_test_id("shop-broken-order-sign").click()
        page.wait_for_url(re.compile(r"/(checkout|broken/pay)/\w+"))
        page.get_by_test_id("shop-pay").click()
        s.wait_console("paySign is the signature of the order's answer (its Wechatpay-Signature)")
        expect(page.get_by_test_id("wechat-pay-sheet")).to_have_count(0)
