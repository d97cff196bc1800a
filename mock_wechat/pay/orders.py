"""Rules of an order's life: NOTPAY → SUCCESS / PAYERROR / CLOSED → REFUND, all read off one clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from mock_wechat import errors
from mock_wechat.config import Merchant
from mock_wechat.domains import ip_literal

PREPAY_TTL = 7200
MIN_TIME_EXPIRE = 300
"""time_expire must leave the payer at least 5 minutes (WeChat: "刷卡至少1分钟，其他5分钟")."""

REENTRY_FIELDS = (
    "appid",
    "body",
    "detail",
    "attach",
    "total_fee",
    "fee_type",
    "trade_type",
    "openid",
    "product_id",
    "goods_tag",
    "limit_pay",
    "notify_url",
)
"""A second unifiedorder with the same out_trade_no is a re-entry (订单重入) if these are unchanged."""

MAX_FEN = 2**31 - 1
"""WeChat's `Int` is 32-bit signed: no amount in fen (total_fee, refund_fee) is above 2147483647."""
BODY_MAX = 128
ATTACH_MAX = 127
OUT_TRADE_NO_MAX = 32
OUT_TRADE_NO_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-|*")
"""PROTOCOL.md §5.4: letters, digits and `_ - | *` (some doc versions add `@`; the reference does not)."""


def shown(value: str, limit: int = 40) -> str:
    """A value for a diagnostic: repr'd, and cut short when it is long (a fuzzer's 5,000 digits)."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} characters)"


def fen(value: str, name: str) -> int:
    """An amount in fen: ASCII digits, positive, within WeChat's `Int`; never parses a huge number."""
    digits = value.lstrip("0") if value.isascii() and value.isdigit() else ""
    if not digits or len(digits) > len(str(MAX_FEN)) or int(digits) > MAX_FEN:
        raise errors.InvalidRequest(
            f"{name} must be a positive integer of fen no greater than {MAX_FEN} (WeChat's Int), got {shown(value)}",
            err_code_des=f"{name}参数错误",
        )
    return int(digits)


def check_length(name: str, value: str, most: int) -> None:
    """WeChat's String(n) limits, counted in characters."""
    if len(value) > most:
        raise errors.InvalidRequest(
            f"{name} is {len(value)} characters long; at most {most}: {shown(value)}",
            err_code_des=f"{name}参数长度有误",
        )


def check_out_trade_no(value: str) -> None:
    if len(value) > OUT_TRADE_NO_MAX or not set(value) <= OUT_TRADE_NO_CHARS:
        bad = sorted(set(value) - OUT_TRADE_NO_CHARS)
        reason = f"characters {bad!r} are not allowed" if bad else f"{len(value)} characters is too long"
        raise errors.InvalidRequest(
            f"out_trade_no {shown(value)}: at most {OUT_TRADE_NO_MAX} of [0-9A-Za-z_-|*]; {reason}",
            err_code_des="out_trade_no参数错误",
        )


def check_ip(name: str, value: str) -> None:
    """An IPv4 or IPv6 address (the payer's), as WeChat asks of spbill_create_ip."""
    if ip_literal(value) is None:
        raise errors.InvalidRequest(
            f"{name} must be an IPv4 or IPv6 address, got {shown(value)}", err_code_des=f"{name}参数错误"
        )


def check_within_limit(total_fee: int, limit: int, mch_id: str) -> None:
    """The merchant's single-payment limit (单笔支付限额; `single_payment_limit` in the sandbox config)."""
    if total_fee > limit:
        raise errors.InvalidRequest(
            f"total_fee {total_fee} is above the single-payment limit of merchant {mch_id} ({limit} fen; "
            "single_payment_limit in the sandbox config)",
            err_code_des="total_fee超出单笔支付限额",
        )


class TradeState(StrEnum):
    SUCCESS = "SUCCESS"
    REFUND = "REFUND"
    NOTPAY = "NOTPAY"
    CLOSED = "CLOSED"
    REVOKED = "REVOKED"
    USERPAYING = "USERPAYING"
    PAYERROR = "PAYERROR"


STATE_DESC = {
    TradeState.SUCCESS: "支付成功",
    TradeState.REFUND: "转入退款",
    TradeState.NOTPAY: "订单未支付",
    TradeState.CLOSED: "已关闭",
    TradeState.REVOKED: "已撤销（刷卡支付）",
    TradeState.USERPAYING: "用户支付中",
    TradeState.PAYERROR: "支付失败",
}


class TradeType(StrEnum):
    JSAPI = "JSAPI"
    NATIVE = "NATIVE"
    APP = "APP"
    MWEB = "MWEB"


class Api(StrEnum):
    """The wire an order was placed on; notifications go out on the same one."""

    V2 = "v2"
    V3 = "v3"


class Outcome(StrEnum):
    """What the payer's attempt ends in (the pay sheet's sandbox choice, or the control API's)."""

    SUCCESS = "success"
    NOTENOUGH = "notenough"
    FAIL = "fail"


@dataclass(frozen=True)
class OrderRequest:
    """A new order as a merchant asks for it, in plain values: each wire dialect reads its request into one."""

    merchant: Merchant
    appid: str
    out_trade_no: str
    description: str
    total: int
    """In fen."""
    trade_type: TradeType
    notify_url: str
    payer_ip: str
    openid: str = ""
    attach: str = ""
    device_info: str = ""
    fee_type: str = "CNY"
    time_expire: float | None = None
    time_expire_text: str = ""
    """time_expire as the merchant wrote it, for the diagnostic."""
    reentry: Mapping[str, str] = field(default_factory=dict)
    """The fields a re-entry (订单重入) must repeat, as the merchant sent them."""
    api: Api = Api.V2
    sandbox: bool = False
    sign_type: str = "MD5"
    """How the page's paySign is signed: MD5 or HMAC-SHA256 (v2), RSA (v3)."""


@dataclass(frozen=True)
class Order:
    mch_id: str
    appid: str
    out_trade_no: str
    body: str
    total_fee: int
    trade_type: str
    notify_url: str
    spbill_create_ip: str
    created_at: float
    prepay_id: str
    prepay_expires_at: float
    sign_type: str
    fields: dict[str, str]
    """The re-entry fields as the merchant sent them."""
    openid: str = ""
    user_id: str = ""
    attach: str = ""
    device_info: str = ""
    fee_type: str = "CNY"
    expires_at: float | None = None
    trade_state: str = TradeState.NOTPAY.value
    transaction_id: str = ""
    time_end: str = ""
    paid_at: float | None = None
    bank_type: str = ""
    cash_fee: int = 0
    refunded_fee: int = 0
    sandbox: bool = False
    api: str = "v2"
    answer_sign: str = ""
    """The `sign` of the unifiedorder answer, to recognise it when a page passes it off as paySign."""

    @property
    def remaining_refundable(self) -> int:
        return self.total_fee - self.refunded_fee


def effective(order: Order, now: float) -> Order:
    """An unpaid order past its time_expire reads as CLOSED."""
    if order.trade_state == TradeState.NOTPAY and order.expires_at is not None and now >= order.expires_at:
        return replace(order, trade_state=TradeState.CLOSED.value)
    return order


def reenter(existing: Order, fields: Mapping[str, str], now: float) -> Order:
    """A second unifiedorder for the same out_trade_no: the same prepay_id, or WeChat's refusal."""
    current = effective(existing, now)
    if current.trade_state in (TradeState.SUCCESS, TradeState.REFUND):
        raise errors.OrderPaid(f"order {existing.out_trade_no} is already paid ({current.trade_state})")
    if current.trade_state in (TradeState.CLOSED, TradeState.REVOKED):
        raise errors.OrderClosed(f"order {existing.out_trade_no} is closed; use a new out_trade_no")
    names = existing.fields.keys() or REENTRY_FIELDS  # the fields the first request's API compares
    changed = sorted(k for k in names if fields.get(k, "") != existing.fields.get(k, ""))
    if changed:
        detail = ", ".join(f"{k}: {existing.fields.get(k, '')!r} → {fields.get(k, '')!r}" for k in changed)
        if {"appid", "trade_type"} & set(changed):
            raise errors.OutTradeNoUsed(f"out_trade_no {existing.out_trade_no} is used by another order ({detail})")
        raise errors.InvalidRequest(
            f"re-entry of {existing.out_trade_no} must repeat the first request; changed: {detail}",
            err_code_des="201 商户订单号重复",
        )
    return existing


def renew_prepay(order: Order, prepay_id: str, now: float) -> Order:
    """Re-entry after the prepay_id's 2 hours: a new prepay_id for the same order."""
    return replace(order, prepay_id=prepay_id, prepay_expires_at=now + PREPAY_TTL)


def check_payable(order: Order, now: float) -> Order:
    current = effective(order, now)
    if current.trade_state in (TradeState.SUCCESS, TradeState.REFUND):
        raise errors.OrderPaid(f"order {order.out_trade_no} is already paid")
    if current.trade_state in (TradeState.CLOSED, TradeState.REVOKED):
        raise errors.OrderClosed(f"order {order.out_trade_no} is closed")
    return current


def paid(order: Order, *, transaction_id: str, time_end: str, now: float, user_id: str) -> Order:
    return replace(
        order,
        trade_state=TradeState.SUCCESS.value,
        transaction_id=transaction_id,
        time_end=time_end,
        paid_at=now,
        bank_type="OTHERS",
        cash_fee=order.total_fee,
        user_id=user_id,
    )


def failed(order: Order) -> Order:
    return replace(order, trade_state=TradeState.PAYERROR.value)


def close(order: Order, now: float) -> Order:
    current = effective(order, now)
    if current.trade_state in (TradeState.SUCCESS, TradeState.REFUND):
        raise errors.OrderPaid(f"order {order.out_trade_no} is paid and cannot be closed; refund it instead")
    if current.trade_state == TradeState.CLOSED and order.trade_state == TradeState.CLOSED:
        raise errors.OrderClosed(f"order {order.out_trade_no} is already closed")
    return replace(order, trade_state=TradeState.CLOSED.value)
