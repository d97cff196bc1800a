"""Rules of the pay sheet (`getBrandWCPayRequest`): what WeChat's client checks before it opens."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from mock_wechat import signing
from mock_wechat.config import Merchant
from mock_wechat.domains import is_loopback, parse_origin
from mock_wechat.masking import mask
from mock_wechat.pay.orders import Order, TradeState

if TYPE_CHECKING:  # cryptography is imported where it is used
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

FIELDS = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
SIGNED = ("appId", "timeStamp", "nonceStr", "package", "signType")
RSA = "RSA"
"""The signType of an API v3 order's paySign (SHA256-RSA, not itself signed)."""
V2_RULE = (
    "this order was placed with API v2 (/pay/unifiedorder): its paySign is MD5 or HMAC-SHA256 with the merchant's "
    "API key over appId, nonceStr, package, signType and timeStamp, signType the one it was made with; "
    "signType RSA is for orders placed with API v3 (/v3/pay/transactions/jsapi)"
)
V3_RULE = (
    "this order was placed with API v3: its paySign is SHA256-RSA with the merchant's API private key "
    "(apiclient_key.pem) over appId\\ntimeStamp\\nnonceStr\\npackage\\n, signType RSA"
)


class MerchantCertificate(Protocol):
    """What verifies a v3 paySign: the merchant API certificate (`v3_keys.MerchantKeys` is one)."""

    @property
    def serial_no(self) -> str: ...

    @property
    def merchant_public_key(self) -> RSAPublicKey: ...


class SheetRefused(Exception):
    """The client refuses to open the sheet: the text WeChat shows, and the sandbox's explanation."""

    def __init__(
        self, text: str, err_msg: str = "get_brand_wcpay_request:fail", diagnostics: Sequence[str] = ()
    ) -> None:
        super().__init__(text)
        self.text, self.err_msg, self.diagnostics = text, err_msg, list(diagnostics)


@dataclass(frozen=True)
class Sheet:
    """One opened pay sheet."""

    sheet_id: str
    page_id: str
    prepay_id: str
    mch_id: str
    out_trade_no: str
    user_id: str
    status: str
    """`open`, then `paid`, `cancelled` or `failed`."""
    opened_at: float
    wrong_pins: int = 0


def prepay_id_of(args: Mapping[str, Any]) -> str:
    package = str(args.get("package") or "")
    if not package.startswith("prepay_id=") or len(package) <= len("prepay_id="):
        raise SheetRefused(
            "调用支付JSAPI缺少参数：package",
            diagnostics=[f"package must be 'prepay_id=<prepay_id from unifiedorder>', got {package!r}"],
        )
    return package.removeprefix("prepay_id=")


def check_fields(args: Mapping[str, Any]) -> list[str]:
    """Missing fields refuse the sheet; jweixin's tell-tale defaults are explained."""
    notes: list[str] = []
    if args.get("timeStamp") == "undefined":
        notes.append(
            "timeStamp is 'undefined': wx.chooseWXPay takes `timestamp` (lowercase) and sends timeStamp itself; "
            "WeixinJSBridge.invoke('getBrandWCPayRequest') takes `timeStamp`"
        )
    if args.get("signType") == "SHA1" and "verifyAppId" in args:
        notes.append(
            "signType is SHA1, jweixin's default when wx.chooseWXPay gets no signType: pass MD5 or HMAC-SHA256 "
            "(orders placed with API v2) or RSA (API v3)"
        )
    for name in FIELDS:
        if not args.get(name):
            raise SheetRefused(f"调用支付JSAPI缺少参数：{name}", diagnostics=[*notes, f"{name} is missing or empty"])
    return notes


def check_order(order: Order | None, appid: str, now: float) -> Order:
    if order is None:
        raise SheetRefused("订单不存在", diagnostics=["no order has this prepay_id (was the sandbox reset?)"])
    if order.trade_state in (TradeState.SUCCESS, TradeState.REFUND):
        raise SheetRefused("该订单已支付", diagnostics=[f"order {order.out_trade_no} is already {order.trade_state}"])
    if order.trade_state in (TradeState.CLOSED, TradeState.REVOKED):
        raise SheetRefused("该订单已关闭", diagnostics=[f"order {order.out_trade_no} is closed"])
    if now >= order.prepay_expires_at:
        raise SheetRefused(
            "支付订单已失效，请重新下单",
            diagnostics=[f"prepay_id expired {int(now - order.prepay_expires_at)} s ago (valid 2 hours)"],
        )
    if appid != order.appid:
        raise SheetRefused(
            "appid和prepay_id不匹配",
            diagnostics=[f"appId {appid} is not the appid of the order ({order.appid})"],
        )
    return order


def check_pay_sign(args: Mapping[str, Any], key: str, answer_sign: str, other_appids: Sequence[str]) -> list[str]:
    """paySign over appId, timeStamp, nonceStr, package, signType with the merchant key."""
    sign_type = str(args.get("signType"))
    pay_sign = args.get("paySign")
    signed = {k: str(args[k]) for k in SIGNED}
    if sign_type in signing.SIGN_TYPES and signing.v2_sign(signed, key, sign_type) == pay_sign:
        return []
    plain = signing.v2_string_to_sign(signed, mask(key))
    if sign_type in signing.SIGN_TYPES:
        lines = [f"paySign {pay_sign!r} does not verify. The string the sandbox signed (key masked): {plain}"]
        lines[0] += f" with {sign_type}."
    elif sign_type == RSA:
        md5_plain = signing.v2_string_to_sign({**signed, "signType": signing.MD5}, mask(key))
        lines = [
            f"paySign {_brief(str(pay_sign))} cannot verify: signType RSA for an order placed with API v2: {V2_RULE}. "
            f"For signType MD5 the string to sign (key masked) is: {md5_plain}."
        ]
    else:
        lines = [
            f"paySign {pay_sign!r} cannot verify: signType {sign_type!r} is not {' or '.join(signing.SIGN_TYPES)}. "
            f"The string to sign (key masked): {plain}."
        ]
    for other in signing.SIGN_TYPES:
        if other != sign_type and signing.v2_sign(signed, key, other) == pay_sign:
            lines.append(
                f"It verifies with {other} (over these same fields, signType={sign_type}): signType must name the "
                "algorithm paySign was made with."
            )
        if other != sign_type and signing.v2_sign({**signed, "signType": other}, key, other) == pay_sign:
            lines.append(
                f"paySign is valid for signType {other}, but the call sent signType {sign_type!r}: pass the signType "
                f"the back end signed with (wx.chooseWXPay({{..., signType: '{other}'}}))."
            )
    if answer_sign and pay_sign == answer_sign:
        lines.append(
            "paySign is the `sign` of the unifiedorder answer: paySign must be computed anew over "
            "appId, timeStamp, nonceStr, package and signType."
        )
    source = "the page's wx.config appId" if "verifyAppId" in args else "the appId passed to getBrandWCPayRequest"
    advice = "jweixin sends the wx.config appId, so sign with that one" if "verifyAppId" in args else "sign with it"
    for appid in other_appids:
        for candidate in signing.SIGN_TYPES:
            if signing.v2_sign({**signed, "appId": appid}, key, candidate) == pay_sign:
                lines.append(f"It was signed with appId {appid}, but {source} is {signed['appId']}: {advice}.")
    raise SheetRefused("支付验证签名失败", "get_brand_wcpay_request:fail_invalid signature", lines)


def v3_message(args: Mapping[str, Any], appid: str | None = None) -> str:
    """What a v3 paySign covers: appId\\ntimeStamp\\nnonceStr\\npackage\\n (`appid` put in place of appId)."""
    return signing.v3_pay_message(
        appid or str(args["appId"]), str(args["timeStamp"]), str(args["nonceStr"]), str(args["package"])
    )


def shown(message: str) -> str:
    """A signed message on one line, each newline written as \\n."""
    return message.replace("\n", "\\n")


def check_v3_pay_sign(
    args: Mapping[str, Any], keys: MerchantCertificate, v2_key: str, answer_sign: str, other_appids: Sequence[str]
) -> list[str]:
    """paySign of an API v3 order: SHA256-RSA over appId\\ntimeStamp\\nnonceStr\\npackage\\n, signType RSA."""
    sign_type = str(args.get("signType"))
    pay_sign = str(args.get("paySign"))
    message = v3_message(args)
    valid = signing.rsa_verify(keys.merchant_public_key, message, pay_sign)
    if sign_type == RSA and valid:
        return []
    if sign_type == RSA:
        lines = [
            f"paySign {_brief(pay_sign)} does not verify as SHA256-RSA with the merchant API certificate "
            f"(serial_no {keys.serial_no}) over {shown(message)!r}: {V3_RULE}."
        ]
    elif sign_type in signing.SIGN_TYPES:
        lines = [
            f"paySign cannot verify: signType {sign_type} for an order placed with API v3: {V3_RULE}. "
            f"The message to sign: {shown(message)!r}."
        ]
    else:
        lines = [f"paySign cannot verify: signType {sign_type!r} is not RSA: {V3_RULE}."]
    if valid:
        lines.append(
            f"paySign is a valid RSA paySign, but the call sent signType {sign_type!r}: pass signType RSA "
            "(wx.chooseWXPay({..., signType: 'RSA'}))."
        )
    else:
        lines += _v3_mistakes(args, keys, v2_key, answer_sign, other_appids)
    raise SheetRefused("支付验证签名失败", "get_brand_wcpay_request:fail_invalid signature", lines)


def _v3_mistakes(
    args: Mapping[str, Any], keys: MerchantCertificate, v2_key: str, answer_sign: str, other_appids: Sequence[str]
) -> list[str]:
    """What a v3 paySign that does not verify was made as instead, when the sandbox can tell."""
    pay_sign = str(args.get("paySign"))
    signed = {k: str(args[k]) for k in SIGNED}
    lines: list[str] = []
    for v2_type in signing.SIGN_TYPES:
        if signing.v2_sign({**signed, "signType": v2_type}, v2_key, v2_type) == pay_sign:
            lines.append(
                f"paySign is a v2 {v2_type} paySign (the merchant's API key over appId, nonceStr, package, "
                f"signType={v2_type} and timeStamp), the paySign of an order placed with /pay/unifiedorder: "
                "sign with the API private key, signType RSA."
            )
    shape = {32: signing.MD5, 64: signing.HMAC_SHA256}.get(len(pay_sign))
    if not lines and shape and re.fullmatch(r"[0-9A-Fa-f]+", pay_sign):
        lines.append(
            f"paySign is {len(pay_sign)} hex digits, the shape of a v2 {shape} paySign (made with another key or "
            "over other fields): a SHA256-RSA paySign is base64, 344 characters."
        )
    if answer_sign and pay_sign == answer_sign:
        lines.append(
            "paySign is the signature of the order's answer (its Wechatpay-Signature): paySign must be computed "
            "anew with the merchant's API private key over appId\\ntimeStamp\\nnonceStr\\npackage\\n."
        )
    message = v3_message(args)
    bare = v3_message({**args, "package": str(args["package"]).removeprefix("prepay_id=")})
    for variant, wrong in (
        ("without its last \\n (each of the four lines ends with \\n)", message[:-1]),
        ("with the prepay_id alone as its package line (package is 'prepay_id=…')", bare),
    ):
        if signing.rsa_verify(keys.merchant_public_key, wrong, pay_sign):
            lines.append(f"It verifies over the message {variant}.")
    source = "the page's wx.config appId" if "verifyAppId" in args else "the appId passed to getBrandWCPayRequest"
    advice = "jweixin sends the wx.config appId, so sign with that one" if "verifyAppId" in args else "sign with it"
    for appid in other_appids:
        if signing.rsa_verify(keys.merchant_public_key, v3_message(args, appid), pay_sign):
            lines.append(f"It was signed with appId {appid}, but {source} is {signed['appId']}: {advice}.")
    return lines


def _brief(pay_sign: str) -> str:
    return repr(pay_sign) if len(pay_sign) <= 64 else f"{pay_sign[:24]!r}…"


def directory_of(url: str) -> str:
    parts = urlsplit(url.split("#", 1)[0])
    path = parts.path or "/"
    return f"{parts.scheme}://{parts.netloc}{path[: path.rfind('/') + 1]}"


def check_directory(url: str, merchant: Merchant) -> None:
    """支付授权目录: a top-level directory checks only the origin; a deeper one must equal the page's directory."""
    origin = parse_origin(url)
    if origin is not None and merchant.trust_loopback and is_loopback(origin.host):
        return
    directory = directory_of(url)
    for registered in merchant.pay_directories:
        reg = parse_origin(registered)
        if (
            reg is None
            or origin is None
            or (reg.scheme, reg.host, reg.port) != (origin.scheme, origin.host, origin.port)
        ):
            continue
        reg_path = urlsplit(registered).path or "/"
        # the origins are equal: compare paths only (`host:443` and `host` are the same netloc for https)
        if reg_path == "/" or urlsplit(directory_of(registered)).path == urlsplit(directory).path:
            return
    nearest = difflib.get_close_matches(directory, merchant.pay_directories, n=1, cutoff=0.0)
    raise SheetRefused(
        f"当前页面的URL未注册：{url.split('#', 1)[0]}",
        diagnostics=[
            f"the page {url} is in the directory {directory}, which is not a pay directory of merchant "
            f"{merchant.mch_id}: {', '.join(merchant.pay_directories) or '(none)'}"
            + (f"; the nearest is {nearest[0]}" if nearest else "")
            + ". A top-level directory (https://host/) allows the whole host; a deeper one must match exactly."
        ],
    )
