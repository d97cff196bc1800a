"""api.mch.weixin.qq.com API v2 (XML): orders, refunds, bills, and the sandbox prefixes with getsignkey."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from mock_wechat.dialects import Wire, speaks, v2_response
from mock_wechat.keys import BODY_FIELDS, IDS, KEYRING, NOTES, PAY, V2_SIGNER
from mock_wechat.pay import bills, links, mutual_tls, v2_dialect, v2_xml
from mock_wechat.pay.orders import STATE_DESC, Order, TradeState
from mock_wechat.pay.refunds import Refund
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v2_dialect import Signer
from mock_wechat.surfaces import cashier

Payload = dict[str, str | int]
Operation = Callable[[PayService, Signer, Mapping[str, str]], Payload | str | bytes]

SECAPI = "/secapi/"
"""Paths WeChat serves with mutual TLS only (the merchant's API certificate)."""
SANDBOX_PREFIXES = ("/sandboxnew", "/xdc/apiv2sandbox")
GETSIGNKEY_PATHS = ("/sandboxnew/pay/getsignkey", "/xdc/apiv2getsignkey/sign/getsignkey")


def _present(fields: Payload) -> Payload:
    """WeChat leaves out what does not apply: empty strings are dropped."""
    return {k: v for k, v in fields.items() if v != ""}


def unifiedorder(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Payload:
    order = pay.place_order(v2_dialect.order_request(pay, signer, fields))
    payload: Payload = {"device_info": fields.get("device_info", ""), "trade_type": order.trade_type}
    payload["prepay_id"] = order.prepay_id
    payload.update(links.payment_links(order, pay.clock.now()))
    return _present(payload)


def order_payload(order: Order) -> Payload:
    paid = order.trade_state in (TradeState.SUCCESS, TradeState.REFUND)
    payload: Payload = {
        "device_info": order.device_info,
        "openid": order.openid,
        "is_subscribe": "N" if order.openid else "",
        "trade_type": order.trade_type,
        "trade_state": order.trade_state,
        "bank_type": order.bank_type if paid else "",
        "total_fee": order.total_fee,
        "fee_type": order.fee_type,
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "attach": order.attach,
        "time_end": order.time_end,
        "trade_state_desc": STATE_DESC[TradeState(order.trade_state)],
    }
    if paid:
        payload["cash_fee"] = order.cash_fee
        payload["cash_fee_type"] = "CNY"
    return _present(payload)


def orderquery(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Payload:
    pay.check_appid(signer.merchant, fields.get("appid", ""))
    return order_payload(v2_dialect.find(pay, signer, fields))


def closeorder(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Payload:
    pay.check_appid(signer.merchant, fields.get("appid", ""))
    v2_dialect.require(fields, "out_trade_no")
    pay.close(signer.merchant.mch_id, fields["out_trade_no"])
    return {"result_msg": "OK"}


def refund(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Payload:
    made, order = pay.make_refund(v2_dialect.refund_request(pay, signer, fields))
    return _present(
        {
            "transaction_id": made.transaction_id,
            "out_trade_no": made.out_trade_no,
            "out_refund_no": made.out_refund_no,
            "refund_id": made.refund_id,
            "refund_channel": "",
            "refund_fee": made.refund_fee,
            "coupon_refund_fee": 0,
            "total_fee": made.total_fee,
            "cash_fee": order.cash_fee,
            "coupon_refund_count": 0,
            "cash_refund_fee": made.refund_fee,
        }
    )


def _refund_n(n: int, made: Refund) -> Payload:
    return {
        f"out_refund_no_{n}": made.out_refund_no,
        f"refund_id_{n}": made.refund_id,
        f"refund_channel_{n}": "ORIGINAL",
        f"refund_fee_{n}": made.refund_fee,
        f"settlement_refund_fee_{n}": made.refund_fee,
        f"refund_status_{n}": made.status,
        f"refund_account_{n}": made.refund_account,
        f"refund_recv_accout_{n}": made.recv_account,
        f"refund_success_time_{n}": made.success_time,
    }


def refundquery(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> Payload:
    order, made = v2_dialect.refundquery(pay, signer, fields)
    payload: Payload = {
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "total_fee": order.total_fee,
        "cash_fee": order.cash_fee,
        "fee_type": order.fee_type,
        "total_refund_count": len(made),
        "refund_count": len(made),
    }
    for n, each in enumerate(made):
        payload.update(_refund_n(n, each))
    return payload


def downloadbill(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> str | bytes:
    """The CSV as text, or gzip-compressed with `tar_type=GZIP`."""
    csv = bills.downloadbill(pay, signer, fields)
    return gzip.compress(csv.encode(), mtime=0) if fields.get("tar_type") == "GZIP" else csv


OPERATIONS: dict[str, Operation] = {
    "/pay/unifiedorder": unifiedorder,
    "/pay/orderquery": orderquery,
    "/pay/closeorder": closeorder,
    "/secapi/pay/refund": refund,
    "/pay/refundquery": refundquery,
    "/pay/downloadbill": downloadbill,
}
SANDBOX_ALIASES = {"/pay/refund": refund}
"""The official sandbox documented refund without `/secapi` too."""


async def read_fields(request: web.Request) -> dict[str, str]:
    fields = v2_xml.parse(await request.read())
    request[BODY_FIELDS] = fields
    return fields


def handler(operation: Operation, sandbox: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        fields = await read_fields(request)
        pay = request.app[PAY]
        signer = v2_dialect.authenticate(pay, fields, sandbox)
        request[V2_SIGNER] = signer
        if SECAPI in request.path:  # with the sandbox prefixes too
            over_tls, certificate = mutual_tls.presented(request)
            mch_id = signer.merchant.mch_id
            note = mutual_tls.secapi_note(over_tls, certificate, mch_id, request.app[KEYRING].certificates())
            if note is not None:
                request[NOTES].append(note)
        result = operation(pay, signer, fields)
        if isinstance(result, str):
            return web.Response(text=result, content_type="text/plain", charset="utf-8")
        if isinstance(result, bytes):
            return web.Response(body=result, content_type="application/x-gzip")
        answer: Payload = {"return_code": "SUCCESS", "return_msg": "OK"}
        if fields.get("appid"):
            answer["appid"] = fields["appid"]
        answer.update(mch_id=signer.merchant.mch_id, nonce_str=request.app[IDS].nonce(), result_code="SUCCESS")
        if "mweb_url" in result:  # where this merchant's browsers reach the cashier
            result["mweb_url"] = cashier.link_for(request, str(result["mweb_url"]))
        answer.update(result)
        signed = v2_xml.sign_fields(answer, signer.key, signer.sign_type)
        if operation is unifiedorder:  # remembered, so a page that reuses it as paySign can be told
            pay.note_answer_sign(signer.merchant.mch_id, fields["out_trade_no"], str(signed["sign"]))
        return v2_response(v2_xml.render(signed))

    handle.__name__ = operation.__name__
    return speaks(Wire.V2)(handle)


@speaks(Wire.V2)
async def getsignkey(request: web.Request) -> web.Response:
    fields = await read_fields(request)
    merchant, key = v2_dialect.getsignkey(request.app[PAY], fields)
    body = {"return_code": "SUCCESS", "return_msg": "ok", "mch_id": merchant.mch_id, "sandbox_signkey": key}
    return v2_response(v2_xml.render(body))


def add_routes(app: web.Application) -> None:
    for path, operation in OPERATIONS.items():
        app.router.add_post(path, handler(operation, sandbox=False))
        for prefix in SANDBOX_PREFIXES:
            app.router.add_post(prefix + path, handler(operation, sandbox=True))
    for path, operation in SANDBOX_ALIASES.items():
        for prefix in SANDBOX_PREFIXES:
            app.router.add_post(prefix + path, handler(operation, sandbox=True))
    for path in GETSIGNKEY_PATHS:
        app.router.add_post(path, getsignkey)
