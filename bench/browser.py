"""Browser rows of `make bench`: one whole payment through the demo shop in a warm browser, and 20 at once.

The steps are the demo shop's (tests/e2e/demo.py's Shopper, with Playwright's async API): sign in with WeChat,
buy, the pay sheet, the PIN, the result page saying PAID."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

from sandbox import playwright as helpers

ROOT = Path(__file__).resolve().parent.parent
PIN = "123456"
PARALLEL = 20
WARM_RUNS = 5


async def signed_in(browser: Browser, shop: str, user: str) -> Page:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = await context.new_page()
    await page.goto(shop)
    await page.get_by_test_id("shop-login").click()
    await page.locator(f'[data-testid="wechat-user-option"][value="{user}"]').click()
    allow, done = page.get_by_test_id("wechat-oauth-allow"), page.get_by_test_id("shop-user")
    await expect(allow.or_(done)).to_be_visible()
    if await allow.is_visible():
        await allow.click()
    await expect(done).to_be_visible()
    return page


async def pay(page: Page, shop: str) -> float:
    """Buy and pay: the seconds from the product click to the result page saying PAID."""
    await page.goto(shop)
    began = time.perf_counter()
    await page.locator('[data-testid="shop-product"][data-product="tea"]').click()
    await page.wait_for_url(re.compile(r"/checkout/\w+"))
    await expect(page.get_by_test_id("shop-pay")).to_be_enabled()
    await page.get_by_test_id("shop-pay").click()
    await page.get_by_test_id("wechat-pay-pin").fill(PIN)
    await page.get_by_test_id("wechat-pay-confirm").click()
    await page.wait_for_url(re.compile(r"/result/\w+"))
    await expect(page.get_by_test_id("shop-order-status")).to_have_text("PAID")
    return time.perf_counter() - began


async def measure(shop: str) -> tuple[float, float]:
    """(median of a warm browser's single payments, the wall time of 20 payments in 20 contexts at once)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(headless=True, **helpers.launch_options())
        page = await signed_in(browser, shop, "alice")
        await pay(page, shop)  # warm: the browser, the shop's pages, the sandbox's caches
        single = statistics.median([await pay(page, shop) for _ in range(WARM_RUNS)])
        users = ["alice", "bob", "carol"]
        pages = await asyncio.gather(*(signed_in(browser, shop, users[n % 3]) for n in range(PARALLEL)))
        began = time.perf_counter()
        await asyncio.gather(*(pay(p, shop) for p in pages))
        parallel = time.perf_counter() - began
        await browser.close()
    return single, parallel


def run() -> tuple[float, float]:
    """`wechat-sandbox up` in memory, then the two measurements."""
    command = [sys.executable, "-m", "sandbox", "up", "--port", "0", "--shop-port", "0", "--in-memory", "--seed", "1"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    shop = ""
    for line in proc.stdout:
        if line.startswith("Demo shop listening on "):
            shop = line.removeprefix("Demo shop listening on ").strip()
            break
    try:
        return asyncio.run(measure(shop))
    finally:
        proc.terminate()
        proc.wait(10)
