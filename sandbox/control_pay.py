"""The control API's pay side: orders, paying them as a script, notifications and their resending."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat import errors
from mock_wechat.keys import ACCOUNTS, IDS, PAY
from mock_wechat.pay import resend as resending
from mock_wechat.pay.notifications import Notification, Tamper
from mock_wechat.pay.orders import STATE_DESC, Order, Outcome, TradeState
from mock_wechat.pay.refunds import Refund, RefundRequest
from sandbox.control import api_error, read_json
from sandbox.json_text import json_response

routes = web.RouteTableDef()


def refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_fee": refund.refund_fee,
        "total_fee": refund.total_fee,
        "status": refund.status,
        "success_time": refund.success_time,
        "notify_url": refund.notify_url,
    }


def order_json(order: Order) -> dict[str, Any]:
    return {
        "mch_id": order.mch_id,
        "appid": order.appid,
        "out_trade_no": order.out_trade_no,
        "trade_state": order.trade_state,
        "trade_state_desc": STATE_DESC[TradeState(order.trade_state)],
        "total_fee": order.total_fee,
        "openid": order.openid,
        "user": order.user_id or None,
        "transaction_id": order.transaction_id or None,
        "prepay_id": order.prepay_id,
        "prepay_expires_at": order.prepay_expires_at,
        "trade_type": order.trade_type,
        "body": order.body,
        "attach": order.attach,
        "notify_url": order.notify_url,
        "time_end": order.time_end or None,
        "created_at": order.created_at,
        "refunded_fee": order.refunded_fee,
        "sign_type": order.sign_type,
        "sandbox": order.sandbox,
        "api": order.api,
    }


def notification_json(note: Notification) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.kind,
        "mch_id": note.mch_id,
        "out_trade_no": note.out_trade_no,
        "out_refund_no": note.out_refund_no or None,
        "notify_url": note.notify_url,
        "status": note.status,
        "attempts": note.attempts,
        "next_at": note.next_at,
        "created_at": note.created_at,
        "body": note.body,
        "note": note.note,
        "api": note.api,
    }


def pay_error(error: errors.WeChatError) -> web.Response:
    """404 for what is gone, 400 for a request that cannot apply (PARAM_ERROR), 409 for the order's state."""
    if isinstance(error, errors.OrderNotExist | errors.RefundNotExist):
        status = 404
    elif isinstance(error, errors.ParamError):
        status = 400
    else:
        status = 409
    body: dict[str, Any] = {"error": str(getattr(error, "des", "")) or type(error).__name__}
    body["err_code"] = error.wire_code
    body["diagnostic"] = error.diagnostic
    return json_response(body, status=status)


ORDER_FILTERS = ("mch_id", "state", "payer", "out_trade_no")


@routes.get("/_sandbox/api/orders")
async def list_orders(request: web.Request) -> web.Response:
    """`?mch_id=&state=&payer=&out_trade_no=`: the orders matching every filter given, oldest first."""
    unknown = sorted(set(request.query) - set(ORDER_FILTERS))
    if unknown:
        return api_error(400, f"unknown filters {unknown}; filters: {list(ORDER_FILTERS)}")
    state = request.query.get("state")
    if state is not None and state.upper() not in TradeState.__members__:
        return api_error(400, f"state must be one of: {', '.join(TradeState.__members__)}")
    payer = request.query.get("payer")
    found = [
        o
        for o in request.app[PAY].orders_of(request.query.get("mch_id"))
        if (state is None or o.trade_state == state.upper())
        and (payer is None or payer in (o.user_id, o.openid))
        and request.query.get("out_trade_no", o.out_trade_no) == o.out_trade_no
    ]
    return json_response({"orders": [order_json(o) for o in found]})


@routes.post("/_sandbox/api/orders/{mch_id}/{out_trade_no}/close")
async def close_order(request: web.Request) -> web.Response:
    """Close an unpaid order as the merchant's closeorder would (409 when it is paid or closed already)."""
    try:
        order = request.app[PAY].close(request.match_info["mch_id"], request.match_info["out_trade_no"])
    except errors.WeChatError as exc:
        return pay_error(exc)
    return json_response(order_json(order))


@routes.post("/_sandbox/api/orders/{mch_id}/{out_trade_no}/refund")
async def refund_order(request: web.Request) -> web.Response:
    """Refund a paid order as the merchant's refund call would: `{"amount": fen}` (default: all that is left),
    `"out_refund_no"` (default: made up), `"notify_url"` (default: none, so no refund notification)."""
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    unknown = sorted(set(body) - {"amount", "out_refund_no", "notify_url", "reason"})
    if unknown:
        return api_error(400, f"unknown fields {unknown}; allowed: amount, out_refund_no, notify_url, reason")
    pay = request.app[PAY]
    mch_id, out_trade_no = request.match_info["mch_id"], request.match_info["out_trade_no"]
    order = pay.order(mch_id, out_trade_no)
    if order is None:
        return api_error(404, f"merchant {mch_id} has no order {out_trade_no!r}")
    amount = body.get("amount", order.remaining_refundable)
    if isinstance(amount, bool) or not isinstance(amount, int):
        return api_error(400, "amount must be a whole number of fen")
    texts = {name: body.get(name, "") for name in ("out_refund_no", "notify_url", "reason")}
    if not all(isinstance(value, str) for value in texts.values()):
        return api_error(400, "out_refund_no, notify_url and reason must be strings")
    out_refund_no = str(texts["out_refund_no"]) or f"R{request.app[IDS].nonce()[:24]}"
    wanted = RefundRequest(
        order=order,
        out_refund_no=out_refund_no,
        total=order.total_fee,
        refund=amount,
        notify_url=str(texts["notify_url"]),
        reason=str(texts["reason"]),
    )
    try:
        refund, order = pay.make_refund(wanted)
    except errors.WeChatError as exc:
        return pay_error(exc)
    return json_response({**order_json(order), "refund": refund_json(refund)}, status=201)


@routes.get("/_sandbox/api/orders/{mch_id}/{out_trade_no}")
async def get_order(request: web.Request) -> web.Response:
    pay = request.app[PAY]
    mch_id, out_trade_no = request.match_info["mch_id"], request.match_info["out_trade_no"]
    order = pay.order(mch_id, out_trade_no)
    if order is None:
        return api_error(404, f"merchant {mch_id} has no order {out_trade_no!r}")
    return json_response({**order_json(order), "refunds": [refund_json(r) for r in pay.refunds_of(order)]})


@routes.post("/_sandbox/api/orders/{mch_id}/{out_trade_no}/pay")
async def pay_order(request: web.Request) -> web.Response:
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        return api_error(400, "user must be a user id")
    try:
        outcome = Outcome(body.get("outcome", "success"))
    except ValueError:
        return api_error(400, "outcome must be one of: " + ", ".join(o.value for o in Outcome))
    try:
        order = request.app[PAY].pay(request.match_info["mch_id"], request.match_info["out_trade_no"], user, outcome)
    except errors.WeChatError as exc:
        return pay_error(exc)
    payer = request.app[ACCOUNTS].user(order.user_id) if order.user_id else None
    answer = order_json(order)
    answer["payer"] = None if payer is None else {"id": payer.id, "balance": payer.balance}
    return json_response(answer)


@routes.get("/_sandbox/api/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    out_trade_no = request.query.get("out_trade_no")
    found = [n for n in request.app[PAY].book.all() if out_trade_no is None or n.out_trade_no == out_trade_no]
    return json_response({"notifications": [notification_json(n) for n in found]})


@routes.post("/_sandbox/api/notifications/{id}/resend")
async def resend(request: web.Request) -> web.Response:
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    duplicate = body.get("duplicate", False)
    if not isinstance(duplicate, bool):
        return api_error(400, "duplicate must be true or false")
    tamper = body.get("tamper")
    try:
        forged = None if tamper is None else Tamper(tamper)
    except ValueError:
        return api_error(400, 'tamper must be "sign", "amount" or "ciphertext" (API v3 notifications)')
    if request.app[PAY].book.get(request.match_info["id"]) is None:
        return api_error(404, f"no notification {request.match_info['id']!r}")
    try:
        copies = resending.resend(request.app[PAY], request.match_info["id"], duplicate=duplicate, tamper=forged)
    except errors.WeChatError as exc:
        return pay_error(exc)
    return json_response({"notifications": [notification_json(n) for n in copies]}, status=201)
