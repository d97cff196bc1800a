"""Rules of the JS-SDK on the client side: `wx.config` verification and per-page API permissions."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from mock_wechat import errors, signing
from mock_wechat.account.tokens import Ticket
from mock_wechat.config import Account
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.masking import mask

JS_TO_BRIDGE = {
    "config": "preVerifyJSAPI",
    "onMenuShareTimeline": "menu:share:timeline",
    "onMenuShareAppMessage": "menu:share:appmessage",
    "onMenuShareQQ": "menu:share:qq",
    "onMenuShareWeibo": "menu:share:weiboApp",
    "onMenuShareQZone": "menu:share:QZone",
    "previewImage": "imagePreview",
    "getLocation": "geoLocation",
    "openProductSpecificView": "openProductViewWithPid",
    "addCard": "batchAddCard",
    "openCard": "batchViewCard",
    "chooseWXPay": "getBrandWCPayRequest",
    "openEnterpriseRedPacket": "getRecevieBizHongBaoRequest",
    "startSearchBeacons": "startMonitoringBeacons",
    "stopSearchBeacons": "stopMonitoringBeacons",
    "onSearchBeacons": "onBeaconsInRange",
    "consumeAndShareCard": "consumedShareCard",
    "openAddress": "editAddress",
}
"""jweixin's table of JS API names to the names the client's bridge knows (CLIENTS.md §C.3)."""
BRIDGE_TO_JS = {v: k for k, v in JS_TO_BRIDGE.items()}

SHARE_APIS = frozenset(
    {"updateAppMessageShareData", "updateTimelineShareData", "shareTimeline", "sendAppMessage", "shareQQ",
     "shareWeiboApp", "shareQZone"}
)  # fmt: skip
MENU_SHARE_OF = {
    "shareTimeline": "menu:share:timeline",
    "sendAppMessage": "menu:share:appmessage",
    "shareQQ": "menu:share:qq",
    "shareWeiboApp": "menu:share:weiboApp",
    "shareQZone": "menu:share:QZone",
}
"""The legacy onMenuShare* APIs: jsApiList grants the menu event, then jweixin invokes the send name (§C.8)."""
WITHOUT_PERMISSION = frozenset({"preVerifyJSAPI", "checkJsApi", "getNetworkType", "closeWindow"})
"""Bridge calls the client answers whatever the page's jsApiList says."""
BRIDGE_APIS = frozenset(
    {"preVerifyJSAPI", "checkJsApi", "getNetworkType", "closeWindow", "getBrandWCPayRequest",
     "updateAppMessageShareData", "updateTimelineShareData", "shareTimeline", "sendAppMessage", "shareQQ",
     "shareWeiboApp", "shareQZone", "menu:share:timeline", "menu:share:appmessage", "menu:share:qq",
     "menu:share:weiboApp", "menu:share:QZone", "startRecord", "stopRecord", "onVoiceRecordEnd", "playVoice",
     "pauseVoice", "stopVoice", "onVoicePlayEnd", "uploadVoice", "downloadVoice", "translateVoice", "chooseImage",
     "imagePreview", "uploadImage", "downloadImage", "getLocalImgData", "geoLocation", "openLocation",
     "hideOptionMenu", "showOptionMenu", "hideMenuItems", "showMenuItems", "hideAllNonBaseMenuItem",
     "showAllNonBaseMenuItem", "scanQRCode", "openProductViewWithPid", "batchAddCard", "chooseCard",
     "batchViewCard", "consumedShareCard", "editAddress", "getRecevieBizHongBaoRequest", "startMonitoringBeacons",
     "stopMonitoringBeacons", "onBeaconsInRange", "openEnterpriseChat", "launchMiniProgram", "openBusinessView",
     "invokeMiniProgramAPI"}
)  # fmt: skip
"""The bridge functions the client has (every name jweixin 1.6 invokes); others are `system:function_not_exist`."""


def unknown_function(name: str) -> Verdict:
    """What WeChat's client answers for a bridge function it does not have: never `ok`."""
    close = difflib.get_close_matches(name, BRIDGE_APIS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return Verdict(
        {"err_msg": "system:function_not_exist"},
        ok=False,
        diagnostics=[f"WeixinJSBridge has no function {name!r}{hint} (WeChat answers system:function_not_exist)"],
    )


KNOWN_APIS = frozenset(
    {"updateAppMessageShareData", "updateTimelineShareData", "onMenuShareTimeline", "onMenuShareAppMessage",
     "onMenuShareQQ", "onMenuShareWeibo", "onMenuShareQZone", "startRecord", "stopRecord", "onVoiceRecordEnd",
     "playVoice", "pauseVoice", "stopVoice", "onVoicePlayEnd", "uploadVoice", "downloadVoice", "chooseImage",
     "previewImage", "uploadImage", "downloadImage", "getLocalImgData", "translateVoice", "getNetworkType",
     "openLocation", "getLocation", "hideOptionMenu", "showOptionMenu", "hideMenuItems", "showMenuItems",
     "hideAllNonBaseMenuItem", "showAllNonBaseMenuItem", "closeWindow", "scanQRCode", "chooseWXPay",
     "openProductSpecificView", "addCard", "chooseCard", "openCard", "openAddress", "checkJsApi"}
)  # fmt: skip


def js_name(bridge_name: str) -> str:
    return BRIDGE_TO_JS.get(bridge_name, bridge_name)


def page_url(href: str) -> str:
    """What WeChat signs and checks: the page URL without its `#fragment`."""
    return href.split("#", 1)[0]


@dataclass(frozen=True)
class Verdict:
    """The client's answer to a bridge call, plus what the sandbox explains about it."""

    result: dict[str, Any]
    ok: bool = True
    diagnostics: list[str] = field(default_factory=list)
    comparison: errors.Comparison | None = None


def _fail(err_msg: str, *diagnostics: str) -> Verdict:
    return Verdict({"err_msg": err_msg}, ok=False, diagnostics=list(diagnostics))


def verify_config(
    args: Mapping[str, Any], href: str, account: Account | None, tickets: Sequence[Ticket], expired: Sequence[Ticket]
) -> Verdict:
    """`preVerifyJSAPI`: the checks WeChat makes when a page calls `wx.config`."""
    appid = str(args.get("verifyAppId") or args.get("appId") or "")
    timestamp = str(args.get("verifyTimestamp", ""))
    nonce = args.get("verifyNonceStr")
    signature = args.get("verifySignature")
    api_list = args.get("verifyJsApiList")
    missing = [
        name
        for name, value in (("appId", appid), ("timestamp", timestamp), ("nonceStr", nonce), ("signature", signature))
        if value in (None, "", "undefined")
    ]
    if not isinstance(api_list, list):
        missing.append("jsApiList")
    if missing:
        return _fail("preVerifyJSAPI:fail", f"wx.config is missing {', '.join(missing)}: WeChat answers config:fail")
    if account is None:
        return Verdict(
            {"errMsg": "config:fail,Error: 系统错误，错误码：40013,invalid appid"},
            ok=False,
            diagnostics=[f"wx.config appId {appid!r} is not a configured Official Account"],
        )
    url = page_url(href)
    origin = parse_origin(url)
    if origin is None or not allowed(origin, account.js_domains, account.trust_loopback):
        domains = ", ".join(account.js_domains) or "(none)"
        return _fail(
            "preVerifyJSAPI:fail_invalid url domain",
            f"the page {url} ({origin.host_port if origin else 'no host'}) is not under the JS-safe domains of "
            f"{account.appid}: {domains}{' (and loopback)' if account.trust_loopback else ''}. "
            "The domain must match exactly, with the port when it is not 80/443.",
        )
    for ticket in tickets:
        if signing.jsapi_signature(ticket.ticket, str(nonce), timestamp, url) == signature:
            return Verdict({"err_msg": "preVerifyJSAPI:ok"})
    failed = _fail("preVerifyJSAPI:fail_invalid signature", *signature_diagnostics(
        str(signature), str(nonce), timestamp, href, url, account, tickets, expired
    ))  # fmt: skip
    compared = signature_comparison(str(signature), str(nonce), timestamp, href, url, tickets, expired)
    return replace(failed, comparison=compared)


def _sha1_exact(ticket: str, nonce: str, timestamp: str, url: str) -> str:
    """The signature over `url` exactly as given: signing.jsapi_signature drops a #fragment, as WeChat does."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def signature_comparison(
    signature: str,
    nonce: str,
    timestamp: str,
    href: str,
    url: str,
    tickets: Sequence[Ticket],
    expired: Sequence[Ticket],
) -> errors.Comparison | None:
    """The string the page's signature does match (the URL with its #fragment, URL-encoded, an expired ticket)."""
    if not tickets:
        return None
    current = tickets[0].ticket
    expected = signing.jsapi_string_to_sign(mask(current), nonce, timestamp, url)
    if "#" in href and _sha1_exact(current, nonce, timestamp, href) == signature:
        received = f"jsapi_ticket={mask(current)}&noncestr={nonce}&timestamp={timestamp}&url={href}"
        return errors.Comparison(expected, received, "signed the URL with its #fragment", "&")
    if signing.jsapi_signature(current, nonce, timestamp, quote(url, safe="")) == signature:
        received = signing.jsapi_string_to_sign(mask(current), nonce, timestamp, quote(url, safe=""))
        return errors.Comparison(expected, received, "signed the URL URL-encoded", "&")
    for old in expired:
        if signing.jsapi_signature(old.ticket, nonce, timestamp, url) == signature:
            received = signing.jsapi_string_to_sign(mask(old.ticket), nonce, timestamp, url)
            return errors.Comparison(expected, received, "signed with an expired jsapi_ticket", "&")
    return None


def signature_diagnostics(
    signature: str,
    nonce: str,
    timestamp: str,
    href: str,
    url: str,
    account: Account,
    tickets: Sequence[Ticket],
    expired: Sequence[Ticket],
) -> list[str]:
    if not tickets:
        return [
            f"wx.config signature does not verify: no valid jsapi_ticket exists for {account.appid}; "
            "the back end must get one from /cgi-bin/ticket/getticket (and cache it) before signing."
        ]
    current = tickets[0].ticket
    expected = signing.jsapi_string_to_sign(mask(current), nonce, timestamp, url)
    lines = [
        f"wx.config signature {signature!r} does not verify. The sandbox used the URL {url!r} "
        f"and the jsapi_ticket {mask(current)} (issued to {account.appid}); the string to sign is "
        f"{expected!r}, whose sha1 is {signing.jsapi_signature(current, nonce, timestamp, url)}."
    ]
    if "#" in href and _sha1_exact(current, nonce, timestamp, href) == signature:
        lines.append("It was signed with the #fragment in the URL: sign location.href.split('#')[0].")
    if signing.jsapi_signature(current, nonce, timestamp, quote(url, safe="")) == signature:
        lines.append("It was signed with an URL-encoded URL: sign the URL as it is, not encoded.")
    for old in expired:
        if signing.jsapi_signature(old.ticket, nonce, timestamp, url) == signature:
            lines.append(f"It was signed with the expired jsapi_ticket {mask(old.ticket)}: refresh it on expiry.")
    return lines


@dataclass(frozen=True)
class Page:
    """What the client remembers about one page load: its wx.config and the APIs it may call."""

    page_id: str
    appid: str
    url: str
    config_count: int
    state: str
    """`pending` until preVerify answered, then `ok` or `fail`."""
    api_list: list[str]
    created_at: float


def permission(
    page: Page | None, bridge_name: str, args: Mapping[str, Any], config_answers: int | None = None
) -> Verdict | None:
    """A refusal when a jweixin call lacks permission; None when the call may go ahead.

    `config_answers` is how many preVerifyJSAPI answers the page had received when it made the call (None when
    the bridge did not say): 0 means the page called before its wx.config was answered, as WeChat's own client
    sees it however fast the sandbox verified."""
    # jweixin adds verifySignType to every call; verifyAppId only once wx.config gave it an appId
    configured = "verifyAppId" in args
    if not (configured or "verifySignType" in args) or bridge_name in WITHOUT_PERMISSION:
        return None  # raw WeixinJSBridge calls (e.g. getBrandWCPayRequest) need no wx.config
    name = js_name(bridge_name)
    if page is None or page.state != "ok" or config_answers == 0:
        if page is None and not configured:
            why = "wx.config was never called on this page"
        elif page is None or page.state == "ok":
            why = "wx.config was still being verified (the call did not wait for wx.ready)"
        else:
            why = "wx.config failed on this page (see its error above)"
        return Verdict(
            {"errMsg": f"{name}:fail, the permission value is offline verifying"},
            ok=False,
            diagnostics=[f"{name} was called but {why}: call it inside wx.ready, after a successful wx.config"],
        )
    if MENU_SHARE_OF.get(bridge_name, bridge_name) not in page.api_list:
        return Verdict(
            {"errMsg": f"{name}:permission denied"},
            ok=False,
            diagnostics=[f"{name} is not in the jsApiList of wx.config ({', '.join(map(js_name, page.api_list))})"],
        )
    return None
