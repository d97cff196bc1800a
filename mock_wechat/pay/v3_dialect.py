"""API v3's edge: the signed `Authorization`, JSON bodies read into typed requests, signed JSON answers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mock_wechat import errors, signing, times
from mock_wechat.config import Merchant, ResponseSigning
from mock_wechat.ids import Ids
from mock_wechat.masking import mask
from mock_wechat.pay import links, orders
from mock_wechat.pay.notifications import Kind, Notification, Outgoing, Tamper
from mock_wechat.pay.orders import STATE_DESC, Api, Order, OrderRequest, TradeState, TradeType
from mock_wechat.pay.refunds import Refund, RefundRequest
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v3_keys import MerchantKeyring, MerchantKeys, ResponseSigner

SCHEMA = signing.V3_SCHEMA
WINDOW = 300
"""A request's timestamp may differ from the machine's clock by at most 5 minutes."""
CONTENT_TYPE = "application/json"
PAIR = re.compile(r'\s*([A-Za-z_]+)="([^"]*)"\s*(?:,|$)')
AUTH_FIELDS = ("mchid", "nonce_str", "timestamp", "serial_no", "signature")
OUT_TRADE_NO_MIN = 6
DESCRIPTION_MAX = 127
ATTACH_MAX = 128
REENTRY = ("appid", "description", "attach", "total", "currency", "trade_type", "openid", "notify_url", "goods_tag")
"""What a second order with the same out_trade_no must repeat (the v3 counterpart of v2's REENTRY_FIELDS)."""
FORMAT_ERROR = "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》"


# -- who signed --------------------------------------------------------------------------------------------


def parse_authorization(header: str) -> dict[str, str]:
    """`WECHATPAY2-SHA256-RSA2048 k="v",…` in any order, or V3SignError naming what is wrong with it."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme != SCHEMA:
        raise errors.V3SignError(f"Authorization must start with {SCHEMA}, got {header[:40]!r}", message=FORMAT_ERROR)
    pairs: dict[str, str] = {}
    at = 0
    rest = rest.strip()
    while at < len(rest):
        found = PAIR.match(rest, at)
        if found is None:
            raise errors.V3SignError(
                f'Authorization is not a list of k="v" pairs at {rest[at : at + 30]!r}', message=FORMAT_ERROR
            )
        pairs[found[1]] = found[2]
        at = found.end()
    missing = [name for name in AUTH_FIELDS if not pairs.get(name)]
    if missing:
        raise errors.V3SignError(f"Authorization lacks {', '.join(missing)}", message=FORMAT_ERROR)
    return pairs


def named_merchant(header: str) -> str | None:
    """The mchid an `Authorization` names, whether or not its signature holds (to sign the error answering it)."""
    found = re.search(r'mchid="([^"]*)"', header)
    return found[1] if found else None


def authenticate(
    pay: PayService, keyring: MerchantKeyring, method: str, url: str, body: str, header: str, wall: float
) -> Merchant:
    """The merchant whose API key signed `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`, or WeChat's 401."""
    pairs = parse_authorization(header)
    merchant = pay.config.merchant(pairs["mchid"])
    if merchant is None:
        known = ", ".join(m.mch_id for m in pay.config.merchants)
        raise errors.V3MchNotExists(f"mchid {pairs['mchid']!r} in Authorization is not configured; configured: {known}")
    keys = keyring.keys(merchant.mch_id)
    if not _same_serial(pairs["serial_no"], keys.serial_no):
        raise errors.V3SignError(
            f"serial_no {pairs['serial_no']} is not the serial of {merchant.mch_id}'s API certificate "
            f"({keys.serial_no}); see GET /_sandbox/api/config",
            message="商户证书序列号有误。请使用签名私钥匹配的证书序列号",
        )
    timestamp = pairs["timestamp"]
    if not timestamp.isdigit() or abs(int(timestamp) - wall) > WINDOW:
        raise errors.V3SignError(
            f"timestamp {timestamp!r} is more than {WINDOW} s away from this machine's clock ({int(wall)})",
            message="请求中的时间戳与服务器时间相差过大",
        )
    message = signing.v3_request_message(method, url, timestamp, pairs["nonce_str"], body)
    if not signing.rsa_verify(keys.merchant_public_key, message, pairs["signature"]):
        raise _with_comparison(
            sign_comparison(keys, pairs, method, url, body),
            sign_diagnostic(pay, keyring, keys, pairs, method, url, body),
            detail={
                "field": "signature",
                "issue": "sign not match",
                "location": "authorization",
                "sign_information": {
                    "method": method,
                    "url": url,
                    "sign_message_length": len(message.encode()),
                    "truncated_sign_message": message[:64],
                },
            },
        )
    return merchant


def _with_comparison(comparison: errors.Comparison | None, diagnostic: str, **kwargs: Any) -> errors.V3SignError:
    error = errors.V3SignError(diagnostic, **kwargs)
    error.comparison = comparison
    return error


def sign_comparison(
    keys: MerchantKeys, pairs: Mapping[str, str], method: str, url: str, body: str
) -> errors.Comparison | None:
    """The message the signature does verify (no query, another method, the body serialised another way)."""
    timestamp, nonce, signature = pairs["timestamp"], pairs["nonce_str"], pairs["signature"]
    expected = signing.v3_request_message(method, url, timestamp, nonce, body)
    path = url.partition("?")[0]
    candidates = [(signing.v3_request_message(method, path, timestamp, nonce, body), "the URL without its query")]
    candidates += [
        (signing.v3_request_message(other, url, timestamp, nonce, body), f"the method {other}")
        for other in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if other != method
    ]
    candidates += [
        (signing.v3_request_message(method, url, timestamp, nonce, v), why) for v, why in _body_variants(body)
    ]
    candidates.append((signing.v3_request_message(method, url, timestamp, nonce, ""), "an empty body"))
    for candidate, how in candidates:
        if candidate != expected and signing.rsa_verify(keys.merchant_public_key, candidate, signature):
            return errors.Comparison(expected, candidate, f"signed over {how}", "\n")
    return None


def _same_serial(given: str, expected: str) -> bool:
    try:
        return int(given, 16) == int(expected, 16)
    except ValueError:
        return False


def sign_diagnostic(
    pay: PayService,
    keyring: MerchantKeyring,
    keys: MerchantKeys,
    pairs: Mapping[str, str],
    method: str,
    url: str,
    body: str,
) -> str:
    """What the sandbox verified, and which near miss (query, body, key, method) the signature matches."""
    timestamp, nonce, signature = pairs["timestamp"], pairs["nonce_str"], pairs["signature"]
    expected = signing.v3_request_message(method, url, timestamp, nonce, body)
    lines = [
        f"signature does not verify with {keys.mch_id}'s API certificate (serial {keys.serial_no}).",
        f"The sandbox verified the message {expected!r} (METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n).",
    ]
    path, _, query = url.partition("?")

    def matches(candidate: str) -> bool:
        return signing.rsa_verify(keys.merchant_public_key, candidate, signature)

    if query and matches(signing.v3_request_message(method, path, timestamp, nonce, body)):
        lines.append(f"It verifies over the URL without its query ({path}): sign the path with ?{query}.")
    for other in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if other != method and matches(signing.v3_request_message(other, url, timestamp, nonce, body)):
            lines.append(f"It verifies as a {other} request: sign the method you send ({method}).")
    for variant, why in _body_variants(body):
        if matches(signing.v3_request_message(method, url, timestamp, nonce, variant)):
            lines.append(f"It verifies over {why}: sign exactly the bytes you send, after serialising once.")
            break
    if body and matches(signing.v3_request_message(method, url, timestamp, nonce, "")):
        lines.append("It verifies over an empty body: the body you send must be the body you sign.")
    for merchant in pay.config.merchants:
        if merchant.mch_id != keys.mch_id:
            other_keys = keyring.keys(merchant.mch_id)
            if signing.rsa_verify(other_keys.merchant_public_key, expected, signature):
                lines.append(
                    f"It verifies with merchant {merchant.mch_id}'s key: mchid and key do not belong together."
                )
    if len(lines) == 2:
        lines.append(f"Nonce {mask(nonce)}; check the private key is the one of certificate {keys.serial_no}.")
    return " ".join(lines)


def _body_variants(body: str) -> list[tuple[str, str]]:
    """The same JSON serialised the other usual ways: what a client that re-serialised it may have signed."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    return [
        (json.dumps(data), "the body re-serialised with spaces (json.dumps default)"),
        (json.dumps(data, separators=(",", ":")), "the body re-serialised compactly"),
        (json.dumps(data, ensure_ascii=False), "the body re-serialised without ASCII escapes"),
        (json.dumps(data, separators=(",", ":"), ensure_ascii=False), "the body compact without ASCII escapes"),
        (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False), "the body with sorted keys"),
    ]


def flat_fields(body: str) -> dict[str, str]:
    """A JSON body's leaves as `dotted.name: text`, for the journal (nothing when it is not a JSON object)."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return {}
    found: dict[str, str] = {}

    def walk(value: Any, name: str, depth: int) -> None:
        if isinstance(value, dict) and depth < 8:
            for key, inner in value.items():
                walk(inner, f"{name}.{key}" if name else str(key), depth + 1)
        elif name and len(found) < 100:
            found[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:200]

    if isinstance(data, dict):
        walk(data, "", 0)
    return found


# -- answers -----------------------------------------------------------------------------------------------


def dumps(body: Mapping[str, Any]) -> str:
    """JSON as api.mch.weixin.qq.com writes it: compact, UTF-8, numbers as numbers."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signed_headers(signer: ResponseSigner, ids: Ids, wall: float, body: str, request_id: str) -> dict[str, str]:
    """`Wechatpay-*` headers over `TIMESTAMP\\nNONCE\\nBODY\\n` (204s and errors too) and a `Request-ID`."""
    timestamp, nonce = str(int(wall)), ids.nonce()
    return {
        "Request-ID": request_id,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Serial": signer.serial,
        "Wechatpay-Signature": signer.sign(signing.v3_response_message(timestamp, nonce, body)),
        "Wechatpay-Signature-Type": SCHEMA,
    }


V2_TO_V3: dict[type[errors.WeChatError], type[errors.PayV3Error]] = {
    errors.LackParams: errors.V3ParamError,
    errors.ParamError: errors.V3ParamError,
    errors.InvalidRequest: errors.V3InvalidRequest,
    errors.AppidNotExist: errors.V3AppidMchidNotMatch,
    errors.AppidMchidNotMatch: errors.V3AppidMchidNotMatch,
    errors.MchidNotExist: errors.V3MchNotExists,
    errors.OutTradeNoUsed: errors.V3OutTradeNoUsed,
    errors.OrderPaid: errors.V3OrderPaid,
    errors.OrderClosed: errors.V3OrderClosed,
    errors.OrderNotExist: errors.V3OrderNotExist,
    errors.NotEnough: errors.V3NotEnough,
    errors.RefundNotExist: errors.V3ResourceNotExists,
    errors.TradeStateError: errors.V3InvalidRequest,
    errors.PaySystemError: errors.V3SystemError,
    errors.FrequencyLimited: errors.V3FrequencyLimited,
    errors.ContentSizeOutOfLimit: errors.V3InvalidRequest,
    errors.MalformedRequest: errors.V3InvalidRequest,
    errors.EmptyPostData: errors.V3ParamError,
}
"""The order book's errors as v3 answers them (its own wording where v2 had a specific `err_code_des`)."""


def as_v3(error: errors.WeChatError) -> errors.PayV3Error:
    """Any error as a v3 error: the order book's own, translated; anything else a 500 SYSTEM_ERROR."""
    if isinstance(error, errors.PayV3Error):
        return error
    if isinstance(error, errors.UnknownPath):
        return errors.V3NotFound(error.diagnostic)
    if isinstance(error, errors.RequirePostMethod | errors.RequireGetMethod):
        return errors.V3MethodNotAllowed(error.diagnostic)
    for kind, v3 in V2_TO_V3.items():
        if isinstance(error, kind):
            des = getattr(error, "des", "")
            generic = getattr(kind, "err_code_des", "")
            return v3(error.diagnostic, message=des if des and des != generic else None)
    return errors.V3SystemError(error.diagnostic)


def error_body(error: errors.PayV3Error) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.text}
    if error.detail is not None:
        body["detail"] = error.detail
    return body


# -- requests ----------------------------------------------------------------------------------------------


def json_object(body: str) -> dict[str, Any]:
    """The request body as a JSON object, or PARAM_ERROR."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError) as exc:
        raise errors.V3ParamError(f"the body is not JSON: {exc}", message="请求体不是有效的JSON") from None
    if not isinstance(data, dict):
        raise errors.V3ParamError("the body must be a JSON object", message="请求体不是有效的JSON")
    return data


def _string(data: Mapping[str, Any], name: str, *, required: bool = True, most: int | None = None) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise errors.V3ParamError(
                f"{name} is missing",
                message=f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败，此字段为必填项",
                detail={"field": f"/{name}", "location": "body"},
            )
        return ""
    if not isinstance(value, str):
        raise errors.V3ParamError(
            f"{name} must be a string, got {type(value).__name__}",
            message=f"输入源“/body/{name}”映射到字段“{name}”类型规则校验失败，此字段应为string类型",
            detail={"field": f"/{name}", "location": "body"},
        )
    if most is not None and len(value) > most:
        raise errors.V3ParamError(
            f"{name} is {len(value)} characters long; at most {most}",
            message=f"输入源“/body/{name}”映射到字段“{name}”长度规则校验失败，长度不能超过{most}",
            detail={"field": f"/{name}", "location": "body"},
        )
    return value


def _object(data: Mapping[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise errors.V3ParamError(
            f"{name} must be a JSON object",
            message=f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败，此字段为必填项",
            detail={"field": f"/{name}", "location": "body"},
        )
    return value


def _amount(data: Mapping[str, Any], path: str, name: str) -> int:
    """A whole number of fen: an integer JSON number (not a string) within WeChat's Int, above 0."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= orders.MAX_FEN:
        raise errors.V3ParamError(
            f"{path}/{name} must be a positive integer of fen no greater than {orders.MAX_FEN}, got {value!r}"[:300],
            message=f"输入源“/body{path}/{name}”映射到字段“{name}”校验失败，应为大于0的整数",
            detail={"field": f"{path}/{name}", "location": "body", "value": value if isinstance(value, int) else None},
        )
    return value


def _out_trade_no(value: str) -> str:
    if not OUT_TRADE_NO_MIN <= len(value) <= orders.OUT_TRADE_NO_MAX or not set(value) <= orders.OUT_TRADE_NO_CHARS:
        raise errors.V3ParamError(
            f"out_trade_no {orders.shown(value)}: 6 to 32 of [0-9A-Za-z_-|*]",
            message="输入源“/body/out_trade_no”映射到字段“商户订单号”字符串规则校验失败，字节数 "
            f"{len(value.encode())}，小于最小值 {OUT_TRADE_NO_MIN}，或含不支持的字符",
            detail={"field": "/out_trade_no", "location": "body"},
        )
    return value


def parse_rfc3339(value: str, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise errors.V3ParamError(
            f"{name} {value!r} is not RFC 3339 with a time zone (e.g. 2018-06-08T10:34:56+08:00)",
            message=f"输入源“/body/{name}”映射到字段“{name}”格式规则校验失败，应为rfc3339格式",
            detail={"field": f"/{name}", "location": "body"},
        )
    return parsed.timestamp()


def check_mchid(merchant: Merchant, data: Mapping[str, Any]) -> None:
    mchid = _string(data, "mchid")
    if mchid != merchant.mch_id:
        raise errors.V3ParamError(
            f"the body's mchid {mchid} is not the mchid of Authorization ({merchant.mch_id})",
            message="请求体中的mchid与请求头Authorization中的mchid不一致",
            detail={"field": "/mchid", "location": "body"},
        )


def order_request(pay: PayService, merchant: Merchant, trade_type: TradeType, data: Mapping[str, Any]) -> OrderRequest:
    """`/v3/pay/transactions/{jsapi,native,h5,app}`'s body as a new order, with v3's own field rules checked."""
    appid = _string(data, "appid", most=32)
    check_mchid(merchant, data)
    description = _string(data, "description", most=DESCRIPTION_MAX)
    out_trade_no = _out_trade_no(_string(data, "out_trade_no"))
    notify_url = _string(data, "notify_url", most=255)
    amount = _object(data, "amount")
    total = _amount(amount, "/amount", "total")
    currency = _string(amount, "currency", required=False) or "CNY"
    attach = _string(data, "attach", required=False, most=ATTACH_MAX)
    openid = ""
    if trade_type == TradeType.JSAPI:
        openid = _string(_object(data, "payer"), "openid", most=128)
    scene = _object(data, "scene_info", required=trade_type == TradeType.MWEB)
    payer_ip = _string(scene, "payer_client_ip", required=trade_type == TradeType.MWEB, most=45)
    if payer_ip:
        orders.check_ip("payer_client_ip", payer_ip)
    time_expire_text = _string(data, "time_expire", required=False, most=64)
    pay.check_appid(merchant, appid)
    orders.check_within_limit(total, merchant.single_payment_limit, merchant.mch_id)
    reentry = {
        "appid": appid,
        "description": description,
        "attach": attach,
        "total": str(total),
        "currency": currency,
        "trade_type": trade_type.value,
        "openid": openid,
        "notify_url": notify_url,
        "goods_tag": str(data.get("goods_tag") or ""),
    }
    return OrderRequest(
        merchant=merchant,
        appid=appid,
        out_trade_no=out_trade_no,
        description=description,
        total=total,
        trade_type=trade_type,
        notify_url=notify_url,
        payer_ip=payer_ip,
        openid=openid,
        attach=attach,
        fee_type=currency,
        time_expire=parse_rfc3339(time_expire_text, "time_expire") if time_expire_text else None,
        time_expire_text=time_expire_text,
        reentry=reentry,
        api=Api.V3,
        sign_type="RSA",
    )


def refund_request(pay: PayService, merchant: Merchant, data: Mapping[str, Any]) -> RefundRequest:
    """`/v3/refund/domestic/refunds`'s body as a refund of an order (by transaction_id or out_trade_no)."""
    transaction_id = _string(data, "transaction_id", required=False, most=32)
    out_trade_no = _string(data, "out_trade_no", required=not transaction_id, most=32)
    out_refund_no = _string(data, "out_refund_no", most=64)
    amount = _object(data, "amount")
    refund = _amount(amount, "/amount", "refund")
    total = _amount(amount, "/amount", "total")
    notify_url = _string(data, "notify_url", required=False, most=256)
    if notify_url:
        pay.check_notify_url(merchant, notify_url)
    order = pay.find(merchant.mch_id, transaction_id=transaction_id, out_trade_no=out_trade_no)
    funds = _string(data, "funds_account", required=False)
    return RefundRequest(
        order=order,
        out_refund_no=out_refund_no,
        total=total,
        refund=refund,
        notify_url=notify_url,
        refund_account="REFUND_SOURCE_RECHARGE_FUNDS" if funds == "AVAILABLE" else "REFUND_SOURCE_UNSETTLED_FUNDS",
        reason=_string(data, "reason", required=False, most=80),
    )


# -- bodies WeChat writes ------------------------------------------------------------------------------------


def payment_link(order: Order, now: float) -> dict[str, str]:
    """What a new order answers: the prepay_id, or the link its trade type opens (v2's `mweb_url` is `h5_url`)."""
    found = links.payment_links(order, now)
    if "mweb_url" in found:
        return {"h5_url": found["mweb_url"]}
    return found or {"prepay_id": order.prepay_id}


def transaction_json(order: Order) -> dict[str, Any]:
    """An order as v3's query answers it (and as TRANSACTION.SUCCESS's resource holds it)."""
    paid = order.trade_state in (TradeState.SUCCESS, TradeState.REFUND)
    body: dict[str, Any] = {
        "appid": order.appid,
        "mchid": order.mch_id,
        "out_trade_no": order.out_trade_no,
        "trade_state": order.trade_state,
        "trade_state_desc": STATE_DESC[TradeState(order.trade_state)],
        "attach": order.attach,
        "amount": {"total": order.total_fee, "currency": order.fee_type},
    }
    if order.transaction_id:
        body["transaction_id"] = order.transaction_id
    if order.trade_type:
        body["trade_type"] = order.trade_type
    if order.openid:
        body["payer"] = {"openid": order.openid}
    if paid:
        body["bank_type"] = order.bank_type
        body["success_time"] = times.rfc3339(order.paid_at or order.created_at)
        body["amount"].update(payer_total=order.cash_fee, payer_currency="CNY")
        body["promotion_detail"] = []
    return body


def refund_json(made: Refund) -> dict[str, Any]:
    """A refund as v3 answers its creation and its query."""
    return {
        "refund_id": made.refund_id,
        "out_refund_no": made.out_refund_no,
        "transaction_id": made.transaction_id,
        "out_trade_no": made.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": made.recv_account,
        "success_time": times.rfc3339(made.created_at),
        "create_time": times.rfc3339(made.created_at),
        "status": V3_REFUND_STATUS.get(made.status, "SUCCESS"),
        "funds_account": "AVAILABLE" if made.refund_account == "REFUND_SOURCE_RECHARGE_FUNDS" else "UNSETTLED",
        "amount": {
            "total": made.total_fee,
            "refund": made.refund_fee,
            "from": [],
            "payer_total": made.total_fee,
            "payer_refund": made.refund_fee,
            "settlement_refund": made.refund_fee,
            "settlement_total": made.total_fee,
            "discount_refund": 0,
            "currency": "CNY",
        },
        "promotion_detail": [],
    }


def certificates_json(keys: MerchantKeys, ids: Ids) -> dict[str, Any]:
    """`GET /v3/certificates`: the platform certificate, sealed with the merchant's API v3 key."""
    effective, expire = keys.platform_validity
    nonce = ids.nonce()[:12]
    return {
        "data": [
            {
                "serial_no": keys.platform_serial_no,
                "effective_time": times.rfc3339(effective),
                "expire_time": times.rfc3339(expire),
                "encrypt_certificate": {
                    "algorithm": signing.AEAD_AES_256_GCM,
                    "associated_data": "certificate",
                    "nonce": nonce,
                    "ciphertext": signing.aead_encrypt(keys.apiv3_key, nonce, "certificate", keys.platform_certificate),
                },
            }
        ]
    }


# -- notifications -----------------------------------------------------------------------------------------


REFUND_EVENTS = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}
V3_REFUND_STATUS = {"SUCCESS": "SUCCESS", "REFUNDCLOSE": "CLOSED", "PROCESSING": "PROCESSING", "CHANGE": "ABNORMAL"}
"""v2's refund_status in v3's words."""


def refund_resource(made: Refund) -> dict[str, Any]:
    """REFUND.*'s decrypted resource (PROTOCOL.md §7.10)."""
    return {
        "mchid": made.mch_id,
        "out_trade_no": made.out_trade_no,
        "transaction_id": made.transaction_id,
        "out_refund_no": made.out_refund_no,
        "refund_id": made.refund_id,
        "refund_status": V3_REFUND_STATUS.get(made.status, "SUCCESS"),
        "success_time": times.rfc3339(made.created_at),
        "user_received_account": made.recv_account,
        "amount": {
            "total": made.total_fee,
            "refund": made.refund_fee,
            "payer_total": made.total_fee,
            "payer_refund": made.refund_fee,
        },
    }


def render_notification(pay: PayService, keyring: MerchantKeyring, note: Notification) -> Outgoing:
    """What WeChat POSTs for a v3 notification now: the resource sealed with the API v3 key, the body signed."""
    order = pay.order(note.mch_id, note.out_trade_no)
    if order is None:
        raise errors.OrderNotExist(f"order {note.out_trade_no} is gone (reset?)")
    if note.kind == Kind.PAYMENT:
        event, summary, original = "TRANSACTION.SUCCESS", "支付成功", "transaction"
        resource = transaction_json(order)
    else:
        made = pay.refund(note.mch_id, note.out_refund_no)
        if made is None:
            raise errors.RefundNotExist(f"refund {note.out_refund_no} is gone (reset?)")
        resource = refund_resource(made)
        event, summary = REFUND_EVENTS.get(resource["refund_status"], REFUND_EVENTS["SUCCESS"])
        original = "refund"
    keys = keyring.keys(note.mch_id)
    genuine = _envelope(pay, keys, note, event, summary, original, resource)
    sent = genuine
    if note.tamper == Tamper.AMOUNT:  # the amount changed after WeChat signed: the signature no longer matches
        forged = dict(resource, amount=dict(resource["amount"], total=resource["amount"]["total"] + 1))
        sent = _envelope(
            pay, keys, note, event, summary, original, forged, nonce=json.loads(genuine)["resource"]["nonce"]
        )
    elif note.tamper == Tamper.CIPHERTEXT:  # signed as sent, but the sealed resource does not open
        envelope = json.loads(genuine)
        sealed = envelope["resource"]["ciphertext"]
        envelope["resource"]["ciphertext"] = ("A" if sealed[0] != "A" else "B") + sealed[1:]
        sent = genuine = dumps(envelope)
    signer = keyring.response_signer(note.mch_id)
    headers = signed_headers(signer, pay.ids, pay.clock.wall(), genuine, note.id)
    if note.tamper == Tamper.SIGN:
        headers["Wechatpay-Signature"] = signer.sign("forged by the sandbox: not WeChat's message")
    return Outgoing(body=sent, content_type=CONTENT_TYPE, headers=headers)


def _envelope(
    pay: PayService,
    keys: MerchantKeys,
    note: Notification,
    event: str,
    summary: str,
    original: str,
    resource: Mapping[str, Any],
    nonce: str | None = None,
) -> str:
    nonce = nonce or pay.ids.nonce()[:12]
    return dumps(
        {
            "id": note.id,
            "create_time": times.rfc3339(note.created_at),
            "resource_type": "encrypt-resource",
            "event_type": event,
            "summary": summary,
            "resource": {
                "original_type": original,
                "algorithm": signing.AEAD_AES_256_GCM,
                "ciphertext": signing.aead_encrypt(keys.apiv3_key, nonce, original, dumps(resource)),
                "associated_data": original,
                "nonce": nonce,
            },
        }
    )


def certificates_signer(keys: MerchantKeys) -> ResponseSigner:
    """`/v3/certificates` is signed by a certificate it lists, whatever the merchant's response signing."""
    return keys.signer(ResponseSigning.PLATFORM_CERTIFICATE)
