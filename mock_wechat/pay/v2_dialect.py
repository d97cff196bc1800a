"""API v2's edge: who signed an XML request, its fields read into typed requests, and the XML WeChat sends back."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from mock_wechat import errors, signing, times
from mock_wechat.config import Merchant
from mock_wechat.masking import mask
from mock_wechat.pay import orders, v2_xml
from mock_wechat.pay.notifications import Kind, Notification, Outgoing, Tamper
from mock_wechat.pay.orders import Api, Order, OrderRequest, TradeType
from mock_wechat.pay.refunds import Refund, RefundRequest
from mock_wechat.pay.service import PayService

CONTENT_TYPE = "text/xml"


@dataclass(frozen=True)
class Signer:
    """Who signed a v2 request and how: the answer is signed the same way."""

    merchant: Merchant
    key: str
    sign_type: str
    sandbox: bool


def sandbox_signkey(merchant: Merchant) -> str:
    """The key `getsignkey` hands out; requests on the sandbox paths are signed with it."""
    return hashlib.md5(f"sandbox_signkey:{merchant.mch_id}:{merchant.key}".encode()).hexdigest()  # noqa: S324


def require(fields: Mapping[str, str], *names: str) -> None:
    missing = [n for n in names if not fields.get(n)]
    if missing:
        raise errors.LackParams(f"missing required parameters: {', '.join(missing)}")


def fen(fields: Mapping[str, str], name: str) -> int:
    """The amount `name` in fen: a positive integer that fits WeChat's `Int`, or INVALID_REQUEST naming it."""
    return orders.fen(fields.get(name, ""), name)


# -- who signed --------------------------------------------------------------------------------------


def authenticate(pay: PayService, fields: Mapping[str, str], sandbox: bool) -> Signer:
    """The request's merchant, checked against its `sign` (the sandbox key on the sandbox paths)."""
    merchant = pay.merchant(fields.get("mch_id", ""))
    sign_type = fields.get("sign_type") or signing.MD5
    if sign_type not in signing.SIGN_TYPES:
        raise errors.SignError(f"sign_type {sign_type!r} is neither MD5 nor HMAC-SHA256")
    key = sandbox_signkey(merchant) if sandbox else merchant.key
    if not fields.get("sign"):
        raise errors.SignError("the sign parameter is missing")
    if not signing.v2_verify(fields, key, sign_type):
        raise _sign_error(pay, fields, merchant, key, sign_type, sandbox)
    return Signer(merchant, key, sign_type, sandbox)


def _sign_error(
    pay: PayService, fields: Mapping[str, str], merchant: Merchant, key: str, sign_type: str, sandbox: bool
) -> errors.SignError:
    error = errors.SignError(sign_diagnostic(pay, fields, merchant, key, sign_type, sandbox))
    error.comparison = sign_comparison(pay, fields, merchant, key, sign_type, sandbox)
    return error


def sign_comparison(
    pay: PayService, fields: Mapping[str, str], merchant: Merchant, key: str, sign_type: str, sandbox: bool
) -> errors.Comparison | None:
    """The string-to-sign with the key the sign does match (the other key, another merchant's), if one does."""
    expected = signing.v2_string_to_sign(fields, mask(key))
    candidates = [(merchant.key if sandbox else sandbox_signkey(merchant), "the other key of this merchant")]
    candidates += [(m.key, f"merchant {m.mch_id}'s key") for m in pay.config.merchants if m.mch_id != merchant.mch_id]
    for other_key, whose in candidates:
        for candidate in (signing.MD5, signing.HMAC_SHA256):
            if signing.v2_verify(fields, other_key, candidate):
                received = signing.v2_string_to_sign(fields, mask(other_key))
                return errors.Comparison(expected, received, f"signed with {whose} ({candidate})", "&")
    return None


def sign_diagnostic(
    pay: PayService, fields: Mapping[str, str], merchant: Merchant, key: str, sign_type: str, sandbox: bool
) -> str:
    """What the sandbox signed, and which near miss (other type, other key, lowercase) the sign matches."""
    masked = signing.v2_string_to_sign(fields, mask(key))
    lines = [
        f"sign {fields.get('sign')!r} does not verify with {sign_type}.",
        f"The sandbox signed (key masked): {masked}",
        f"and expected {signing.v2_sign(fields, key, sign_type)}.",
    ]
    other = signing.HMAC_SHA256 if sign_type == signing.MD5 else signing.MD5
    if signing.v2_verify(fields, key, other):
        lines.append(f"It verifies with {other}: set sign_type={other!r} or sign with {sign_type}.")
    if fields.get("sign", "").upper() == signing.v2_sign(fields, key, sign_type):
        lines.append("It is right but lowercase: WeChat signs in uppercase hex.")
    other_key = merchant.key if sandbox else sandbox_signkey(merchant)
    for candidate in (signing.MD5, signing.HMAC_SHA256):
        if signing.v2_verify(fields, other_key, candidate):
            which = "the merchant's API key" if sandbox else "the sandbox_signkey from getsignkey"
            lines.append(f"It verifies with {which}: on {'sandbox' if sandbox else 'normal'} paths use the other key.")
    for m in pay.config.merchants:
        if m.mch_id != merchant.mch_id and signing.v2_verify(fields, m.key, sign_type):
            lines.append(f"It verifies with the key of merchant {m.mch_id}: mch_id and key do not belong together.")
    return " ".join(lines)


def getsignkey(pay: PayService, fields: Mapping[str, str]) -> tuple[Merchant, str]:
    """`getsignkey`: MD5-signed with the real API key, answers the sandbox key."""
    merchant = pay.merchant(fields.get("mch_id", ""))
    if not signing.v2_verify(fields, merchant.key, signing.MD5):
        raise _sign_error(pay, fields, merchant, merchant.key, signing.MD5, False)
    return merchant, sandbox_signkey(merchant)


def order_key(pay: PayService, order: Order) -> str:
    """The key that signs a v2 order's answers, notifications and paySign (the sandbox key on sandbox paths)."""
    merchant = pay.merchant(order.mch_id)
    return sandbox_signkey(merchant) if order.sandbox else merchant.key


# -- requests ----------------------------------------------------------------------------------------


def time_expire(value: str) -> float | None:
    """time_expire in `yyyyMMddHHmmss`, Beijing time."""
    if not value:
        return None
    expires_at = times.parse_compact(value)
    if expires_at is None:
        raise errors.InvalidRequest(
            f"time_expire {value!r} is not yyyyMMddHHmmss", err_code_des="time_expire参数格式错误"
        )
    return expires_at


def order_request(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> OrderRequest:
    """`unifiedorder`'s fields as a new order, with v2's own field rules checked."""
    require(fields, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type")
    appid = fields.get("appid", "")
    pay.check_appid(signer.merchant, appid)
    total_fee = fen(fields, "total_fee")
    orders.check_within_limit(total_fee, signer.merchant.single_payment_limit, signer.merchant.mch_id)
    trade_type = fields["trade_type"]
    if trade_type not in TradeType.__members__:
        raise errors.InvalidRequest(
            f"trade_type {orders.shown(trade_type)} is not JSAPI, NATIVE, APP or MWEB",
            err_code_des="trade_type参数错误",
        )
    orders.check_out_trade_no(fields["out_trade_no"])
    orders.check_length("body", fields["body"], orders.BODY_MAX)
    orders.check_length("attach", fields.get("attach", ""), orders.ATTACH_MAX)
    orders.check_ip("spbill_create_ip", fields["spbill_create_ip"])
    if trade_type == TradeType.JSAPI and not fields.get("openid"):
        raise errors.LackParams("JSAPI orders need the payer's openid", err_code_des="JSAPI支付必须传openid")
    if trade_type == TradeType.NATIVE and not fields.get("product_id"):
        raise errors.LackParams("NATIVE orders need product_id", err_code_des="NATIVE支付必须传product_id")
    expires_at = time_expire(fields.get("time_expire", ""))
    return OrderRequest(
        merchant=signer.merchant,
        appid=appid,
        out_trade_no=fields["out_trade_no"],
        description=fields["body"],
        total=total_fee,
        trade_type=TradeType(trade_type),
        notify_url=fields["notify_url"],
        payer_ip=fields["spbill_create_ip"],
        openid=fields.get("openid", ""),
        attach=fields.get("attach", ""),
        device_info=fields.get("device_info", ""),
        fee_type=fields.get("fee_type") or "CNY",
        time_expire=expires_at,
        time_expire_text=fields.get("time_expire", ""),
        reentry={k: fields.get(k, "") for k in orders.REENTRY_FIELDS},
        api=Api.V2,
        sandbox=signer.sandbox,
        sign_type=signer.sign_type,
    )


def find(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Order:
    """By transaction_id (preferred) or out_trade_no, as orderquery and refund look orders up."""
    transaction_id, out_trade_no = fields.get("transaction_id", ""), fields.get("out_trade_no", "")
    if not transaction_id and not out_trade_no:
        raise errors.LackParams("either transaction_id or out_trade_no is required")
    return pay.find(signer.merchant.mch_id, transaction_id=transaction_id, out_trade_no=out_trade_no)


def refund_request(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> RefundRequest:
    """`/secapi/pay/refund`'s fields as a refund of an order."""
    pay.check_appid(signer.merchant, fields.get("appid", ""))
    require(fields, "out_refund_no", "total_fee", "refund_fee")
    total_fee, refund_fee = fen(fields, "total_fee"), fen(fields, "refund_fee")
    notify_url = fields.get("notify_url", "")
    if notify_url:
        pay.check_notify_url(signer.merchant, notify_url)
    order = find(pay, signer, fields)
    return RefundRequest(
        order=order,
        out_refund_no=fields["out_refund_no"],
        total=total_fee,
        refund=refund_fee,
        notify_url=notify_url,
        refund_account=fields.get("refund_account") or "REFUND_SOURCE_UNSETTLED_FUNDS",
        reason=fields.get("refund_desc", ""),
    )


def refundquery(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> tuple[Order, list[Refund]]:
    """`/pay/refundquery` by refund_id, out_refund_no, transaction_id or out_trade_no (in that order)."""
    pay.check_appid(signer.merchant, fields.get("appid", ""))
    mch_id = signer.merchant.mch_id
    keys = ("refund_id", "out_refund_no", "transaction_id", "out_trade_no")
    if not any(fields.get(k) for k in keys):
        raise errors.LackParams("one of refund_id, out_refund_no, transaction_id, out_trade_no is required")
    if fields.get("refund_id") or fields.get("out_refund_no"):
        if fields.get("refund_id"):
            found = pay.refund_by_id(fields["refund_id"])
        else:
            found = pay.refund(mch_id, fields["out_refund_no"])
        if found is None or found.mch_id != mch_id:
            raise errors.RefundNotExist("no such refund for this merchant")
        order = pay.order(mch_id, found.out_trade_no)
        assert order is not None
        return order, [found]
    try:
        order = find(pay, signer, fields)
    except errors.OrderNotExist as exc:
        raise errors.RefundNotExist(exc.diagnostic) from None
    made = pay.refunds_of(order)
    if not made:
        raise errors.RefundNotExist(f"order {order.out_trade_no} has no refunds")
    return order, made


# -- notifications -----------------------------------------------------------------------------------


def payment_notification(pay: PayService, order: Order) -> str:
    """The signed `<xml>` of a paid order, signed like the order's request (key and sign type)."""
    fields: dict[str, str | int] = {
        "appid": order.appid,
        "bank_type": order.bank_type,
        "cash_fee": order.cash_fee,
        "fee_type": order.fee_type,
        "is_subscribe": "N",
        "mch_id": order.mch_id,
        "nonce_str": pay.ids.nonce(),
        "openid": order.openid,
        "out_trade_no": order.out_trade_no,
        "result_code": "SUCCESS",
        "return_code": "SUCCESS",
        "time_end": order.time_end,
        "total_fee": order.total_fee,
        "trade_type": order.trade_type,
        "transaction_id": order.transaction_id,
    }
    for optional in ("attach", "device_info"):
        if getattr(order, optional):
            fields[optional] = getattr(order, optional)
    return v2_xml.render_signed(dict(sorted(fields.items())), order_key(pay, order), order.sign_type)


def refund_notification(pay: PayService, order: Order, made: Refund) -> str:
    """The refund notification: its details AES-256-ECB encrypted in `req_info` with the order's key."""
    inner: dict[str, str | int] = {
        "out_refund_no": made.out_refund_no,
        "out_trade_no": made.out_trade_no,
        "refund_account": made.refund_account,
        "refund_fee": made.refund_fee,
        "refund_id": made.refund_id,
        "refund_recv_accout": made.recv_account,
        "refund_request_source": "API",
        "refund_status": made.status,
        "settlement_refund_fee": made.refund_fee,
        "settlement_total_fee": made.total_fee,
        "success_time": made.success_time,
        "total_fee": made.total_fee,
        "transaction_id": made.transaction_id,
    }
    root = v2_xml.render(inner).replace("<xml>", "<root>", 1).removesuffix("</xml>") + "</root>"
    outer: dict[str, str | int] = {
        "return_code": "SUCCESS",
        "appid": order.appid,
        "mch_id": order.mch_id,
        "nonce_str": pay.ids.nonce(),
        "req_info": signing.v2_refund_req_info(root, order_key(pay, order)),
    }
    return v2_xml.render(outer)


def forge(body: str, tamper: Tamper) -> str:
    """A copy that must be refused: a wrong sign, or an amount changed after signing."""
    fields: dict[str, str | int] = dict(v2_xml.parse(body.encode()))
    if tamper != Tamper.AMOUNT:  # a v2 body has no ciphertext of its own: `req_info` is the sealed part
        if "sign" in fields:
            fields["sign"] = "0" * len(str(fields["sign"]))
        else:
            fields["req_info"] = "Zm9yZ2VkIHJlcV9pbmZv" + str(fields.get("req_info", ""))[20:]
    else:
        if "total_fee" not in fields:
            raise errors.ParamError("only payment notifications carry an amount to tamper with")
        fields["total_fee"] = int(fields["total_fee"]) + 1
        fields["cash_fee"] = fields["total_fee"]
    return v2_xml.render(fields)


def render_notification(pay: PayService, note: Notification) -> Outgoing:
    """What WeChat POSTs for a v2 notification now: freshly signed (or forged, for a tampered copy)."""
    order = pay.order(note.mch_id, note.out_trade_no)
    if order is None:
        raise errors.OrderNotExist(f"order {note.out_trade_no} is gone (reset?)")
    if note.kind == Kind.PAYMENT:
        body = payment_notification(pay, order)
    else:
        made = pay.refund(note.mch_id, note.out_refund_no)
        if made is None:
            raise errors.RefundNotExist(f"refund {note.out_refund_no} is gone (reset?)")
        body = refund_notification(pay, order, made)
    if note.tamper:
        body = forge(body, Tamper(note.tamper))
    return Outgoing(body=body, content_type=CONTENT_TYPE)
