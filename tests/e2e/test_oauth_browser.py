"""Web authorization in a real browser: picker → consent → merchant callback, then the code exchange."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from mock_wechat.ids import openid_for
from tests.conftest import APPID, SECRET
from tests.e2e.conftest import LiveServer, Merchant

STATE = "e2eState42"
SCREENSHOT = Path("/tmp/consent.png")  # noqa: S108 - a fixed place for a person to look at


def authorize_url(sandbox: LiveServer, redirect_uri: str, scope: str = "snsapi_userinfo") -> str:
    query = urlencode(
        {"appid": APPID, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": STATE}
    )
    return f"{sandbox.url}/connect/oauth2/authorize?{query}#wechat_redirect"


def exchange(sandbox: LiveServer, code: str) -> dict[str, Any]:
    query = urlencode({"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"})
    with urllib.request.urlopen(f"{sandbox.url}/sns/oauth2/access_token?{query}", timeout=10) as resp:
        body = json.loads(resp.read())
    assert isinstance(body, dict)
    return body


def pick_first_user(page: Page, sandbox: LiveServer, merchant: Merchant) -> str:
    """Open the authorize URL, click the first user of the picker; that user's id."""
    page.goto(authorize_url(sandbox, merchant.callback))
    first = page.get_by_test_id("wechat-user-option").first
    user_id = first.get_attribute("value")
    assert user_id
    first.click()
    expect(page.get_by_test_id("wechat-oauth-allow")).to_be_visible()
    return user_id


def landed_on_callback(page: Page, merchant: Merchant) -> dict[str, str]:
    """Wait for the browser to reach the merchant's callback; the query it received."""
    page.wait_for_url(re.compile(re.escape(merchant.callback) + r"\?"))
    expect(page.get_by_test_id("merchant-callback")).to_be_visible()
    assert len(merchant.received) == 1
    return merchant.received[0]


def test_allow_lands_on_the_merchant_with_a_code_that_exchanges_for_the_openid(
    page: Page, sandbox_server: LiveServer, merchant: Merchant
) -> None:
    user_id = pick_first_user(page, sandbox_server, merchant)
    page.get_by_test_id("wechat-oauth-allow").click()
    received = landed_on_callback(page, merchant)
    assert set(received) == {"code", "state"}
    assert received["state"] == STATE
    body = exchange(sandbox_server, received["code"])
    assert body["openid"] == openid_for(APPID, user_id)
    assert body["scope"] == "snsapi_userinfo"


def test_deny_lands_on_the_merchant_with_state_only(page: Page, sandbox_server: LiveServer, merchant: Merchant) -> None:
    pick_first_user(page, sandbox_server, merchant)
    page.get_by_test_id("wechat-oauth-deny").click()
    assert landed_on_callback(page, merchant) == {"state": STATE}


def test_consent_page_screenshot(page: Page, sandbox_server: LiveServer, merchant: Merchant) -> None:
    pick_first_user(page, sandbox_server, merchant)
    expect(page).to_have_title("微信网页授权")
    expect(page.get_by_test_id("wechat-oauth-deny")).to_be_visible()
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
