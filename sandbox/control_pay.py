"""The control API's pay side: orders, paying them as a script, notifications and their resending."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat import errors
from mock_wechat.keys import ACCOUNTS, PAY
from mock_wechat.pay import resend as resending
from mock_wechat.pay.notifications import Notification, Tamper
from mock_wechat.pay.orders import STATE_DESC, Order, Outcome, TradeState
from mock_wechat.pay.refunds import Refund
from sandbox.control import api_error, read_json

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
    return web.json_response(body, status=status)


@routes.get("/_sandbox/api/orders")
async def list_orders(request: web.Request) -> web.Response:
    mch_id = request.query.get("mch_id")
    pay = request.app[PAY]
    return web.json_response({"orders": [order_json(o) for o in pay.orders_of(mch_id)]})


@routes.get("/_sandbox/api/orders/{mch_id}/{out_trade_no}")
async def get_order(request: web.Request) -> web.Response:
    pay = request.app[PAY]
    mch_id, out_trade_no = request.match_info["mch_id"], request.match_info["out_trade_no"]
    order = pay.order(mch_id, out_trade_no)
    if order is None:
        return api_error(404, f"merchant {mch_id} has no order {out_trade_no!r}")
    return web.json_response({**order_json(order), "refunds": [refund_json(r) for r in pay.refunds_of(order)]})


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
    return web.json_response(answer)


@routes.get("/_sandbox/api/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    out_trade_no = request.query.get("out_trade_no")
    found = [n for n in request.app[PAY].book.all() if out_trade_no is None or n.out_trade_no == out_trade_no]
    return web.json_response({"notifications": [notification_json(n) for n in found]})


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
    return web.json_response({"notifications": [notification_json(n) for n in copies]}, status=201)
