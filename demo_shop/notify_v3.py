"""API v3 notifications: signature checked with WeChat Pay's key, resource decrypted, amount checked, fulfilled once."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from demo_shop.keys import NOTIFICATIONS_V3, SETTINGS, STATE
from demo_shop.web import json_response
from demo_shop.wechat_v3 import Notification, Refused

routes = web.RouteTableDef()


def acknowledge() -> web.Response:
    """API v3's SUCCESS: HTTP 200 or 204, no body needed."""
    return web.Response(status=204)


def refuse(status: int, message: str) -> web.Response:
    """API v3's FAIL: a 4xx/5xx with `{"code": "FAIL", "message": …}`; WeChat Pay retries later."""
    return json_response({"code": "FAIL", "message": message}, status=status)


def envelope_id(body: str) -> str:
    """The notification's `id`, to list a refused one (read only for that: nothing in it is trusted)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return ""
    return str(envelope.get("id", ""))[:64] if isinstance(envelope, dict) else ""


async def opened(request: web.Request) -> Notification | web.Response:
    """The notification, verified and decrypted, or the refusal to answer (listed on /admin)."""
    body = (await request.read()).decode("utf-8", errors="replace")  # the signature covers these exact bytes
    try:
        return request.app[NOTIFICATIONS_V3].open(request.headers, body)
    except Refused as refused:
        request.app[STATE].forged.append(
            {"at": time.time(), "why": refused.why, "out_trade_no": "", "notification": envelope_id(body)}
        )
        return refuse(refused.status, "签名验证失败" if refused.status == 401 else "解密失败")


def not_ours(request: web.Request, resource: dict[str, Any]) -> str:
    """Why a genuine resource is not for this shop's merchant and appid, or ""."""
    settings = request.app[SETTINGS]
    if resource.get("mchid") != settings.mch_id:
        return f"mchid {resource.get('mchid')} is not this shop's {settings.mch_id}"
    if "appid" in resource and resource["appid"] != settings.appid:
        return f"appid {resource.get('appid')} is not this shop's {settings.appid}"
    return ""


@routes.post("/notify/v3/pay")
async def notify_pay(request: web.Request) -> web.Response:
    """Step 9 over API v3: TRANSACTION.SUCCESS. Verify, decrypt, check the amount; fulfil once; answer 204."""
    note = await opened(request)
    if isinstance(note, web.Response):
        return note
    state, resource = request.app[STATE], note.resource
    if note.event_type != "TRANSACTION.SUCCESS":  # genuine, but nothing to do: acknowledged so it is not resent
        return acknowledge()
    order = state.orders.get(str(resource.get("out_trade_no", "")))
    amount = resource.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    why = not_ours(request, resource)
    if not why and order is None:
        why = "no such order"
    elif not why and order is not None and total != order.total_fee:
        why = f"amount.total {total} is not the order's {order.total_fee}"
    if why or order is None:
        state.forged.append(
            {"at": time.time(), "why": why, "out_trade_no": resource.get("out_trade_no"), "notification": note.id}
        )
        return refuse(400, "参数错误")
    if state.fail_on_purpose():  # training switch on /admin: make WeChat retry a genuine notification
        return refuse(500, "training: failing on purpose")
    order.record_notification(str(resource.get("transaction_id", "")), paid=resource.get("trade_state") == "SUCCESS")
    state.orders.save(order)  # before the 204: what the shop acknowledged survives a restart
    return acknowledge()


@routes.post("/notify/v3/refund")
async def notify_refund(request: web.Request) -> web.Response:
    """REFUND.SUCCESS / ABNORMAL / CLOSED over API v3: verified and decrypted like a payment's, then recorded."""
    note = await opened(request)
    if isinstance(note, web.Response):
        return note
    resource = note.resource
    why = not_ours(request, resource)
    if why:
        request.app[STATE].forged.append({"at": time.time(), "why": why, "notification": note.id})
        return refuse(400, "参数错误")
    orders = request.app[STATE].orders
    order = orders.get(str(resource.get("out_trade_no", "")))
    if order is not None:
        for refund in order.refunds:
            if refund["out_refund_no"] == resource.get("out_refund_no"):
                refund["notified"] = str(resource.get("refund_status", ""))
        orders.save(order)
    return acknowledge()
