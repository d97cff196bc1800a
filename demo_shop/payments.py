"""The shop's API: wx.config signatures (steps 1–2), prepay (steps 3, 8), notifications (step 9), refunds."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from demo_shop.keys import PAY, SETTINGS, STATE, WECHAT
from demo_shop.signing import decrypt_req_info, verify
from demo_shop.trace import Step, Trace, masked
from demo_shop.web import json_response, keep, redirect, session_of, signed_in
from demo_shop.wechat import WeChatError, parse_xml, reply

routes = web.RouteTableDef()


def _json(trace: Trace, body: dict[str, Any], status: int = 200) -> web.Response:
    """Answers carry the steps they ran, so the page's training panel can show them."""
    steps = [{"number": s.number, "title": s.title, "what": s.what, "request": s.request,
              "response": s.response, "ok": s.ok, "code": s.code} for s in trace]  # fmt: skip
    return json_response({**body, "steps": steps}, status=status)


@routes.get("/api/jssdk-config")
async def jssdk_config(request: web.Request) -> web.Response:
    """Steps 1–2 (the seed's /api/Imp/WxShareHelp): a wx.config for the page URL the browser reports.

    `broken=hash` (the /broken page only) signs the URL with its #fragment, the mistake WeChat refuses."""
    trace: Trace = []
    url = request.query.get("url", "")
    keep_fragment = request.query.get("broken") == "hash"
    try:
        config = await request.app[WECHAT].jssdk_config(url, trace, keep_fragment=keep_fragment)
    except WeChatError as error:
        return _json(trace, {"error": str(error)}, 502)
    keep(session_of(request), trace)
    return _json(trace, config)


@routes.post("/api/jssdk-config/refresh")
async def refresh_jssdk(request: web.Request) -> web.Response:
    """After `config:invalid signature`: drop the cached ticket once, so the next signature uses a new one."""
    request.app[WECHAT].forget_ticket()
    return json_response({"ok": True})


@routes.post("/api/prepay/{out_trade_no}")
async def prepay(request: web.Request) -> web.Response:
    """Steps 3 and 8 (the seed's /api/Mall/H5PrePay): unified order for the signed-in user, then paySign."""
    trace: Trace = []
    session = await signed_in(request, trace)
    order = request.app[STATE].orders.get(request.match_info["out_trade_no"])
    if session is None or order is None or order.openid != session.openid:
        return _json(trace, {"error": "sign in, and pay your own order"}, 403)
    if order.status != "NEW":
        return _json(trace, {"error": f"the order is {order.status}"}, 409)
    trace.append(Step(3, "the payer's openid, from the session (signed in at steps 4–5, not here)",
                      {"out_trade_no": order.out_trade_no}, {"openid": session.openid}, True,
                      "demo_shop/payments.py"))  # fmt: skip
    pay = request.app[PAY]  # API v2 or v3, as the shop's settings say
    client_ip = request.remote or "127.0.0.1"
    try:
        prepay = await pay.unified_order(
            order.out_trade_no, order.product.name, order.total_fee, session.openid, client_ip, trace
        )
    except WeChatError as error:
        keep(session, trace)
        return _json(trace, {"error": str(error)}, 502)
    order.prepay_id = prepay.prepay_id
    request.app[STATE].orders.save(order)
    params = pay.pay_params(order.prepay_id, trace)
    keep(session, trace)
    return _json(trace, {"params": params, "unified_order_sign": prepay.answer_signature})


@routes.post("/notify/pay")
async def notify_pay(request: web.Request) -> web.Response:
    """Step 9: WeChat's payment notification. Verify the sign and the amount; fulfil once; answer SUCCESS."""
    state, settings = request.app[STATE], request.app[SETTINGS]
    text = await request.text()
    try:
        fields = parse_xml(text)
    except Exception:  # noqa: BLE001 - whatever arrives, the answer is WeChat's FAIL
        state.forged.append({"at": time.time(), "why": "not XML", "body": text[:500]})
        return web.Response(text=reply(False, "XML格式错误"), content_type="text/xml")
    order = state.orders.get(fields.get("out_trade_no", ""))
    why = ""
    if not verify(fields, settings.mch_key):
        why = "the sign does not verify"
    elif order is None:
        why = "no such order"
    elif fields.get("total_fee") != str(order.total_fee):
        why = f"total_fee {fields.get('total_fee')} is not the order's {order.total_fee}"
    if why or order is None:
        state.forged.append(
            {"at": time.time(), "why": why, "out_trade_no": fields.get("out_trade_no"), "body": masked(fields)}
        )
        return web.Response(text=reply(False, "签名失败" if "sign" in why else "参数错误"), content_type="text/xml")
    if state.fail_on_purpose():  # training switch on /admin: make WeChat retry a genuine notification
        return web.Response(text=reply(False, "training: failing on purpose"), content_type="text/xml")
    order.record_notification(fields.get("transaction_id", ""), paid=fields.get("result_code") == "SUCCESS")
    state.orders.save(order)  # before the SUCCESS: what the shop acknowledged survives a restart
    return web.Response(text=reply(True), content_type="text/xml")


@routes.post("/notify/refund")
async def notify_refund(request: web.Request) -> web.Response:
    """The refund notification: `req_info` decrypted with the API key, then recorded on the order."""
    state, settings = request.app[STATE], request.app[SETTINGS]
    try:
        outer = parse_xml(await request.text())
        inner = parse_xml(decrypt_req_info(outer["req_info"], settings.mch_key).replace("root>", "xml>"))
    except Exception:  # noqa: BLE001 - a forged or broken refund notification is refused
        state.forged.append({"at": time.time(), "why": "refund notification does not decrypt"})
        return web.Response(text=reply(False, "解密失败"), content_type="text/xml")
    order = state.orders.get(inner.get("out_trade_no", ""))
    if order is not None:
        for refund in order.refunds:
            if refund["out_refund_no"] == inner.get("out_refund_no"):
                refund["notified"] = inner.get("refund_status", "")
        state.orders.save(order)
    return web.Response(text=reply(True), content_type="text/xml")


@routes.post("/admin/refund/{out_trade_no}")
async def refund(request: web.Request) -> web.StreamResponse:
    """Refund all or part of a paid order through the refund API.

    A real admin page sits behind authentication; this demo only refuses forms posted by other sites."""
    if request.headers.get("Origin", request.app[SETTINGS].public_url) != request.app[SETTINGS].public_url:
        raise web.HTTPForbidden(text="refunds are posted from the shop's own admin page")
    orders = request.app[STATE].orders
    order = orders.get(request.match_info["out_trade_no"])
    if order is None:
        raise web.HTTPNotFound()
    form = await request.post()
    raw = str(form.get("amount") or order.total_fee - order.refunded)
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= order.total_fee - order.refunded:
        raise web.HTTPBadRequest(text=f"amount must be 1 to {order.total_fee - order.refunded} fen")
    amount = int(raw)
    out_refund_no = f"R{order.out_trade_no}{secrets.token_hex(3).upper()}"
    trace: Trace = []
    # Recorded before the call: WeChat's refund notification may arrive before the refund API answers.
    record: dict[str, Any] = {"out_refund_no": out_refund_no, "amount": amount, "notified": ""}
    order.refunds.append(record)
    order.refunded += amount  # reserved before the call, so two refunds at once cannot both take the rest
    orders.save(order)
    try:
        await request.app[PAY].refund(order.out_trade_no, out_refund_no, order.total_fee, amount, trace)
    except WeChatError as error:
        order.refunds.remove(record)
        order.refunded -= amount
        trace.append(Step(9, f"refund refused: {error}", None, None, False, "demo_shop/payments.py"))
    else:
        order.status = "REFUNDED" if order.refunded >= order.total_fee else "PARTIALLY_REFUNDED"
    orders.save(order)
    return redirect(request, "/admin", trace, status=303)


@routes.post("/admin/fail-next-notification")
async def fail_next_notification(request: web.Request) -> web.StreamResponse:
    """Training: answer the next payment notification with FAIL; WeChat retries 15 s later (sandbox clock)."""
    if request.headers.get("Origin", request.app[SETTINGS].public_url) != request.app[SETTINGS].public_url:
        raise web.HTTPForbidden(text="posted from the shop's own admin page only")
    request.app[STATE].fail_next_notifications += 1
    return web.Response(status=303, headers={"Location": "/admin"})
