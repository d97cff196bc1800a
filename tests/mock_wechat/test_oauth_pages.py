"""open.weixin.qq.com `/connect/oauth2/authorize` on the wire: picker, consent, redirect and error pages."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from yarl import URL

import mock_wechat
from mock_wechat import errors
from mock_wechat.clock import ManualClock
from mock_wechat.config import Account, AccountKind, WeChatConfig
from mock_wechat.ids import Ids, openid_for
from mock_wechat.keys import Exchange
from mock_wechat.store import SQLiteStore
from mock_wechat.surfaces import oauth
from tests.conftest import APPID, OTHER_APPID, SECRET, ClientFactory, make_config

Client = TestClient[web.Request, web.Application]
AppClientFactory = Callable[..., Awaitable[Client]]

AUTHORIZE = "/connect/oauth2/authorize"
CALLBACK = "http://127.0.0.1:8000/oauth/callback"
SHOP_APPID = "wx00000000000000b1"
SHOP_SECRET = "b" * 32


# -- reading pages -------------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class _TestIds(HTMLParser):
    """Every element carrying `data-testid`, with its attributes and its text content."""

    found: list[Element] = field(default_factory=list)
    _open: list[tuple[str, Element | None]] = field(default_factory=list)

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> Element | None:
        values = {k: v or "" for k, v in attrs}
        if "data-testid" not in values:
            return None
        element = Element(tag, values)
        self.found.append(element)
        return element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = self._element(tag, attrs)
        if tag not in self.VOID:
            self._open.append((tag, element))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for _, element in self._open:
            if element is not None:
                element.text += data


def by_testid(html: str, testid: str) -> list[Element]:
    parser = _TestIds()
    parser.feed(html)
    parser.close()
    return [e for e in parser.found if e.attrs["data-testid"] == testid]


def one(html: str, testid: str) -> Element:
    found = by_testid(html, testid)
    assert len(found) == 1, (testid, found, html)
    return found[0]


def text_of(html: str, testid: str) -> str:
    return " ".join(one(html, testid).text.split())


async def page_of(resp: ClientResponse, status: int = 200) -> str:
    assert resp.status == status, resp.status
    assert resp.content_type == "text/html"
    return await resp.text()


async def error_page(resp: ClientResponse, code: int | None, text: str, status: int = 200) -> str:
    """Assert WeChat's error page with `code` (None: no code shown) and `text`; its diagnostic."""
    html = await page_of(resp, status)
    assert text_of(html, "wechat-error-text") == text
    if code is None:
        assert by_testid(html, "wechat-error-code") == []
    else:
        assert text_of(html, "wechat-error-code") == str(code)
    return text_of(html, "wechat-sandbox-diagnostic")


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


# -- driving the pages ---------------------------------------------------------------------------------


def authorize_params(
    scope: str = "snsapi_base", redirect_uri: str = CALLBACK, appid: str = APPID, **extra: str
) -> dict[str, str]:
    return {
        "appid": appid,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": scope,
        "state": "st4te",
        **extra,
    }


def next_of(params: Mapping[str, str]) -> str:
    return f"{AUTHORIZE}?{urlencode(params)}"


async def authorize(
    client: Client, params: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> ClientResponse:
    return await client.get(AUTHORIZE, params=params, headers=headers or {}, allow_redirects=False)


async def choose(client: Client, user: str, params: Mapping[str, str]) -> ClientResponse:
    return await client.post(
        "/_sandbox/oauth/user", data={"user": user, "next": next_of(params)}, allow_redirects=False
    )


async def decide(client: Client, decision: str, params: Mapping[str, str]) -> ClientResponse:
    return await client.post(
        "/_sandbox/oauth/consent", data={"decision": decision, "next": next_of(params)}, allow_redirects=False
    )


def code_redirect(resp: ClientResponse, redirect_uri: str = CALLBACK) -> str:
    """Assert a 302 to redirect_uri with a code and the state; the code."""
    assert resp.status == 302, resp.status
    location = resp.headers["Location"]
    assert location.startswith(redirect_uri + "?"), location
    query = query_of(location)
    assert set(query) == {"code", "state"}, location
    assert query["state"] == ["st4te"]
    return query["code"][0]


async def exchange(client: Client, code: str, appid: str = APPID, secret: str = SECRET) -> dict[str, Any]:
    resp = await client.get(
        "/sns/oauth2/access_token",
        params={"appid": appid, "secret": secret, "code": code, "grant_type": "authorization_code"},
    )
    body = await resp.json()
    assert isinstance(body, dict)
    return body


def shop_account(**overrides: Any) -> Account:
    values: dict[str, Any] = {
        "appid": SHOP_APPID,
        "secret": SHOP_SECRET,
        "name": "Shop",
        "oauth_domains": ("shop.example.com",),
        "trust_loopback": False,
    }
    values.update(overrides)
    return Account(**values)


@pytest.fixture
def app_client(aiohttp_client: ClientFactory) -> AppClientFactory:
    """A client of mock_wechat built from another config (and observers)."""

    async def build(config: WeChatConfig, observers: list[Callable[[Exchange], None]] | None = None) -> Client:
        app = mock_wechat.create_app(
            config, store=SQLiteStore.in_memory(), clock=ManualClock(), ids=Ids(7), observers=observers or []
        )
        return await aiohttp_client(app)

    return build


async def shop_client(app_client: AppClientFactory, **overrides: Any) -> Client:
    return await app_client(make_config(accounts=(shop_account(**overrides),)))


# -- the user picker -----------------------------------------------------------------------------------


async def test_without_a_user_the_picker_lists_every_user(client: Client) -> None:
    html = await page_of(await authorize(client, authorize_params()))
    options = by_testid(html, "wechat-user-option")
    assert sorted(o.attrs["value"] for o in options) == ["alice", "bob", "snap"]
    assert all(o.tag == "button" and o.attrs["name"] == "user" for o in options)
    texts = " ".join(o.text for o in options)
    assert "爱丽丝" in texts
    assert "快照用户" in texts


async def test_picker_escapes_nicknames(client: Client) -> None:
    html = await page_of(await authorize(client, authorize_params()))
    assert "Bob &lt;b&gt;&amp;" in html
    assert "<b>" not in html
    options = {o.attrs["value"]: o for o in by_testid(html, "wechat-user-option")}
    assert "Bob <b>&" in options["bob"].text


async def test_picker_form_returns_to_this_authorize_url(client: Client) -> None:
    params = authorize_params()
    html = await page_of(await authorize(client, params))
    match = re.search(r'<input type="hidden" name="next" value="([^"]*)">', html)
    assert match is not None
    target = urlsplit(unescape(match[1]))
    assert (target.scheme, target.netloc, target.path) == ("", "", AUTHORIZE)
    assert {k: v[0] for k, v in parse_qs(target.query).items()} == params


async def test_choosing_a_user_sets_the_cookie_and_303s_back_to_next(client: Client) -> None:
    params = authorize_params()
    resp = await choose(client, "alice", params)
    assert resp.status == 303
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", AUTHORIZE)
    assert {k: v[0] for k, v in parse_qs(location.query).items()} == params
    cookie = resp.cookies["wxsandbox_user"]
    assert cookie.value == "alice"
    assert cookie["path"] == "/"
    assert cookie["httponly"]


async def test_choosing_an_unknown_user_is_refused(client: Client) -> None:
    resp = await choose(client, "mallory", authorize_params())
    diagnostic = await error_page(resp, None, "该链接无法访问")
    assert "mallory" in diagnostic
    assert "wxsandbox_user" not in resp.cookies


async def test_the_cookie_then_selects_the_user(client: Client) -> None:
    params = authorize_params()
    await choose(client, "bob", params)
    code = code_redirect(await authorize(client, params))
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "bob")


async def test_the_user_header_selects_the_user(client: Client) -> None:
    resp = await authorize(client, authorize_params(), {"X-WeChat-Sandbox-User": "alice"})
    code = code_redirect(resp)
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "alice")


async def test_the_user_header_wins_over_the_cookie(client: Client) -> None:
    params = authorize_params()
    await choose(client, "bob", params)
    code = code_redirect(await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"}))
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "alice")


async def test_unknown_user_header_is_an_error_page_with_diagnostic(client: Client) -> None:
    resp = await authorize(client, authorize_params(), {"X-WeChat-Sandbox-User": "mallory"})
    diagnostic = await error_page(resp, None, "该链接无法访问")
    assert "X-WeChat-Sandbox-User" in diagnostic
    assert "'mallory'" in diagnostic
    assert "alice" in diagnostic
    assert "bob" in diagnostic


async def test_a_cookie_naming_an_unknown_user_shows_the_picker(client: Client) -> None:
    client.session.cookie_jar.update_cookies({"wxsandbox_user": "mallory"})
    html = await page_of(await authorize(client, authorize_params()))
    assert len(by_testid(html, "wechat-user-option")) == 3


async def test_auto_user_skips_the_picker(app_client: AppClientFactory) -> None:
    client = await app_client(make_config(auto_user="alice"))
    code = code_redirect(await authorize(client, authorize_params()))
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "alice")


async def test_the_user_header_wins_over_auto_user(app_client: AppClientFactory) -> None:
    client = await app_client(make_config(auto_user="alice"))
    code = code_redirect(await authorize(client, authorize_params(), {"X-WeChat-Sandbox-User": "bob"}))
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "bob")


async def test_auto_user_naming_an_unknown_user_is_an_error_page(app_client: AppClientFactory) -> None:
    client = await app_client(make_config(auto_user="mallory"))
    diagnostic = await error_page(await authorize(client, authorize_params()), None, "该链接无法访问")
    assert "--auto-user" in diagnostic
    assert "'mallory'" in diagnostic


async def test_consent_page_switch_link_returns_to_the_picker(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    html = await page_of(await authorize(client, params))
    link = one(html, "wechat-switch-user").attrs["href"]
    assert urlsplit(link).path == "/_sandbox/oauth/switch"
    resp = await client.get(link, allow_redirects=False)
    assert resp.status == 303
    target = urlsplit(resp.headers["Location"])
    assert target.path == AUTHORIZE
    assert {k: v[0] for k, v in parse_qs(target.query).items()} == params
    html = await page_of(await authorize(client, params))
    assert len(by_testid(html, "wechat-user-option")) == 3


async def test_switch_user_clears_the_cookie_and_returns_to_next(client: Client) -> None:
    params = authorize_params()
    await choose(client, "alice", params)
    resp = await client.get("/_sandbox/oauth/switch", params={"next": next_of(params)}, allow_redirects=False)
    assert resp.status == 303
    assert urlsplit(resp.headers["Location"]).path == AUTHORIZE
    html = await page_of(await authorize(client, params))
    assert len(by_testid(html, "wechat-user-option")) == 3


# -- snsapi_base: silent redirect ----------------------------------------------------------------------


async def test_snsapi_base_redirects_302_with_code_and_state(client: Client) -> None:
    resp = await authorize(client, authorize_params(), {"X-WeChat-Sandbox-User": "alice"})
    code = code_redirect(resp)
    assert len(code) == 32
    assert resp.headers["Cache-Control"] == "no-store"


async def test_redirect_uri_with_a_query_gets_ampersand_code(client: Client) -> None:
    redirect_uri = CALLBACK + "?from=menu&id=7"
    resp = await authorize(client, authorize_params(redirect_uri=redirect_uri), {"X-WeChat-Sandbox-User": "alice"})
    assert resp.status == 302
    location = resp.headers["Location"]
    assert location.startswith(redirect_uri + "&code=")
    query = query_of(location)
    assert query["from"] == ["menu"]
    assert query["id"] == ["7"]
    assert query["state"] == ["st4te"]


async def test_redirect_uri_with_a_fragment_gets_the_query_before_it(client: Client) -> None:
    redirect_uri = "http://127.0.0.1:8000/app/#/orders/1"
    resp = await authorize(client, authorize_params(redirect_uri=redirect_uri), {"X-WeChat-Sandbox-User": "alice"})
    assert resp.status == 302
    location = urlsplit(resp.headers["Location"])
    assert location.path == "/app/"
    assert location.fragment == "/orders/1"
    assert set(parse_qs(location.query)) == {"code", "state"}


async def test_empty_state_is_passed_back_empty(client: Client) -> None:
    params = authorize_params(state="")
    resp = await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"})
    assert query_of(resp.headers["Location"])["state"] == [""]


async def test_codes_differ_each_time(client: Client) -> None:
    headers = {"X-WeChat-Sandbox-User": "alice"}
    first = code_redirect(await authorize(client, authorize_params(), headers))
    second = code_redirect(await authorize(client, authorize_params(), headers))
    assert first != second


async def test_a_code_from_the_pages_exchanges_for_the_users_openid(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    html = await page_of(await authorize(client, params))
    one(html, "wechat-oauth-allow")
    code = code_redirect(await decide(client, "allow", params))
    body = await exchange(client, code)
    assert body["openid"] == openid_for(APPID, "alice")
    assert body["scope"] == "snsapi_userinfo"


async def test_a_code_for_another_account_carries_that_accounts_openid(client: Client) -> None:
    resp = await authorize(client, authorize_params(appid=OTHER_APPID), {"X-WeChat-Sandbox-User": "alice"})
    body = await exchange(client, code_redirect(resp), OTHER_APPID, "0" * 32)
    assert body["openid"] == openid_for(OTHER_APPID, "alice")
    assert body["openid"] != openid_for(APPID, "alice")


# -- snsapi_userinfo: consent --------------------------------------------------------------------------


async def test_snsapi_userinfo_shows_the_consent_page(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    html = await page_of(await authorize(client, params, {"X-WeChat-Sandbox-User": "bob"}))
    allow, deny = one(html, "wechat-oauth-allow"), one(html, "wechat-oauth-deny")
    assert (allow.attrs["name"], allow.attrs["value"], allow.text) == ("decision", "allow", "允许")
    assert (deny.attrs["name"], deny.attrs["value"], deny.text) == ("decision", "deny", "拒绝")
    assert "沙箱小店 Sandbox Shop" in html
    assert "Bob &lt;b&gt;&amp;" in html
    assert "<b>" not in html


async def test_consent_header_allow_redirects_with_code(client: Client) -> None:
    headers = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "allow"}
    resp = await authorize(client, authorize_params(scope="snsapi_userinfo"), headers)
    code = code_redirect(resp)
    assert (await exchange(client, code))["scope"] == "snsapi_userinfo"


async def test_consent_header_deny_redirects_with_state_only(client: Client) -> None:
    headers = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "deny"}
    resp = await authorize(client, authorize_params(scope="snsapi_userinfo"), headers)
    assert resp.status == 302
    location = resp.headers["Location"]
    assert location == CALLBACK + "?state=st4te"


async def test_consent_header_is_case_insensitive(client: Client) -> None:
    headers = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "ALLOW"}
    code_redirect(await authorize(client, authorize_params(scope="snsapi_userinfo"), headers))


async def test_consent_header_with_another_value_is_an_error_page(client: Client) -> None:
    headers = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "maybe"}
    resp = await authorize(client, authorize_params(scope="snsapi_userinfo"), headers)
    assert "'maybe'" in await error_page(resp, None, "该链接无法访问")


async def test_consent_is_remembered_for_the_same_user_and_account(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    alice = {"X-WeChat-Sandbox-User": "alice"}
    code_redirect(await authorize(client, params, {**alice, "X-WeChat-Sandbox-Consent": "allow"}))
    code_redirect(await authorize(client, params, alice))


async def test_consent_is_not_shared_with_another_user(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    code_redirect(
        await authorize(client, params, {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "allow"})
    )
    html = await page_of(await authorize(client, params, {"X-WeChat-Sandbox-User": "bob"}))
    one(html, "wechat-oauth-allow")


async def test_consent_is_not_shared_with_another_account(client: Client) -> None:
    alice = {"X-WeChat-Sandbox-User": "alice"}
    code_redirect(
        await authorize(
            client, authorize_params(scope="snsapi_userinfo"), {**alice, "X-WeChat-Sandbox-Consent": "allow"}
        )
    )
    html = await page_of(await authorize(client, authorize_params(scope="snsapi_userinfo", appid=OTHER_APPID), alice))
    one(html, "wechat-oauth-allow")


async def test_force_popup_shows_the_consent_page_again(client: Client) -> None:
    alice = {"X-WeChat-Sandbox-User": "alice"}
    code_redirect(
        await authorize(
            client, authorize_params(scope="snsapi_userinfo"), {**alice, "X-WeChat-Sandbox-Consent": "allow"}
        )
    )
    html = await page_of(await authorize(client, authorize_params(scope="snsapi_userinfo", forcePopup="true"), alice))
    one(html, "wechat-oauth-allow")


async def test_deny_is_not_remembered(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await authorize(client, params, {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "deny"})
    html = await page_of(await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"}))
    one(html, "wechat-oauth-allow")


async def test_consent_form_allow_redirects_with_code_and_remembers(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    code = code_redirect(await decide(client, "allow", params))
    assert (await exchange(client, code))["openid"] == openid_for(APPID, "alice")
    code_redirect(await authorize(client, params))


async def test_consent_form_deny_redirects_with_state_only(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    resp = await decide(client, "deny", params)
    assert resp.status == 302
    assert resp.headers["Location"] == CALLBACK + "?state=st4te"


async def test_consent_form_with_another_decision_is_refused(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    resp = await decide(client, "sure", params)
    assert "'sure'" in await error_page(resp, None, "该链接无法访问")


async def test_consent_form_without_a_user_is_refused(client: Client) -> None:
    resp = await decide(client, "allow", authorize_params(scope="snsapi_userinfo"))
    assert "no sandbox user chosen" in await error_page(resp, None, "该链接无法访问")


async def test_consent_form_revalidates_the_authorize_url(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo", redirect_uri="https://evil.example.com/cb")
    await choose(client, "alice", authorize_params())
    resp = await decide(client, "allow", params)
    await error_page(resp, 10003, "redirect_uri域名与后台配置不一致")
    assert "Location" not in resp.headers


# -- no open redirect, no cross-site posts -------------------------------------------------------------

FOREIGN_NEXT = [
    "http://evil.example.com/connect/oauth2/authorize?appid=x",
    "//evil.example.com/connect/oauth2/authorize?appid=x",
    "http:/connect/oauth2/authorize?appid=x",
    "javascript:/connect/oauth2/authorize",
    "https://evil.example.com/",
    "/_sandbox/api/config",
    "/connect/oauth2/authorize/../../_sandbox/api/config",
    "",
]


@pytest.mark.parametrize("target", FOREIGN_NEXT)
async def test_picker_refuses_a_next_pointing_elsewhere(client: Client, target: str) -> None:
    resp = await client.post("/_sandbox/oauth/user", data={"user": "alice", "next": target}, allow_redirects=False)
    assert "next must be /connect/oauth2/authorize" in await error_page(resp, None, "该链接无法访问")
    assert "Location" not in resp.headers
    assert "wxsandbox_user" not in resp.cookies


@pytest.mark.parametrize("target", FOREIGN_NEXT)
async def test_consent_form_refuses_a_next_pointing_elsewhere(client: Client, target: str) -> None:
    await choose(client, "alice", authorize_params())
    resp = await client.post(
        "/_sandbox/oauth/consent", data={"decision": "allow", "next": target}, allow_redirects=False
    )
    await error_page(resp, None, "该链接无法访问")
    assert "Location" not in resp.headers


@pytest.mark.parametrize("target", FOREIGN_NEXT)
async def test_switch_user_refuses_a_next_pointing_elsewhere(client: Client, target: str) -> None:
    resp = await client.get("/_sandbox/oauth/switch", params={"next": target}, allow_redirects=False)
    await error_page(resp, None, "该链接无法访问")
    assert "Location" not in resp.headers


EVIL_ORIGIN = "http://evil.example.com"


async def test_picker_post_from_a_foreign_origin_is_refused(client: Client) -> None:
    resp = await client.post(
        "/_sandbox/oauth/user",
        data={"user": "alice", "next": next_of(authorize_params())},
        headers={"Origin": "http://evil.example.com"},
        allow_redirects=False,
    )
    diagnostic = await error_page(resp, None, "该链接无法访问", status=403)
    assert diagnostic.startswith(f"wechat-sandbox: a page from {EVIL_ORIGIN} may not POST /_sandbox/oauth/user")
    assert "wxsandbox_user" not in resp.cookies


async def test_picker_post_from_a_sandboxed_frame_is_refused(client: Client) -> None:
    resp = await client.post(
        "/_sandbox/oauth/user",
        data={"user": "alice", "next": next_of(authorize_params())},
        headers={"Origin": "null"},
        allow_redirects=False,
    )
    diagnostic = await error_page(resp, None, "该链接无法访问", status=403)
    assert diagnostic.startswith(
        "wechat-sandbox: Origin null (a sandboxed frame or a file page) may not POST /_sandbox"
    )
    assert "wxsandbox_user" not in resp.cookies


async def test_consent_post_from_a_foreign_origin_is_refused(client: Client) -> None:
    params = authorize_params(scope="snsapi_userinfo")
    await choose(client, "alice", params)
    resp = await client.post(
        "/_sandbox/oauth/consent",
        data={"decision": "allow", "next": next_of(params)},
        headers={"Origin": "http://evil.example.com"},
        allow_redirects=False,
    )
    diagnostic = await error_page(resp, None, "该链接无法访问", status=403)
    assert diagnostic.startswith(f"wechat-sandbox: a page from {EVIL_ORIGIN} may not POST /_sandbox/oauth/consent")
    assert "Location" not in resp.headers


async def test_post_from_the_same_origin_is_accepted(client: Client) -> None:
    origin = str(client.make_url("")).rstrip("/")
    resp = await client.post(
        "/_sandbox/oauth/user",
        data={"user": "alice", "next": next_of(authorize_params())},
        headers={"Origin": origin},
        allow_redirects=False,
    )
    assert resp.status == 303


# -- error pages ---------------------------------------------------------------------------------------


async def test_redirect_uri_outside_the_domains_is_10003_with_diagnostic(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri="https://evil.example.com/cb")
    diagnostic = await error_page(await authorize(client, params), 10003, "redirect_uri域名与后台配置不一致")
    assert "Configured OAuth domains: shop.example.com." in diagnostic
    assert "Host parsed from redirect_uri: evil.example.com." in diagnostic


async def test_loopback_is_10003_without_trust_loopback(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri=CALLBACK)
    diagnostic = await error_page(await authorize(client, params), 10003, "redirect_uri域名与后台配置不一致")
    assert "Host parsed from redirect_uri: 127.0.0.1:8000." in diagnostic


async def test_configured_domain_redirects(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    redirect_uri = "https://shop.example.com/cb"
    params = authorize_params(appid=SHOP_APPID, redirect_uri=redirect_uri)
    code_redirect(await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"}), redirect_uri)


async def test_double_encoded_redirect_uri_is_10003_saying_so(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri=quote("https://shop.example.com/cb", safe=""))
    diagnostic = await error_page(await authorize(client, params), 10003, "redirect_uri域名与后台配置不一致")
    assert "double-encoded" in diagnostic


async def test_non_default_port_not_configured_is_10003(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri="https://shop.example.com:8443/cb")
    diagnostic = await error_page(await authorize(client, params), 10003, "redirect_uri域名与后台配置不一致")
    assert "Host parsed from redirect_uri: shop.example.com:8443." in diagnostic


async def test_configured_port_matches_that_port(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client, oauth_domains=("shop.example.com:8443",))
    redirect_uri = "https://shop.example.com:8443/cb"
    params = authorize_params(appid=SHOP_APPID, redirect_uri=redirect_uri)
    code_redirect(await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"}), redirect_uri)


async def authorize_raw(client: Client, query: str, user: str = "alice") -> ClientResponse:
    """The authorize page for a query string sent exactly as written (no re-encoding)."""
    url = URL(f"{AUTHORIZE}?{query}", encoded=True)
    return await client.get(url, headers={"X-WeChat-Sandbox-User": user}, allow_redirects=False)


MISMATCH = "redirect_uri域名与后台配置不一致"


async def test_backslash_open_redirect_on_loopback_is_10003_naming_the_browsers_host(client: Client) -> None:
    query = f"appid={APPID}&redirect_uri=http%3A%2F%2Fevil.invalid%5C%40127.0.0.1%2Fcb&response_type=code"
    resp = await authorize_raw(client, query + "&scope=snsapi_base&state=s")
    diagnostic = await error_page(resp, 10003, MISMATCH)
    assert "Location" not in resp.headers
    assert "A browser would go to host evil.invalid, but Python's urlsplit reads 127.0.0.1" in diagnostic


async def test_backslash_open_redirect_on_a_strict_account_is_10003(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    query = f"appid={SHOP_APPID}&redirect_uri=https%3A%2F%2Fevil.invalid%5C%40shop.example.com%2Fcb"
    resp = await authorize_raw(client, query + "&response_type=code&scope=snsapi_base&state=s")
    diagnostic = await error_page(resp, 10003, MISMATCH)
    assert "Location" not in resp.headers
    assert "A browser would go to host evil.invalid, but Python's urlsplit reads shop.example.com" in diagnostic


async def test_crlf_in_redirect_uri_is_the_10003_page_not_a_dropped_connection(client: Client) -> None:
    query = f"appid={APPID}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcb%0D%0AX-Injected%3A%201&response_type=code"
    resp = await authorize_raw(client, query + "&scope=snsapi_base&state=s")
    diagnostic = await error_page(resp, 10003, MISMATCH)
    assert "X-Injected" not in resp.headers
    assert "It contains control characters (LF, CR)" in diagnostic


async def test_userinfo_in_redirect_uri_is_10003(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri="https://me@shop.example.com/cb")
    resp = await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"})
    assert "It carries userinfo (me@) before its host" in await error_page(resp, 10003, MISMATCH)


async def test_ipv4_shorthand_in_redirect_uri_is_10003(client: Client) -> None:
    params = authorize_params(redirect_uri="http://2130706433:8000/cb")
    resp = await authorize(client, params, {"X-WeChat-Sandbox-User": "alice"})
    diagnostic = await error_page(resp, 10003, MISMATCH)
    assert "A browser would go to host 127.0.0.1:8000, but Python's urlsplit reads 2130706433:8000" in diagnostic


async def test_journal_gets_the_browsers_host_of_a_refused_redirect_uri(app_client: AppClientFactory) -> None:
    seen: list[Exchange] = []
    client = await app_client(make_config(), [seen.append])
    query = f"appid={APPID}&redirect_uri=http%3A%2F%2Fevil.invalid%5C%40127.0.0.1%2Fcb&response_type=code"
    await error_page(await authorize_raw(client, query + "&scope=snsapi_base&state=s"), 10003, MISMATCH)
    [exchange] = seen
    assert (exchange.wire_code, exchange.error) == (10003, "RedirectUriMismatch")
    assert "A browser would go to host evil.invalid" in exchange.diagnostic


def test_no_redirect_carries_cr_or_lf() -> None:
    with pytest.raises(errors.LinkUnavailable) as caught:
        oauth.redirect("/connect/oauth2/authorize?a=1\r\nSet-Cookie: x=1")
    assert "contains CR or LF" in caught.value.diagnostic


async def test_domain_errors_come_before_the_picker(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client)
    params = authorize_params(appid=SHOP_APPID, redirect_uri="https://evil.example.com/cb")
    html = await page_of(await authorize(client, params))
    assert by_testid(html, "wechat-user-option") == []


async def test_banned_account_is_10004(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client, banned=True)
    resp = await authorize(client, authorize_params(appid=SHOP_APPID, redirect_uri="https://shop.example.com/cb"))
    assert SHOP_APPID in await error_page(resp, 10004, "此公众号被封禁")


async def test_snsapi_login_is_10005(client: Client) -> None:
    resp = await authorize(client, authorize_params(scope="snsapi_login"))
    assert "snsapi_login" in await error_page(resp, 10005, "此公众号并没有这些scope的权限")


async def test_empty_scope_is_10010(client: Client) -> None:
    resp = await authorize(client, authorize_params(scope=""))
    assert "scope" in await error_page(resp, 10010, "scope不能为空")


async def test_missing_redirect_uri_is_10011(client: Client) -> None:
    params = authorize_params()
    del params["redirect_uri"]
    assert "redirect_uri" in await error_page(await authorize(client, params), 10011, "redirect_uri不能为空")


async def test_missing_appid_is_10012(client: Client) -> None:
    params = authorize_params()
    del params["appid"]
    assert "appid" in await error_page(await authorize(client, params), 10012, "appid不能为空")


async def test_website_app_appid_is_10016(app_client: AppClientFactory) -> None:
    client = await shop_client(app_client, kind=AccountKind.WEBSITE)
    resp = await authorize(client, authorize_params(appid=SHOP_APPID, redirect_uri="https://shop.example.com/cb"))
    assert SHOP_APPID in await error_page(resp, 10016, "不支持微信开放平台的Appid，请使用公众号Appid")


async def test_unknown_appid_is_link_unavailable(client: Client) -> None:
    resp = await authorize(client, authorize_params(appid="wx_not_configured"))
    diagnostic = await error_page(resp, None, "该链接无法访问")
    assert "wx_not_configured" in diagnostic
    assert APPID in diagnostic


async def test_wrong_response_type_is_link_unavailable(client: Client) -> None:
    resp = await authorize(client, authorize_params(response_type="token"))
    assert "response_type" in await error_page(resp, None, "该链接无法访问")


async def test_error_page_escapes_the_diagnostic(client: Client) -> None:
    resp = await authorize(client, authorize_params(appid="<script>alert(1)</script>"))
    html = await resp.text()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


async def test_error_page_shows_the_rid(client: Client) -> None:
    html = await (await authorize(client, authorize_params(scope=""))).text()
    assert "rid: " in html


async def test_journal_observer_gets_the_page_error_code_and_diagnostic(app_client: AppClientFactory) -> None:
    seen: list[Exchange] = []
    client = await app_client(make_config(accounts=(shop_account(),)), [seen.append])
    params = authorize_params(appid=SHOP_APPID, redirect_uri="https://evil.example.com/cb")
    await error_page(await authorize(client, params), 10003, "redirect_uri域名与后台配置不一致")
    assert len(seen) == 1
    exchange = seen[0]
    assert exchange.path == AUTHORIZE
    assert exchange.status == 200
    assert exchange.wire_code == 10003
    assert exchange.error == "RedirectUriMismatch"
    assert "Configured OAuth domains: shop.example.com." in exchange.diagnostic
    assert exchange.query["redirect_uri"] == "https://evil.example.com/cb"


async def test_journal_observer_gets_page_for_a_link_unavailable(app_client: AppClientFactory) -> None:
    seen: list[Exchange] = []
    client = await app_client(make_config(), [seen.append])
    await authorize(client, authorize_params(appid="wx_not_configured"))
    assert seen[0].wire_code == "page"
    assert "wx_not_configured" in seen[0].diagnostic


async def test_journal_observer_gets_the_notes_of_a_grant(app_client: AppClientFactory) -> None:
    seen: list[Exchange] = []
    client = await app_client(make_config(), [seen.append])
    await authorize(client, authorize_params(), {"X-WeChat-Sandbox-User": "alice"})
    assert seen[0].wire_code is None
    assert seen[0].status == 302
    notes = " ".join(seen[0].notes)
    assert "X-WeChat-Sandbox-User" in notes
    assert "code issued to alice" in notes


@pytest.mark.parametrize("path", ["/_sandbox/oauth/user", "/_sandbox/oauth/consent"])
async def test_a_form_that_is_not_utf8_is_a_link_unavailable_page(client: Client, path: str) -> None:
    resp = await client.post(
        path,
        data=b"next=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    diagnostic = await error_page(resp, None, "该链接无法访问")
    assert diagnostic == (
        "wechat-sandbox: the form body is not UTF-8 form data ('utf-8' codec can't decode byte 0xff in position 5:"
        " invalid start byte); the sandbox refuses it"
    )
