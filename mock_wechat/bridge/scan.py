"""Scan to pay (NATIVE) as the payer's phone does it: what a scanned text is, and mode 1's bizpayurl and callback.

Mode 2 (模式二): unifiedorder answers `code_url` = `weixin://wxpay/bizpayurl?pr=NwY5Mz9`; scanning it opens the pay
sheet of that order. Mode 1 (模式一): the merchant prints `weixin://wxpay/bizpayurl?sign=…&appid=…&mch_id=…&
product_id=…&time_stamp=…&nonce_str=…` (signed like any v2 request); scanning it makes WeChat POST `appid, openid,
mch_id, is_subscribe, nonce_str, product_id, sign` to the merchant's scan-pay callback URL, which places the
order and answers `return_code, return_msg, appid, mch_id, nonce_str, prepay_id, result_code, err_code_des, sign`.
`err_code_des` is what the payer is shown when `result_code` is FAIL (WeChat's doc). The texts the phone shows
for the other failures are UNCONFIRMED: WeChat's generic "系统繁忙，请稍后再试".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from mock_wechat import signing
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.config import Merchant, WeChatConfig
from mock_wechat.masking import mask
from mock_wechat.pay.links import SCHEME
from mock_wechat.pay.orders import Order

MODE_ONE_FIELDS = ("appid", "mch_id", "product_id", "time_stamp", "nonce_str", "sign")
BUSY = "系统繁忙，请稍后再试"
NOT_A_PAY_CODE = "二维码无效"
"""UNCONFIRMED: what WeChat's scanner says of a code that is no payment code of WeChat Pay."""


@dataclass(frozen=True)
class ModeTwo:
    """A mode 2 code: the order is already placed."""

    pr: str


@dataclass(frozen=True)
class ModeOne:
    """A mode 1 code: a product of the merchant; the order is placed when it is scanned."""

    fields: dict[str, str]

    @property
    def product_id(self) -> str:
        return self.fields.get("product_id", "")


def read(text: str) -> ModeTwo | ModeOne:
    """What the phone scanned, or the refusal WeChat's scanner shows."""
    scanned = text.strip()
    parts = urlsplit(scanned)
    if f"{parts.scheme}://{parts.netloc}{parts.path}" != SCHEME:
        raise SheetRefused(
            NOT_A_PAY_CODE,
            diagnostics=[f"{shown(scanned)} is not a WeChat Pay code: it must start with {SCHEME}?"],
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "pr" in query:
        return ModeTwo(query["pr"])
    missing = [name for name in MODE_ONE_FIELDS if not query.get(name)]
    if missing:
        raise SheetRefused(
            NOT_A_PAY_CODE,
            diagnostics=[
                f"{shown(scanned)} has neither pr= (mode 2, the code_url of unifiedorder) nor all of mode 1's "
                f"{', '.join(MODE_ONE_FIELDS)}; missing: {', '.join(missing)}"
            ],
        )
    return ModeOne({name: query[name] for name in MODE_ONE_FIELDS})


def shown(text: str, limit: int = 120) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…"


def find_mode_two(found: Order | None, code: ModeTwo) -> Order:
    """The NATIVE order found for the code's `pr` (`PayService.by_pr`), or why the code pays nothing."""
    if found is None:
        raise SheetRefused(
            "二维码已过期，请重新获取",
            diagnostics=[
                f"no NATIVE order has the code weixin://wxpay/bizpayurl?pr={code.pr}: its prepay_id was renewed, "
                "or the sandbox was reset (a code_url lives as long as its prepay_id, 2 hours)"
            ],
        )
    return found


def mode_one_url(fields: Mapping[str, str]) -> str:
    """The bizpayurl of mode 1, its fields in WeChat's order (sign first, as the doc writes it)."""
    order = ("sign", "appid", "mch_id", "product_id", "time_stamp", "nonce_str")
    return f"{SCHEME}?" + "&".join(f"{name}={fields[name]}" for name in order if name in fields)


def check_mode_one(config: WeChatConfig, code: ModeOne) -> Merchant:
    """The merchant of a mode 1 code: known, its appid bound, the code signed with its API key."""
    fields = code.fields
    merchant = config.merchant(fields["mch_id"])
    if merchant is None:
        raise SheetRefused(BUSY, diagnostics=[f"mch_id {fields['mch_id']!r} of the code is not a configured merchant"])
    if fields["appid"] not in merchant.appids:
        raise SheetRefused(
            BUSY,
            diagnostics=[f"appid {fields['appid']} of the code is not bound to merchant {merchant.mch_id}"],
        )
    sign_type = signing.HMAC_SHA256 if len(fields["sign"]) == 64 else signing.MD5
    if not signing.v2_verify(fields, merchant.key, sign_type):
        plain = signing.v2_string_to_sign(fields, mask(merchant.key))
        raise SheetRefused(
            "签名错误",
            diagnostics=[
                f"the mode 1 code's sign {fields['sign']!r} does not verify: the sandbox signed (key masked) {plain} "
                f"with {sign_type} and expected {signing.v2_sign(fields, merchant.key, sign_type)}. A bizpayurl signs "
                "appid, mch_id, nonce_str, product_id and time_stamp with the merchant's API key."
            ],
        )
    return merchant


def callback_url(merchant: Merchant) -> str:
    """Where WeChat POSTs a scanned mode 1 code: the merchant's registered scan-pay callback URL, or refused."""
    if not merchant.native_callback_url:
        raise SheetRefused(
            BUSY,
            diagnostics=[
                f"merchant {merchant.mch_id} has no scan-pay callback URL (扫码支付回调URL; the setting "
                "native_callback_url in the config file, the control API or the console), so a mode 1 code "
                "cannot be paid"
            ],
        )
    return merchant.native_callback_url


def callback_request(code: ModeOne, merchant: Merchant, openid: str, nonce: str) -> dict[str, str | int]:
    """What WeChat POSTs to the scan-pay callback URL, signed MD5 with the merchant's API key."""
    fields: dict[str, str | int] = {
        "appid": code.fields["appid"],
        "openid": openid,
        "mch_id": merchant.mch_id,
        "is_subscribe": "N",
        "nonce_str": nonce,
        "product_id": code.product_id,
    }
    return {**fields, "sign": signing.v2_sign({k: str(v) for k, v in fields.items()}, merchant.key)}


def read_callback_answer(answer: Mapping[str, str], merchant: Merchant, url: str) -> str:
    """The prepay_id the merchant's callback answered, or the refusal (its `err_code_des` when it says FAIL)."""
    where = f"the scan-pay callback {url}"
    if answer.get("return_code") != "SUCCESS":
        raise SheetRefused(
            BUSY,
            diagnostics=[f"{where} answered return_code {answer.get('return_code')!r}: {answer.get('return_msg', '')}"],
        )
    sign = answer.get("sign", "")
    sign_type = signing.HMAC_SHA256 if len(sign) == 64 else signing.MD5
    if not sign or not signing.v2_verify(answer, merchant.key, sign_type):
        plain = signing.v2_string_to_sign(answer, mask(merchant.key))
        raise SheetRefused(
            BUSY,
            diagnostics=[
                f"{where} answered with sign {sign!r}, which does not verify: the sandbox signed (key masked) {plain} "
                f"with {sign_type}. The answer is signed like any v2 message, with the merchant's API key."
            ],
        )
    if answer.get("result_code") != "SUCCESS":
        des = answer.get("err_code_des", "")
        raise SheetRefused(
            des or BUSY, diagnostics=[f"{where} answered result_code FAIL: {des!r} (shown to the payer)"]
        )
    prepay_id = answer.get("prepay_id", "")
    if not prepay_id:
        raise SheetRefused(BUSY, diagnostics=[f"{where} answered SUCCESS without a prepay_id"])
    return prepay_id


def check_callback_order(order: Order | None, code: ModeOne, prepay_id: str) -> Order:
    """The order behind the callback's prepay_id: this merchant's NATIVE order for the scanned product."""
    if order is None:
        raise SheetRefused(BUSY, diagnostics=[f"the callback's prepay_id {prepay_id} is no order's (expired?)"])
    problems = []
    if order.mch_id != code.fields["mch_id"]:
        problems.append(f"it is merchant {order.mch_id}'s, not {code.fields['mch_id']}'s")
    if order.trade_type != "NATIVE":
        problems.append(f"it is a {order.trade_type} order; mode 1 places trade_type NATIVE")
    product_id = order.fields.get("product_id", code.product_id)
    if product_id != code.product_id:
        problems.append(f"its product_id is {product_id!r}, the code's {code.product_id!r}")
    if problems:
        raise SheetRefused(BUSY, diagnostics=[f"the callback's prepay_id {prepay_id}: " + "; ".join(problems)])
    return order
