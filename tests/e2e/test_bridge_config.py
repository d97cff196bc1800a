"""Issue 4, item 4 in headless Chromium with the official JS-SDK (npm weixin-js-sdk): how the sandbox verifies
`wx.config` (appId, JS-safe domain, SHA1 signature against the current or previous jsapi_ticket, missing fields)
and refuses APIs called before config passed or left out of `jsApiList` (PROTOCOL.md §4, CLIENTS.md §C.3–C.6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote

import pytest

from mock_wechat.masking import mask
from sandbox import defaults
from tests.conftest import make_config
from tests.e2e.bridge_kit import (
    RECORD_CONFIG,
    advance_clock,
    callbacks,
    config_js,
    journal,
    journal_notes,
    open_page,
    running,
    sandbox_lines,
    sha1_sign,
    wait_console,
    wait_log,
)
from tests.e2e.conftest import LiveServer
from tests.e2e.shop import Sandbox, Shop, WeChatPage, page_html

INVOKE = "/_sandbox/bridge/invoke"


def serve(shop: Shop, sandbox_url: str, path: str, script: str, sdk: str = "official") -> str:
    shop.pages[path] = page_html(sandbox_url, sdk, script)
    return f"{shop.url}{path}"


def config_result(phone: WeChatPage) -> list[str]:
    """window.log once wx.ready ran (after wx.error, if config failed)."""
    page = phone.page
    page.wait_for_function("window.log.indexOf('ready') !== -1")
    return list(page.evaluate("window.log"))


# -- a correct signature -----------------------------------------------------------------------------


def test_correct_signature_runs_ready_without_error(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/ok?from=menu"
    open_page(
        phone, serve(shop, sandbox_server.url, "/config/ok", wechat.wx_config(url) + RECORD_CONFIG) + "?from=menu"
    )
    assert config_result(phone) == ["ready"]
    assert sandbox_lines(phone.page) == []
    assert f"preVerifyJSAPI from {url}" in journal_notes(sandbox_server.url, INVOKE)


# -- unknown appId -----------------------------------------------------------------------------------


def test_unknown_appid_fails_with_40013(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    script = config_js("0" * 40, appid="wx00000000deadbeef") + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/config/appid", script))
    assert config_result(phone) == ["error:config:fail,Error: 系统错误，错误码：40013,invalid appid", "ready"]
    lines = wait_console(page, "wx00000000deadbeef")
    assert any("wx.config appId 'wx00000000deadbeef' is not a configured Official Account" in m for m in lines), lines


# -- JS-safe domains ---------------------------------------------------------------------------------


@pytest.fixture
def strict_domains() -> Iterator[LiveServer]:
    """A sandbox whose account's only JS-safe domain is shop.example.com (loopback not trusted)."""
    account = replace(defaults.default_account(), js_domains=("shop.example.com",), trust_loopback=False)
    other = make_config().accounts[1]
    with running(make_config(accounts=(account, other))) as server:
        yield server


def test_page_outside_the_js_domains_is_invalid_url_domain(
    strict_domains: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    wechat = Sandbox(strict_domains.url)
    url = f"{shop.url}/config/domain"
    page = open_page(phone, serve(shop, strict_domains.url, "/config/domain", wechat.wx_config(url) + RECORD_CONFIG))
    assert config_result(phone) == ["error:config:invalid url domain", "ready"]
    wait_console(page, "JS-safe domains")
    (line,) = [m for m in sandbox_lines(page) if "JS-safe domains" in m]
    assert url in line
    assert f"127.0.0.1:{shop.server.port}" in line
    assert "shop.example.com" in line
    assert "(and loopback)" not in line
    assert any("JS-safe domains" in note for note in journal_notes(strict_domains.url, INVOKE))


# -- signatures --------------------------------------------------------------------------------------


def test_wrong_signature_shows_url_and_string_to_sign_with_the_ticket_masked(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    wechat = Sandbox(sandbox_server.url)
    ticket = wechat.ticket()
    url = f"{shop.url}/config/signature?order=42"
    script = config_js("0123456789abcdef0123456789abcdef01234567") + RECORD_CONFIG
    shop.pages["/config/signature"] = page_html(sandbox_server.url, "official", script)
    page = open_page(phone, url)
    assert config_result(phone) == ["error:config:invalid signature", "ready"]
    lines = wait_console(page, "does not verify")
    (line,) = [m for m in sandbox_lines(page) if "does not verify" in m]
    assert f"The sandbox used the URL '{url}'" in line
    assert f"jsapi_ticket={mask(ticket)}&noncestr=noncexyz&timestamp=1700000000&url={url}" in line
    assert sha1_sign(ticket, url) in line  # the signature it expected
    assert all(ticket not in m for m in lines)
    assert all(ticket not in m for m in phone.console)
    assert ticket not in json.dumps(journal(sandbox_server.url), ensure_ascii=False)


def test_signature_over_the_url_with_its_fragment_is_named(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/fragment?x=1"
    href = url + "#/cart/checkout"
    script = config_js(sha1_sign(wechat.ticket(), href)) + RECORD_CONFIG
    shop.pages["/config/fragment"] = page_html(sandbox_server.url, "official", script)
    page = open_page(phone, href)
    assert config_result(phone) == ["error:config:invalid signature", "ready"]
    lines = wait_console(page, "#fragment")
    assert any(f"The sandbox used the URL '{url}'" in m for m in lines), lines
    assert any("It was signed with the #fragment in the URL: sign location.href.split('#')[0]" in m for m in lines)


def test_signature_over_the_encoded_url_is_named(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/encoded?x=1&y=2"
    script = config_js(sha1_sign(wechat.ticket(), quote(url, safe=""))) + RECORD_CONFIG
    shop.pages["/config/encoded"] = page_html(sandbox_server.url, "official", script)
    page = open_page(phone, url)
    assert config_result(phone) == ["error:config:invalid signature", "ready"]
    lines = wait_console(page, "URL-encoded")
    assert any("It was signed with an URL-encoded URL: sign the URL as it is, not encoded." in m for m in lines)


def test_signature_with_an_expired_ticket_is_named(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    old = wechat.ticket()
    advance_clock(sandbox_server.url, 7200 + 60)
    new = wechat.ticket()
    assert new != old
    url = f"{shop.url}/config/expired"
    script = config_js(sha1_sign(old, url)) + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/config/expired", script))
    assert config_result(phone) == ["error:config:invalid signature", "ready"]
    lines = wait_console(page, "expired jsapi_ticket")
    assert any(f"It was signed with the expired jsapi_ticket {mask(old)}" in m for m in lines), lines
    assert any(f"jsapi_ticket={mask(new)}&" in m for m in lines), lines  # the string it expected uses the new one
    assert all(old not in m and new not in m for m in phone.console)


@pytest.mark.parametrize("which", ["previous", "current"])
def test_previous_ticket_still_verifies_during_its_grace_period(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, which: str
) -> None:
    """getticket hands out a new ticket in the last 5 minutes of the old one; pages signed with either pass."""
    wechat = Sandbox(sandbox_server.url)
    previous = wechat.ticket()
    advance_clock(sandbox_server.url, 7200 - 120)
    current = wechat.ticket()
    assert current != previous
    url = f"{shop.url}/config/grace"
    ticket = previous if which == "previous" else current
    script = config_js(sha1_sign(ticket, url)) + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/config/grace", script))
    assert config_result(phone) == ["ready"]
    assert sandbox_lines(page) == []


def test_previous_ticket_fails_once_it_expired(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage) -> None:
    wechat = Sandbox(sandbox_server.url)
    previous = wechat.ticket()
    advance_clock(sandbox_server.url, 7200 - 120)
    wechat.ticket()
    advance_clock(sandbox_server.url, 121)  # the previous one is now past its 7200 s
    url = f"{shop.url}/config/grace-over"
    script = config_js(sha1_sign(previous, url)) + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/config/grace-over", script))
    assert config_result(phone) == ["error:config:invalid signature", "ready"]
    wait_console(page, f"expired jsapi_ticket {mask(previous)}")


# -- missing fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["nonceStr", "signature", "jsApiList"])
def test_missing_field_is_config_fail(sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, field: str) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/config/missing"
    script = config_js(sha1_sign(wechat.ticket(), url), drop=(field,)) + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/config/missing", script))
    assert config_result(phone) == ["error:config:fail", "ready"]
    lines = wait_console(page, "wx.config is missing")
    assert any(f"wx.config is missing {field}: WeChat answers config:fail" in m for m in lines), lines


# -- permissions -------------------------------------------------------------------------------------

SHARE = "wx.updateAppMessageShareData({title: 't', desc: 'd', link: location.href, imgUrl: '', %s});"


@pytest.mark.parametrize("sdk", ["official", "sandbox"])
def test_api_called_outside_wx_ready_is_offline_verifying(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """The classic: the API is called right after wx.config instead of inside wx.ready."""
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/perm/early"
    script = wechat.wx_config(url) + SHARE % callbacks("share") + RECORD_CONFIG
    page = open_page(phone, serve(shop, sandbox_server.url, "/perm/early", script, sdk))
    log = wait_log(page, 2)
    assert "share fail:updateAppMessageShareData:fail, the permission value is offline verifying" in log
    assert "ready" in log
    assert "error" not in " ".join(log)  # the config itself passed
    lines = wait_console(page, "still being verified")
    assert any("call it inside wx.ready" in m for m in lines), lines


@pytest.mark.parametrize("sdk", ["official", "sandbox"])
def test_api_after_a_failed_config_is_offline_verifying(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """wx.ready runs after a failed wx.config too; the APIs called there are refused."""
    script = config_js("f" * 40) + "wx.ready(function () {" + SHARE % callbacks("share") + "});"
    page = open_page(phone, serve(shop, sandbox_server.url, "/perm/failed", script, sdk))
    assert wait_log(page, 1) == ["share fail:updateAppMessageShareData:fail, the permission value is offline verifying"]
    wait_console(page, "wx.config failed on this page")


@pytest.mark.parametrize("sdk", ["official", "sandbox"])
def test_api_without_wx_config_is_offline_verifying(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    script = "document.addEventListener('WeixinJSBridgeReady', function () {" + SHARE % callbacks("share") + "});"
    page = open_page(phone, serve(shop, sandbox_server.url, "/perm/none", script, sdk))
    assert wait_log(page, 1) == ["share fail:updateAppMessageShareData:fail, the permission value is offline verifying"]
    wait_console(page, "wx.config was never called on this page")


@pytest.mark.parametrize("sdk", ["official", "sandbox"])
def test_api_not_in_js_api_list_is_permission_denied(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/perm/list"
    script = wechat.wx_config(url, jsapis=["chooseWXPay", "getLocation"]) + (
        "wx.ready(function () {" + SHARE % callbacks("share") + "});"
    )
    page = open_page(phone, serve(shop, sandbox_server.url, "/perm/list", script, sdk))
    assert wait_log(page, 1) == ["share fail:updateAppMessageShareData:permission denied"]
    lines = wait_console(page, "is not in the jsApiList")
    assert any(
        "updateAppMessageShareData is not in the jsApiList of wx.config (chooseWXPay, getLocation)" in m for m in lines
    ), lines


@pytest.mark.parametrize("sdk", ["official", "sandbox"])
def test_api_in_js_api_list_after_ready_is_ok(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    wechat = Sandbox(sandbox_server.url)
    url = f"{shop.url}/perm/ok"
    script = wechat.wx_config(url) + "wx.ready(function () {" + SHARE % callbacks("share") + "});"
    page = open_page(phone, serve(shop, sandbox_server.url, "/perm/ok", script, sdk))
    assert wait_log(page, 1) == ["share success:updateAppMessageShareData:ok"]


# -- the raw bridge ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", ["raw", "official"])
def test_raw_get_brand_wcpay_request_needs_no_wx_config(
    sandbox_server: LiveServer, shop: Shop, phone: WeChatPage, sdk: str
) -> None:
    """wechatpy's default get_jsapi_params (jssdk=False) goes to WeixinJSBridge.invoke directly."""
    wechat = Sandbox(sandbox_server.url)
    prepay_id = wechat.order(f"RAW-{sdk}", shop.notify_url)
    params = wechat.jsapi_params(prepay_id, jssdk=False)
    script = (
        "WeixinJSBridge.invoke('getBrandWCPayRequest', " + json.dumps(params) + ","
        " function (r) { log.push(r.err_msg); });"
    )
    page = open_page(phone, serve(shop, sandbox_server.url, "/raw/pay", script, sdk))
    page.get_by_test_id("wechat-pay-pin").fill("123456")
    page.get_by_test_id("wechat-pay-confirm").click()
    assert wait_log(page, 1) == ["get_brand_wcpay_request:ok"]
    assert wechat.order_state(f"RAW-{sdk}") == "SUCCESS"
    assert sandbox_lines(page) == []
