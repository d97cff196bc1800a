"""`wx.config` verification and per-page permissions (PROTOCOL.md §4, CLIENTS.md §C.3–C.6), as pure rules."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pytest

from mock_wechat.account.tokens import Ticket
from mock_wechat.bridge import jsapi
from mock_wechat.bridge.jsapi import Page
from mock_wechat.config import Account
from mock_wechat.masking import mask

APPID = "wx5a4db0c0ffee0001"
PAGE = "http://127.0.0.1:8000/pay/checkout?order=42"
TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
OLD_TICKET = "kgt8ON7yVITDhtdwci0qeWM1l3s4iGaJv6VEAz4jXJ5cDdfbzKlS5d1i9ekY8PeJ1tU8aT8cm4dbfcFB7Xpr0Q"
NONCE, TIMESTAMP = "Wm3WZYTPz0wzccnW", "1414587457"


def account(**changes: Any) -> Account:
    values: dict[str, Any] = {"appid": APPID, "secret": "s" * 32, "name": "Shop", "js_domains": ("127.0.0.1",)}
    values.update(changes)
    return Account(**values)


def ticket(value: str = TICKET, issued_at: float = 0.0) -> Ticket:
    return Ticket(value, APPID, "jsapi", issued_at, issued_at + 7200)


def sha1_sign(jsapi_ticket: str, url: str, nonce: str = NONCE, timestamp: str = TIMESTAMP) -> str:
    """Computed here, not with mock_wechat.signing: the URL is taken exactly as given (even with a #)."""
    plain = f"jsapi_ticket={jsapi_ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def preverify_args(**changes: Any) -> dict[str, Any]:
    """What jweixin sends for wx.config (CLIENTS.md §C.3); a None value drops the field, as JSON does."""
    args: dict[str, Any] = {
        "verifyJsApiList": ["getBrandWCPayRequest", "updateAppMessageShareData"],
        "verifyOpenTagList": [],
        "appId": APPID,
        "verifyAppId": APPID,
        "verifySignType": "sha1",
        "verifyTimestamp": TIMESTAMP,
        "verifyNonceStr": NONCE,
        "verifySignature": sha1_sign(TICKET, PAGE),
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def verify(
    args: dict[str, Any],
    href: str = PAGE,
    acct: Account | None = None,
    tickets: tuple[Ticket, ...] = (ticket(),),
    expired: tuple[Ticket, ...] = (),
) -> jsapi.Verdict:
    return jsapi.verify_config(args, href, acct if acct is not None else account(), tickets, expired)


def page(state: str = "ok", api_list: tuple[str, ...] = ("getBrandWCPayRequest",)) -> Page:
    return Page("page-1", APPID, PAGE, 1, state, list(api_list), 0.0)


# -- the page URL ------------------------------------------------------------------------------------


def test_page_url_drops_the_fragment_only() -> None:
    assert jsapi.page_url("http://a/b?c=1#/d?e=2") == "http://a/b?c=1"
    assert jsapi.page_url("http://a/b?c=1") == "http://a/b?c=1"


@pytest.mark.parametrize(
    ("bridge", "js"),
    [("getBrandWCPayRequest", "chooseWXPay"), ("preVerifyJSAPI", "config"), ("imagePreview", "previewImage"),
     ("updateAppMessageShareData", "updateAppMessageShareData")],
)  # fmt: skip
def test_js_name_maps_bridge_names_back(bridge: str, js: str) -> None:
    assert jsapi.js_name(bridge) == js


# -- a correct wx.config -----------------------------------------------------------------------------


def test_correct_signature_passes() -> None:
    verdict = verify(preverify_args())
    assert verdict.ok
    assert verdict.result == {"err_msg": "preVerifyJSAPI:ok"}
    assert verdict.diagnostics == []


def test_the_fragment_of_the_page_is_not_signed() -> None:
    assert verify(preverify_args(), href=PAGE + "#/cart").ok


def test_signature_with_the_official_vector() -> None:
    url = "http://mp.weixin.qq.com?params=value"
    args = preverify_args(verifySignature="0f9de62fce790f9a083d5c99e95740ceb90c27ed")
    acct = account(js_domains=("mp.weixin.qq.com",))
    assert verify(args, href=url, acct=acct).ok


def test_previous_ticket_verifies_while_it_is_still_valid() -> None:
    tickets = (ticket("NEWTICKET" * 10, issued_at=7000), ticket(TICKET, issued_at=0))
    assert verify(preverify_args(), tickets=tickets).ok
    assert verify(preverify_args(verifySignature=sha1_sign("NEWTICKET" * 10, PAGE)), tickets=tickets).ok


def test_a_configured_domain_with_its_port_passes_without_loopback_trust() -> None:
    acct = account(js_domains=("127.0.0.1:8000",), trust_loopback=False)
    assert verify(preverify_args(), acct=acct).ok


def test_loopback_trust_lets_any_loopback_page_in() -> None:
    url = "http://localhost:9999/x"
    acct = account(js_domains=())
    assert verify(preverify_args(verifySignature=sha1_sign(TICKET, url)), href=url, acct=acct).ok


# -- missing fields: config:fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"verifyNonceStr": None}, "nonceStr"),
        ({"verifySignature": None}, "signature"),
        ({"verifyJsApiList": None}, "jsApiList"),
        ({"verifyTimestamp": "undefined"}, "timestamp"),  # jweixin sends String(undefined)
        ({"verifyAppId": None, "appId": None}, "appId"),
        ({"verifySignature": ""}, "signature"),
    ],
)
def test_missing_field_answers_config_fail(changes: dict[str, Any], named: str) -> None:
    verdict = verify(preverify_args(**changes))
    assert not verdict.ok
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail"}  # jweixin turns it into config:fail
    assert len(verdict.diagnostics) == 1
    assert named in verdict.diagnostics[0]


def test_every_missing_field_is_named_at_once() -> None:
    verdict = verify(preverify_args(verifyNonceStr=None, verifySignature=None, verifyJsApiList=None))
    assert "nonceStr, signature, jsApiList" in verdict.diagnostics[0]


def test_missing_fields_are_reported_before_an_unknown_appid() -> None:
    verdict = jsapi.verify_config(preverify_args(verifyNonceStr=None), PAGE, None, (), ())
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail"}


# -- unknown appId -----------------------------------------------------------------------------------


def test_unknown_appid_answers_40013_verbatim() -> None:
    args = preverify_args(appId="wxnotconfigured00", verifyAppId="wxnotconfigured00")
    verdict = jsapi.verify_config(args, PAGE, None, (), ())
    assert not verdict.ok
    assert verdict.result == {"errMsg": "config:fail,Error: 系统错误，错误码：40013,invalid appid"}
    assert "wxnotconfigured00" in verdict.diagnostics[0]


# -- domains -----------------------------------------------------------------------------------------


def test_page_outside_the_js_domains_is_invalid_url_domain() -> None:
    acct = account(js_domains=("shop.example.com",), trust_loopback=False)
    verdict = verify(preverify_args(), acct=acct)
    assert not verdict.ok
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid url domain"}
    (text,) = verdict.diagnostics
    assert "http://127.0.0.1:8000/pay/checkout?order=42" in text
    assert "127.0.0.1:8000" in text
    assert "shop.example.com" in text


def test_domain_without_the_port_does_not_cover_another_port() -> None:
    acct = account(js_domains=("127.0.0.1",), trust_loopback=False)
    assert verify(preverify_args(), acct=acct).result == {"err_msg": "preVerifyJSAPI:fail_invalid url domain"}


def test_subdomain_is_not_covered() -> None:
    url = "https://m.shop.example.com/pay"
    acct = account(js_domains=("shop.example.com",), trust_loopback=False)
    verdict = verify(preverify_args(verifySignature=sha1_sign(TICKET, url)), href=url, acct=acct)
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid url domain"}


def test_account_without_domains_names_none() -> None:
    acct = account(js_domains=(), trust_loopback=False)
    assert "(none)" in verify(preverify_args(), acct=acct).diagnostics[0]


def test_non_http_page_is_invalid_url_domain() -> None:
    verdict = verify(preverify_args(), href="file:///home/dev/pay.html")
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid url domain"}


def test_domain_is_checked_before_the_signature() -> None:
    acct = account(js_domains=("shop.example.com",), trust_loopback=False)
    verdict = verify(preverify_args(verifySignature="0" * 40), acct=acct)
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid url domain"}


# -- signatures --------------------------------------------------------------------------------------


def test_wrong_signature_explains_url_ticket_and_string_to_sign() -> None:
    verdict = verify(preverify_args(verifySignature="0" * 40))
    assert not verdict.ok
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid signature"}
    text = "\n".join(verdict.diagnostics)
    masked = mask(TICKET)
    assert PAGE in text
    assert f"jsapi_ticket={masked}&noncestr={NONCE}&timestamp={TIMESTAMP}&url={PAGE}" in text
    assert sha1_sign(TICKET, PAGE) in text
    assert TICKET not in text


def test_signature_over_the_url_with_its_fragment_is_explained() -> None:
    href = PAGE + "#/cart"
    verdict = verify(preverify_args(verifySignature=sha1_sign(TICKET, href)), href=href)
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid signature"}
    assert any("#fragment" in line for line in verdict.diagnostics), verdict.diagnostics
    assert PAGE + "'" in verdict.diagnostics[0]  # the URL the sandbox used has no fragment


def test_fragment_note_is_absent_when_the_fragment_is_not_the_cause() -> None:
    verdict = verify(preverify_args(verifySignature="0" * 40), href=PAGE + "#/cart")
    assert not any("#fragment" in line for line in verdict.diagnostics)


def test_signature_over_the_encoded_url_is_explained() -> None:
    verdict = verify(preverify_args(verifySignature=sha1_sign(TICKET, quote(PAGE, safe=""))))
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid signature"}
    assert any("URL-encoded" in line for line in verdict.diagnostics), verdict.diagnostics


def test_signature_with_an_expired_ticket_is_explained() -> None:
    args = preverify_args(verifySignature=sha1_sign(OLD_TICKET, PAGE))
    verdict = verify(args, tickets=(ticket(),), expired=(ticket(OLD_TICKET, issued_at=-8000),))
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid signature"}
    text = "\n".join(verdict.diagnostics)
    assert f"expired jsapi_ticket {mask(OLD_TICKET)}" in text
    assert OLD_TICKET not in text


def test_no_valid_ticket_at_all_says_to_get_one() -> None:
    verdict = verify(preverify_args(), tickets=(), expired=(ticket(),))
    assert verdict.result == {"err_msg": "preVerifyJSAPI:fail_invalid signature"}
    assert "getticket" in verdict.diagnostics[0]


# -- permissions -------------------------------------------------------------------------------------


def jweixin_args(**extra: Any) -> dict[str, Any]:
    """What jweixin adds to every call after wx.config (CLIENTS.md §C.3, function P)."""
    return {"appId": APPID, "verifyAppId": APPID, "verifySignType": "sha1", "verifyTimestamp": TIMESTAMP, **extra}


def test_raw_bridge_call_needs_no_config() -> None:
    raw = {"appId": APPID, "timeStamp": "1", "nonceStr": "n", "package": "prepay_id=x", "signType": "MD5"}
    assert jsapi.permission(None, "getBrandWCPayRequest", raw) is None


@pytest.mark.parametrize("name", sorted(jsapi.WITHOUT_PERMISSION))
def test_some_calls_need_no_permission(name: str) -> None:
    assert jsapi.permission(None, name, jweixin_args()) is None


def test_api_in_the_list_of_a_passed_config_is_allowed() -> None:
    assert jsapi.permission(page(), "getBrandWCPayRequest", jweixin_args()) is None


def test_api_before_the_server_saw_wx_config_is_offline_verifying() -> None:
    refusal = jsapi.permission(None, "getBrandWCPayRequest", jweixin_args())
    assert refusal is not None
    assert not refusal.ok
    assert refusal.result == {"errMsg": "chooseWXPay:fail, the permission value is offline verifying"}
    assert "still being verified" in refusal.diagnostics[0]


def test_api_before_wx_config_with_the_official_sdk_is_offline_verifying() -> None:
    """Before wx.config jweixin's settings are `{}`: appId is undefined (dropped by JSON), the rest is sent."""
    args = {"verifySignType": "sha1", "verifyTimestamp": "undefined", "timeStamp": "1", "package": "prepay_id=x"}
    refusal = jsapi.permission(None, "getBrandWCPayRequest", args)
    assert refusal is not None
    assert refusal.result == {"errMsg": "chooseWXPay:fail, the permission value is offline verifying"}
    assert "never called" in refusal.diagnostics[0]


def test_api_after_a_failed_config_is_offline_verifying() -> None:
    refusal = jsapi.permission(page(state="fail"), "updateAppMessageShareData", jweixin_args())
    assert refusal is not None
    assert refusal.result == {"errMsg": "updateAppMessageShareData:fail, the permission value is offline verifying"}
    assert "wx.config failed" in refusal.diagnostics[0]


def test_api_while_the_first_config_is_still_being_verified_is_offline_verifying() -> None:
    """The page has not heard back from preVerifyJSAPI yet (the call is outside wx.ready)."""
    refusal = jsapi.permission(page(), "getBrandWCPayRequest", jweixin_args(), config_answers=0)
    assert refusal is not None
    assert refusal.result == {"errMsg": "chooseWXPay:fail, the permission value is offline verifying"}
    assert "wx.ready" in refusal.diagnostics[0]


def test_api_after_the_config_was_answered_is_allowed() -> None:
    assert jsapi.permission(page(), "getBrandWCPayRequest", jweixin_args(), config_answers=1) is None


def test_api_not_in_the_list_is_permission_denied() -> None:
    refusal = jsapi.permission(page(api_list=("updateAppMessageShareData",)), "getBrandWCPayRequest", jweixin_args())
    assert refusal is not None
    assert refusal.result == {"errMsg": "chooseWXPay:permission denied"}
    assert "jsApiList" in refusal.diagnostics[0]
    assert "updateAppMessageShareData" in refusal.diagnostics[0]


def test_permission_denied_names_apis_by_their_js_names() -> None:
    refusal = jsapi.permission(page(api_list=("imagePreview",)), "getBrandWCPayRequest", jweixin_args())
    assert refusal is not None
    assert "previewImage" in refusal.diagnostics[0]


def test_signature_over_the_url_with_its_fragment_is_compared() -> None:
    href = PAGE + "#/cart"
    verdict = verify(preverify_args(verifySignature=sha1_sign(TICKET, href)), href=href)
    assert verdict.comparison is not None
    assert verdict.comparison.how == "signed the URL with its #fragment"
    assert verdict.comparison.expected.split("&")[-1] == f"url={PAGE}"
    assert verdict.comparison.received.split("&")[-1] == f"url={href}"
    assert TICKET not in verdict.comparison.received
