"""The seed's nine steps as data: the arrows of the sequence diagram, which journal path is which arrow, and
what a journal entry says (who it names, whether it failed and why). Pure: entries are the journal's dicts.

The diagram has three lifelines (the browser, i.e. the WeChat client; the merchant's server; WeChat) and one
row per arrow, in the order a payment runs them (`ARROWS`); `PATHS` and `PATTERNS` map a journal path to its
arrow, `BRIDGE_CALLS` a bridge call (by the JS-API the page called) to its arrow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

PAY_PREFIXES = ("/sandboxnew", "/xdc/apiv2sandbox")
"""WeChat Pay's sandbox paths: the same calls under a prefix."""


class Lifeline(IntEnum):
    """The three parties of the sequence diagram, left to right (the value is the diagram column)."""

    BROWSER = 1
    MERCHANT = 2
    WECHAT = 3


LIFELINES = (
    (Lifeline.BROWSER, "浏览器 Browser", "the WeChat client, its JS-SDK and pay sheet"),
    (Lifeline.MERCHANT, "商户服务器 Merchant's server", "your back end"),
    (Lifeline.WECHAT, "微信 WeChat", "open / api / api.mch.weixin.qq.com"),
)


@dataclass(frozen=True)
class Arrow:
    """One arrow of the flow: the seed's step(s) it belongs to, named as the seed does, and who calls whom."""

    key: str
    steps: tuple[int, ...]
    zh: str
    en: str
    source: Lifeline
    target: Lifeline
    call: str
    optional: bool = False
    """Only when needed (a refresh, a query while the notification is late): missing is not "not reached"."""

    @property
    def badge(self) -> str:
        return " · ".join(f"第{'一二三四五六七八九'[s - 1]}步" for s in self.steps)

    @property
    def leftward(self) -> bool:
        return self.target < self.source


B, M, W = Lifeline.BROWSER, Lifeline.MERCHANT, Lifeline.WECHAT
ARROWS = (
    Arrow("authorize", (4,), "用户同意授权，获取code", "web authorization: the user agrees", B, W,
          "GET open.weixin.qq.com/connect/oauth2/authorize: user picker, consent"),
    Arrow("code", (4,), "跳转回 redirect_uri，带上 code", "the code, back to the merchant's redirect_uri", W, B,
          "302 → redirect_uri?code=CODE&state=STATE (the browser then opens the merchant's callback)"),
    Arrow("oauth_token", (5,), "通过code换取网页授权access_token", "the code for a web access_token and the openid",
          M, W, "GET /sns/oauth2/access_token"),
    Arrow("userinfo", (5,), "通过access_token获取用户信息（从服务器发起）", "the user's profile, from the server",
          M, W, "GET /sns/userinfo", optional=True),
    Arrow("refresh", (6,), "刷新access_token（如果需要）", "refresh the web access_token (if needed)", M, W,
          "GET /sns/oauth2/refresh_token", optional=True),
    Arrow("token", (2,), "获取开发者的 access_token", "the account's access_token, for the JS-SDK signature", M, W,
          "GET /cgi-bin/token (or POST /cgi-bin/stable_token)"),
    Arrow("ticket", (2,), "通过access_token获取jsapi_ticket，计算签名", "the jsapi_ticket, to sign wx.config", M, W,
          "GET /cgi-bin/ticket/getticket?type=jsapi"),
    Arrow("jssdk", (1,), "引入 JSSDK", "the page loads the JS-SDK", B, W, "GET res.wx.qq.com/open/js/jweixin-1.6.0.js",
          optional=True),
    Arrow("config", (1,), "wx.config 需要签名", "wx.config, signed", B, W, "wx.config → preVerifyJSAPI (the bridge)"),
    Arrow("prepay", (3, 8), "统一下单（需要openid），得到 prepay_id", "the unified order (needs the openid): prepay_id",
          M, W, "POST /pay/unifiedorder (or /v3/pay/transactions/jsapi)"),
    Arrow("pay", (7,), "wx.chooseWXPay 或 getBrandWCPayRequest 发起支付", "pay: the pay sheet, the PIN", B, W,
          "wx.chooseWXPay / WeixinJSBridge.invoke('getBrandWCPayRequest')"),
    Arrow("notify", (9,), "支付结果通知商户", "WeChat notifies the merchant of the payment", W, M,
          "POST notify_url (the payment notification)"),
    Arrow("query", (9,), "查询订单，跳转相应页面", "the merchant asks WeChat, then shows the result", M, W,
          "POST /pay/orderquery (or GET /v3/pay/transactions/out-trade-no/…)", optional=True),
)  # fmt: skip
BY_KEY = {a.key: a for a in ARROWS}

PATHS = {
    "/connect/oauth2/authorize": "authorize",
    "/_sandbox/oauth/user": "authorize",
    "/_sandbox/oauth/consent": "authorize",
    "/sns/oauth2/access_token": "oauth_token",
    "/sns/userinfo": "userinfo",
    "/sns/oauth2/refresh_token": "refresh",
    "/cgi-bin/token": "token",
    "/cgi-bin/stable_token": "token",
    "/cgi-bin/ticket/getticket": "ticket",
    "/pay/unifiedorder": "prepay",
    "/v3/pay/transactions/jsapi": "prepay",
    "/v3/pay/transactions/native": "prepay",
    "/v3/pay/transactions/h5": "prepay",
    "/v3/pay/transactions/app": "prepay",
    "/_sandbox/bridge/sheet/open": "pay",
    "/_sandbox/bridge/scan": "pay",
    "/_sandbox/bridge/cashier/sheet": "pay",
    "/cgi-bin/mmpayweb-bin/checkmweb": "pay",
    "/pay/orderquery": "query",
}
"""A journal path (WeChat Pay's sandbox prefixes removed) → the arrow it is. The ways outside the JSAPI page take
the same two arrows: a NATIVE, H5 or APP order is the prepay, scanning its code (the sandbox phone) or opening the
H5 cashier is the pay."""
PATTERNS = (
    (re.compile(r"/open/js/jweixin-[\w.-]+\.js"), "jssdk"),
    (re.compile(r"/_sandbox/bridge/sheet/[^/]+/(?:confirm|cancel)"), "pay"),
    (re.compile(r"/v3/pay/transactions/(?:out-trade-no|id)/[^/]+"), "query"),
)
"""Paths with a variable part → the arrow."""
BRIDGE_CALLS = {"preVerifyJSAPI": "config"}
"""`/_sandbox/bridge/invoke` by the JS-API the page called (its first note: `NAME from HREF`)."""
OAUTH_PATHS = frozenset(p for p, key in PATHS.items() if key == "authorize")
NAMED = re.compile(
    r"^(?:user (\S+) chosen|code issued to (\S+) \(|this browser is now user (\S+)$"
    r"|(\S+) consented to |user (\S+) denied)"
)
"""The OAuth pages' notes that name the sandbox user."""
INVOKED = re.compile(r"^(\w+) from (\S*)$")
SHEET_STEPS = {"open": "the pay sheet opens", "confirm": "the PIN, confirmed", "cancel": "the sheet, cancelled (×)"}
"""How the pay row names the bridge's sheet calls (the last part of their path)."""


# -- one journal entry ---------------------------------------------------------------------------------


def pay_path(path: str) -> str:
    for prefix in PAY_PREFIXES:
        if path.startswith(prefix + "/pay/"):
            return path.removeprefix(prefix)
    return path


def bridge_call(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The JS-API name and page URL of a `/_sandbox/bridge/invoke` entry ('' when its notes do not say)."""
    for note in entry.get("notes") or ():
        found = INVOKED.match(str(note))
        if found:
            return found[1], found[2]
    return "", ""


def classify(entry: Mapping[str, Any]) -> str | None:
    """The arrow a journal entry is, or None (a CORS preflight, a call outside the nine steps)."""
    if entry.get("method") == "OPTIONS":
        return None
    path = pay_path(str(entry.get("path", "")))
    if path == "/_sandbox/bridge/invoke":
        return BRIDGE_CALLS.get(bridge_call(entry)[0])
    if path in PATHS:
        return PATHS[path]
    return next((key for pattern, key in PATTERNS if pattern.fullmatch(path)), None)


def values(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {**(entry.get("query") or {}), **(entry.get("fields") or {})}


def answer_json(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The answer as JSON when it is a JSON object (the journal keeps answers as text), else {}."""
    text = str(entry.get("answer") or "")
    if not text.startswith("{"):
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def openid_of(entry: Mapping[str, Any]) -> str:
    given = values(entry)
    return str(given.get("openid") or given.get("payer.openid") or answer_json(entry).get("openid") or "")


def named_user(entry: Mapping[str, Any]) -> str:
    """The sandbox user an OAuth page's notes name, or ''."""
    for note in entry.get("notes") or ():
        found = NAMED.match(str(note))
        if found:
            return next(g for g in found.groups() if g)
    return ""


def err_msg(entry: Mapping[str, Any]) -> str:
    """A bridge answer's `err_msg` (`preVerifyJSAPI:ok`, `get_brand_wcpay_request:fail`), or ''."""
    result = answer_json(entry).get("result")
    return str(result.get("err_msg", "")) if isinstance(result, dict) else ""


def failure(entry: Mapping[str, Any]) -> str | None:
    """Why the entry failed, or None: a WeChat error (its diagnostic), an HTTP error, or a bridge call the client
    answered with `…:fail` (the bridge's diagnostics are its notes)."""
    notes = [str(n) for n in entry.get("notes") or () if not INVOKED.match(str(n))]
    if entry.get("error"):
        return str(entry.get("diagnostic") or "") or f"{entry['error']} ({entry.get('errcode')})"
    answer, said = answer_json(entry), err_msg(entry)
    bad = (said and not said.endswith(":ok")) or "retry" in answer or "alert" in answer
    if int(entry.get("status") or 0) >= 400 or bad:
        shown = " ".join(str(answer.get(k, "")) for k in ("retry", "alert") if answer.get(k))
        why = "\n".join(notes) or shown or said or f"HTTP {entry.get('status')}"
        return f"{said}: {why}" if said and why != said else why
    return None
