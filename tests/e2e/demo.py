"""The demo shop end to end: `wechat-sandbox up` in a subprocess, a plain desktop Chromium, what a newcomer does.

`Demo` is one run of the real command (the sandbox and the shop, each on a free port) with the control API at
hand; `Shopper` is a browser tab on the shop, with its console recorded, the steps a person takes (sign in,
buy, pay) and `evidence()`, which keeps a screenshot, the console and the sandbox's journal of a failed test
under test-artifacts/<test>/.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect

from sandbox import defaults

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DOCS_ENV = "WECHAT_SANDBOX_DOCS"
MCH_ID = defaults.DEFAULT_MCH_ID
PIN = "123456"
STARTUP = 20.0
WAIT = 10.0
VIEWPORT: ViewportSize = {"width": 390, "height": 844}
SANDBOX_LINE = "WeChat sandbox listening on "
SHOP_LINE = "Demo shop listening on "

T = TypeVar("T")


class Demo:
    """`python -m sandbox up --port 0 --shop-port 0 --in-memory --seed 1`, as `make demo` runs it, plus `options`
    (`--shop-api v3`)."""

    def __init__(self, *options: str) -> None:
        command = [sys.executable, "-m", "sandbox", "up", "--port", "0", "--shop-port", "0", "--in-memory"]
        self.process = subprocess.Popen(
            [*command, "--seed", "1", *options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, name="demo-output", daemon=True)
        self._drainer.start()
        self.sandbox_url = self.shop_url = ""
        try:
            self._read_urls()
        except BaseException:
            self.stop()
            raise

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _read_urls(self) -> None:
        deadline = time.monotonic() + STARTUP
        while not (self.sandbox_url and self.shop_url):
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError("`wechat-sandbox up` did not print both URLs:\n" + "\n".join(self.output))
            if line.startswith(SANDBOX_LINE):
                self.sandbox_url = line.removeprefix(SANDBOX_LINE)
            elif line.startswith(SHOP_LINE):
                self.shop_url = line.removeprefix(SHOP_LINE)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drainer.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    # -- the control API -----------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(method, f"{self.sandbox_url}/_sandbox/api/{path}", json=body, timeout=5)
        assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def order(self, out_trade_no: str) -> dict[str, Any]:
        """The sandbox's side of an order: trade_state, refunds …"""
        found: dict[str, Any] = self.api("GET", f"orders/{MCH_ID}/{out_trade_no}")
        return found

    def notifications(self, out_trade_no: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api("GET", f"notifications?out_trade_no={out_trade_no}")["notifications"]
        return found

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.api("GET", "journal?limit=1000")["entries"]
        return entries

    def advance(self, seconds: float) -> None:
        self.api("POST", "clock", {"advance": seconds})

    def user(self, user_id: str) -> dict[str, Any]:
        return dict(next(u for u in self.api("GET", "config")["users"] if u["id"] == user_id))


def wait_until(check: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll `check` (a cheap HTTP look) until it returns something truthy; bounded, no fixed sleeps."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def delivered(demo: Demo, out_trade_no: str, count: int = 1, kind: str = "payment") -> list[dict[str, Any]]:
    """The order's `kind` notifications once `count` of them have been acknowledged by the shop."""

    def look() -> list[dict[str, Any]] | None:
        notes = [n for n in demo.notifications(out_trade_no) if n["kind"] == kind]
        done = [n for n in notes if n["status"] == "delivered"]
        return notes if len(done) >= count else None

    return wait_until(look, f"{count} {kind} notification(s) of {out_trade_no} acknowledged")


def docs_enabled() -> bool:
    return os.environ.get(DOCS_ENV) == "1"


@dataclass
class Shopper:
    """A tab of a plain desktop Chromium (no WeChat user agent: the bridge makes the JS-SDK believe it is in
    WeChat), on the demo shop."""

    page: Page
    demo: Demo
    test_name: str
    console: list[str] = field(default_factory=list)

    @property
    def shop(self) -> str:
        return self.demo.shop_url

    # -- evidence of a failure, and pictures for the README --------------------------------------------

    @contextmanager
    def evidence(self) -> Iterator[None]:
        """On failure keep test-artifacts/<test>/: page.png, console.txt, journal.json, output.txt."""
        try:
            yield
        except BaseException:
            self.keep_artifacts()
            raise

    def keep_artifacts(self) -> None:
        where = ARTIFACTS / re.sub(r"[^\w.-]+", "_", self.test_name)
        where.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(where / "page.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - the test's own failure matters more than this one
            (where / "page.txt").write_text(f"no screenshot: {exc}\n", encoding="utf-8")
        (where / "console.txt").write_text("\n".join(self.console) + "\n", encoding="utf-8")
        (where / "output.txt").write_text("\n".join(self.demo.output) + "\n", encoding="utf-8")
        try:
            journal: Any = self.demo.journal()
        except Exception as exc:  # noqa: BLE001 - the sandbox may be what failed
            journal = {"error": str(exc)}
        (where / "journal.json").write_text(json.dumps(journal, ensure_ascii=False, indent=1), encoding="utf-8")

    def screenshot_for_docs(self, name: str) -> None:
        """docs/screenshots/<name>.png, only when WECHAT_SANDBOX_DOCS=1 (normal runs leave committed files)."""
        if not docs_enabled():
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.evaluate("document.fonts.ready")
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    # -- the console -----------------------------------------------------------------------------------

    def sandbox_lines(self) -> list[str]:
        return [line for line in self.console if line.startswith("[wechat-sandbox] ")]

    def wait_console(self, needle: str) -> str:
        """The first [wechat-sandbox] console line containing `needle`, waiting for it if need be.

        (Playwright's sync API delivers console events only inside its own calls, so nothing can slip in
        between the look at `console` and `wait_for_event`.)"""
        for line in self.sandbox_lines():
            if needle in line:
                return line
        message = self.page.wait_for_event(
            "console", predicate=lambda m: m.text.startswith("[wechat-sandbox] ") and needle in m.text
        )
        return str(message.text)

    # -- what a person does ----------------------------------------------------------------------------

    def sign_in(self, user: str = "alice", *, docs: bool = False) -> str:
        """Sign in with WeChat (seed steps 4–5): the picker, the consent page if this user never agreed,
        back on the shop. Returns the user's nickname."""
        page = self.page
        page.goto(self.shop)
        page.get_by_test_id("shop-login").click()
        option = page.locator(f'[data-testid="wechat-user-option"][value="{user}"]')
        expect(option).to_be_visible()
        if docs:
            self.screenshot_for_docs("2-user-picker")
        option.click()
        allow, signed_in = page.get_by_test_id("wechat-oauth-allow"), page.get_by_test_id("shop-user")
        expect(allow.or_(signed_in)).to_be_visible()
        if allow.is_visible():
            if docs:
                self.screenshot_for_docs("3-consent")
            allow.click()
        nickname = str(self.demo.user(user)["nickname"])
        expect(signed_in).to_have_text(nickname)
        return nickname

    def buy(self, product: str = "tea") -> str:
        """From the product list to the checkout page, ready to pay; the order's out_trade_no."""
        page = self.page
        if not re.fullmatch(re.escape(self.shop) + "/?", page.url):
            page.goto(self.shop)
        page.locator(f'[data-testid="shop-product"][data-product="{product}"]').click()
        page.wait_for_url(re.compile(r"/checkout/\w+"))
        self.wait_ready()
        return out_trade_no(page.url)

    def wait_ready(self) -> None:
        expect(self.page.get_by_test_id("shop-checkout-status")).to_have_text("Ready to pay")
        expect(self.page.get_by_test_id("shop-pay")).to_be_enabled()

    def use_bridge(self) -> None:
        """The checkout page's switch to WeixinJSBridge.invoke('getBrandWCPayRequest')."""
        self.page.get_by_test_id("shop-mode-bridge").click()
        self.page.wait_for_url(re.compile(r"[?&]mode=bridge"))
        self.wait_ready()

    def open_sheet(self) -> None:
        self.page.get_by_test_id("shop-pay").click()
        expect(self.page.get_by_test_id("wechat-pay-sheet")).to_be_visible()

    def confirm(self, pin: str = PIN, outcome: str | None = None, *, docs: bool = False) -> None:
        """Type the PIN on the pay sheet (optionally pick the sandbox's outcome) and confirm."""
        page = self.page
        if outcome is not None:
            page.get_by_test_id("wechat-pay-outcome").select_option(outcome)
        page.get_by_test_id("wechat-pay-pin").fill(pin)
        if docs:
            self.screenshot_for_docs("5-pay-sheet")
        page.get_by_test_id("wechat-pay-confirm").click()

    def wait_result(self, order: str) -> None:
        self.page.wait_for_url(re.compile(rf"/result/{order}\b"))

    def pay(self, product: str = "tea") -> str:
        """Buy and pay with the PIN: the order's out_trade_no, once the result page says PAID."""
        order = self.buy(product)
        self.open_sheet()
        self.confirm()
        self.wait_result(order)
        expect(self.page.get_by_test_id("shop-order-status")).to_have_text("PAID")
        return order

    def admin_row(self, order: str) -> dict[str, str]:
        """The order's row on /admin, by column header."""
        self.page.goto(f"{self.shop}/admin")
        headers = self.page.locator("table").first.locator("th").all_text_contents()
        row = self.page.locator(f'[data-testid="shop-admin-order"][data-order="{order}"]')
        cells = row.locator("td").all_text_contents()
        return {h: c.strip() for h, c in zip(headers, cells, strict=False)}


def out_trade_no(url: str) -> str:
    found = re.search(r"/(?:checkout|result|broken/pay)/(\w+)", url)
    assert found, url
    return found.group(1)


@contextmanager
def running_demo(*options: str) -> Iterator[Demo]:
    demo = Demo(*options)
    try:
        yield demo
    finally:
        demo.stop()


def open_shopper(browser: Browser, demo: Demo, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    """A fresh browser context (no cookies) at the README's phone-sized viewport, its console recorded."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(WAIT * 1000)
    page = context.new_page()
    shopper = Shopper(page, demo, request.node.name)

    def record(message: ConsoleMessage) -> None:
        shopper.console.append(message.text)

    page.on("console", record)
    try:
        yield shopper
    finally:
        context.close()
