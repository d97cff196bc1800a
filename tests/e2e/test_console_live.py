"""The console in Chromium against `wechat-sandbox up`, after a JSAPI payment through the demo shop: each page finds
it, the pay, refund, resend and clock buttons work from the page, and pages follow changes made elsewhere
without a reload (but never while someone types in a field)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.e2e.demo import MCH_ID, Demo, Shopper, delivered, open_shopper, running_demo, wait_until
from tests.pay_helpers import MCH_KEY, order_fields, signed_xml

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
NAVIGATIONS = "performance.getEntriesByType('navigation').length"
DONE_ARROWS = ("authorize", "code", "oauth_token", "userinfo", "token", "ticket", "config", "prepay", "pay", "notify")


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with running_demo() as running:
        yield running


@pytest.fixture(scope="module")
def paid(browser: Browser, demo: Demo, request: pytest.FixtureRequest) -> str:
    """One JSAPI payment through the demo shop (sign in, buy, the pay sheet, the PIN), once the shop acknowledged
    its notification: the order's out_trade_no."""
    with contextmanager(open_shopper)(browser, demo, request) as shopper, shopper.evidence():
        shopper.sign_in("alice")
        order = shopper.pay("tea")
        delivered(demo, order)
    return order


@pytest.fixture
def console(browser: Browser, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    """A desktop tab on the sandbox's console (a Shopper for its evidence on failure: page, console, journal)."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watcher = Shopper(page, demo, request.node.name)
    page.on("console", lambda message: watcher.console.append(message.text))
    with watcher.evidence():
        yield watcher
    context.close()


def open_console(c: Shopper, path: str) -> Page:
    """Open a console page and wait until its event stream is connected (so no change can slip by)."""
    c.page.goto(c.demo.sandbox_url + path)
    expect(c.page.get_by_test_id("console-live")).to_have_text("● live")
    return c.page


def place_order(demo: Demo, total_fee: int = 1000) -> str:
    """An unpaid JSAPI order for alice, placed as a merchant's server would (signed XML, no browser). Its
    notify_url is on the shop's host (the only one the demo's merchant may name) at a path the shop does not
    serve: WeChat's deliveries fail there, and the shop's own books stay out of it."""
    out_trade_no = "CL" + uuid.uuid4().hex[:20]
    fields = order_fields(out_trade_no=out_trade_no, total_fee=total_fee, notify_url=f"{demo.shop_url}/not-a-shop")
    body = signed_xml(fields, MCH_KEY)
    answer = requests.post(f"{demo.sandbox_url}/pay/unifiedorder", data=body, timeout=5)
    assert "<result_code><![CDATA[SUCCESS]]></result_code>" in answer.text, answer.text
    return out_trade_no


def order_row(page: Page, out_trade_no: str) -> Locator:
    return page.get_by_test_id("order-row").filter(has_text=out_trade_no)


# -- after the demo shop's payment, each page finds it ------------------------------------------------


def test_each_page_finds_the_payment(console: Shopper, paid: str) -> None:
    page = open_console(console, "/_sandbox/orders")
    row = order_row(page, paid)
    expect(row).to_contain_text("SUCCESS")
    expect(row).to_contain_text("alice")

    row.get_by_role("link", name=paid).click()
    expect(page.get_by_test_id("order-state")).to_have_text("SUCCESS")
    expect(page.get_by_test_id("history-paid")).to_be_visible()
    expect(page.get_by_test_id("history-call").filter(has_text="/pay/unifiedorder")).to_have_count(1)
    expect(page.get_by_test_id("history-attempt").first).to_contain_text("payment notification, attempt 1: 200")
    expect(page.get_by_test_id("notification-status").first).to_have_text("delivered")

    open_console(console, "/_sandbox/notifications")
    note = page.get_by_test_id("notification").filter(has_text=paid).first
    expect(note.get_by_test_id("attempt").first).to_contain_text("acknowledged with return_code SUCCESS")

    open_console(console, f"/_sandbox/journal?out_trade_no={paid}")
    expect(page.get_by_test_id("journal-entry").filter(has_text="POST /pay/unifiedorder")).to_have_count(1)

    open_console(console, "/_sandbox/users")
    expect(page.get_by_test_id("user-alice")).to_contain_text("wx5a4db0c0ffee0001")  # her consent


def test_the_flow_page_draws_the_nine_steps_of_the_payment(console: Shopper, paid: str) -> None:
    page = open_console(console, f"/_sandbox/orders/{MCH_ID}/{paid}")
    page.get_by_test_id("order-flow-link").click()
    expect(page).to_have_url(re.compile(r"/_sandbox/flow\?mch_id="))
    expect(page.get_by_test_id("flow-subject")).to_contain_text(paid)
    for arrow in DONE_ARROWS:
        expect(page.locator(f'[data-testid=flow-row][data-arrow="{arrow}"]')).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("flow-failure")).to_have_count(0)

    prepay = page.locator('[data-testid=flow-row][data-arrow="prepay"] [data-testid=flow-message]').first
    prepay.locator("summary").click()
    expect(prepay).to_contain_text(f"out_trade_no: {paid}")
    expect(prepay).to_contain_text("<return_code><![CDATA[SUCCESS]]></return_code>")  # the answer
    version = page.evaluate("document.body.dataset.version")
    console.demo.api("PATCH", "users/carol", {"balance": 5000})  # any change: the page re-renders
    page.wait_for_function(f"document.body.dataset.version !== {version!r}")
    expect(prepay).to_have_attribute("open", "")  # what someone opened to read stays open
    prepay.get_by_test_id("flow-journal-link").click()
    expect(page).to_have_url(re.compile(r"/_sandbox/journal\?rid=.+#rid-"))
    expect(page.get_by_test_id("journal-entry")).to_have_count(1)
    expect(page.get_by_test_id("journal-entry")).to_contain_text("POST /pay/unifiedorder")


# -- the buttons ----------------------------------------------------------------------------------------


def test_an_unpaid_order_is_paid_from_its_page(console: Shopper) -> None:
    out_trade_no = place_order(console.demo)
    page = open_console(console, f"/_sandbox/orders/{MCH_ID}/{out_trade_no}")
    expect(page.get_by_test_id("order-state")).to_have_text("NOTPAY")
    form = page.get_by_test_id("pay-form")
    form.get_by_label("outcome").select_option("success")
    form.get_by_role("button", name="pay").click()
    expect(page.get_by_test_id("console-result")).to_have_text(re.compile(r"/pay: ✓ done$"))
    expect(form.locator("[data-result]")).to_have_text("✓ done")  # still there once the page re-rendered
    expect(page.get_by_test_id("order-state")).to_have_text("SUCCESS")
    expect(page.get_by_test_id("history-paid")).to_contain_text("paid by alice")
    assert console.demo.order(out_trade_no)["trade_state"] == "SUCCESS"
    assert page.evaluate(NAVIGATIONS) == 1


def test_part_of_the_payment_is_refunded_from_its_page(console: Shopper, paid: str) -> None:
    page = open_console(console, f"/_sandbox/orders/{MCH_ID}/{paid}")
    form = page.get_by_test_id("refund-form")
    form.get_by_label("refund amount (fen)").fill("100")
    form.get_by_role("button", name="refund").click()
    expect(page.get_by_test_id("console-order")).to_contain_text("¥1.00 of ¥12.80")
    expect(form.locator("[data-result]")).to_have_text("✓ done")
    expect(page.get_by_test_id("order-state")).to_have_text("REFUND")
    expect(page.get_by_test_id("history-refund")).to_contain_text("¥1.00")
    assert [r["refund_fee"] for r in console.demo.order(paid)["refunds"]] == [100]


def test_a_notification_is_resent_twice_from_the_order_page(console: Shopper, paid: str) -> None:
    before = len(console.demo.notifications(paid))
    page = open_console(console, f"/_sandbox/orders/{MCH_ID}/{paid}")
    notes = page.get_by_test_id("console-order-notifications").get_by_test_id("notification")
    expect(notes).to_have_count(before)
    notes.last.get_by_role("button", name="resend twice").click()  # the newest first: the last is the original
    expect(notes).to_have_count(before + 2)
    delivered(console.demo, paid, count=before + 2)  # the shop acknowledges both copies (it fulfils once)
    statuses = page.get_by_test_id("console-order-notifications").get_by_test_id("notification-status")
    expect(statuses).to_have_text(["delivered"] * (before + 2))
    assert page.evaluate(NAVIGATIONS) == 1


# -- live: changes made elsewhere ---------------------------------------------------------------------


def test_the_orders_page_follows_another_client_without_a_reload(console: Shopper) -> None:
    page = open_console(console, "/_sandbox/orders")
    page.evaluate("window.__notReloaded = true")
    out_trade_no = place_order(console.demo)
    expect(order_row(page, out_trade_no)).to_contain_text("NOTPAY")
    console.demo.api("POST", f"orders/{MCH_ID}/{out_trade_no}/pay", {"outcome": "success"})
    expect(order_row(page, out_trade_no)).to_contain_text("SUCCESS")
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate(NAVIGATIONS) == 1


def test_a_focused_field_is_not_re_rendered_until_it_loses_focus(console: Shopper) -> None:
    page = open_console(console, "/_sandbox/users")
    page.evaluate(  # a stream of our own tells when the sandbox has announced a change
        "window.__changes = 0; new EventSource('/_sandbox/api/events')"
        ".addEventListener('change', () => { window.__changes += 1; })"
    )
    nickname = page.get_by_test_id("user-bob").get_by_label("nickname", exact=True)
    nickname.fill("half-typed")
    nickname.evaluate("field => { field.__mine = true; }")
    version = page.evaluate("document.body.dataset.version")
    console.demo.api("PATCH", "users/bob", {"balance": 4321})
    page.wait_for_function("window.__changes > 0")
    page.wait_for_timeout(300)  # the page's own stream has had the same event by now
    assert nickname.evaluate("field => [field.__mine === true, field.value, document.activeElement === field]") == [
        True,
        "half-typed",
        True,
    ]
    assert page.evaluate("document.body.dataset.version") == version

    nickname.evaluate("field => field.blur()")
    page.wait_for_function(f"document.body.dataset.version !== {version!r}")
    expect(page.get_by_test_id("user-bob")).to_contain_text("¥43.21")
    assert nickname.input_value() != "half-typed"  # re-rendered: the server's value again
    assert page.evaluate(NAVIGATIONS) == 1


def test_the_clock_page_advances_two_hours(console: Shopper) -> None:
    before = float(console.demo.api("GET", "clock")["offset"])
    page = open_console(console, "/_sandbox/clock")
    page.get_by_test_id("advance-2h").click()
    wait_until(lambda: float(console.demo.api("GET", "clock")["offset"]) >= before + 7200, "the clock 2 h ahead")
    expect(page.get_by_test_id("console-clock")).to_contain_text("(+2 h")
    expect(page.get_by_test_id("console-clock-page")).to_contain_text("ahead of this machine")
    assert page.evaluate(NAVIGATIONS) == 1
