"""Buyers outside WeChat: a QR code on a desktop (NATIVE), H5 pay in a phone's browser (MWEB), the shop's app (APP),
and a product's permanent code whose scan WeChat reports to /native/callback (NATIVE mode 1)."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import segno
from aiohttp import web

from demo_shop import signing_v3
from demo_shop import state as catalogue
from demo_shop.keys import PAY, SETTINGS, STATE, WECHAT
from demo_shop.signing import pay_sign, verify
from demo_shop.trace import Step, Trace, masked
from demo_shop.web import json_response, redirect, render, session_of
from demo_shop.wechat import WeChatError, nonce, parse_xml

routes = web.RouteTableDef()
MOBILE = re.compile(r"Mobile|Android|iPhone|iPad", re.IGNORECASE)
BROKEN = {
    "h5-redirect": "H5 pay with a redirect_url outside the H5 pay domain: the seed's note 7, redirectUrl不正确",
    "app-sign": "APP parameters signed the JSAPI way (appId, timeStamp, nonceStr, package=prepay_id=…): note 6",
}
WRONG_REDIRECT = "https://qzone.eyee.com/result"
"""The seed's note 7 test domain: not this shop's H5 pay domain."""


def way_of(user_agent: str) -> str:
    """How a real shop lets this browser pay: JSAPI inside WeChat, H5 pay on a phone, a QR code on a desktop."""
    if "micromessenger" in user_agent.lower():
        return "JSAPI"
    return "MWEB" if MOBILE.search(user_agent) else "NATIVE"


def qr_svg(text: str) -> str:
    """The code as an inline SVG (segno: a well-kept QR code library), for the buyer's phone to scan."""
    return str(segno.make(text, error="m", micro=False).svg_inline(scale=5, border=4))


def _own_order(request: web.Request) -> catalogue.Order:
    order = request.app[STATE].orders.get(request.match_info["out_trade_no"])
    session = session_of(request)
    if order is None or not (order.owner == session.id or (order.openid and order.openid == session.openid)):
        raise web.HTTPNotFound(text="no such order")
    return order


@routes.post("/orders/guest")
async def guest_order(request: web.Request) -> web.StreamResponse:
    """A buyer who did not sign in with WeChat (outside WeChat there is no WeChat sign-in): pay by QR code or H5."""
    form = await request.post()
    item = catalogue.product(str(form.get("product", "")))
    if item is None:
        raise web.HTTPBadRequest(text="unknown product")
    order = request.app[STATE].new_order(item, session_of(request))
    return redirect(request, f"/pay/{order.out_trade_no}")


@routes.get("/pay/{out_trade_no}")
async def pay_page(request: web.Request) -> web.StreamResponse:
    """The checkout of a buyer outside WeChat, the way picked by the browser's user agent."""
    order = _own_order(request)
    if order.status != "NEW":
        return redirect(request, f"/result/{order.out_trade_no}")
    way, broken = way_of(request.headers.get("User-Agent", "")), request.query.get("broken", "")
    trace: Trace = [
        Step(7, f"the browser's user agent picks the way: {way}", None, {"way": way}, True, "demo_shop/outside.py")
    ]
    if way == "JSAPI":
        return render(request, "message.html", trace, title="Inside WeChat",
                      text="Inside WeChat the shop pays with JSAPI: sign in with WeChat and buy again.")  # fmt: skip
    if way == "MWEB":
        return render(request, "h5.html", trace, order=order, broken=broken, broken_text=BROKEN.get(broken, ""))
    try:
        link = await request.app[PAY].native_order(
            order.out_trade_no, order.product.name, order.total_fee, order.product.id, request.remote or "", trace
        )
    except WeChatError as error:
        return render(request, "message.html", trace, title="WeChat Pay refused", text=str(error))
    order.prepay_id = link.prepay_id
    request.app[STATE].orders.save(order)
    settings = request.app[SETTINGS]
    phone = f"{settings.bridge_url}/_sandbox/phone?code_url={quote(link.url, safe='')}" if settings.bridge_url else ""
    return render(request, "native.html", trace, order=order, code_url=link.url, qr=qr_svg(link.url), phone=phone)


@routes.post("/pay/{out_trade_no}/h5")
async def start_h5(request: web.Request) -> web.StreamResponse:
    """H5 pay: the MWEB order for this browser's IP, then a server-side redirect to mweb_url with redirect_url (the
    page WeChat sends the browser back to). The browser keeps this page as its Referer, as WeChat requires."""
    order = _own_order(request)
    trace: Trace = []
    try:
        link = await request.app[PAY].h5_order(
            order.out_trade_no, order.product.name, order.total_fee, request.remote or "", trace
        )
    except WeChatError as error:
        return render(request, "message.html", trace, title="WeChat Pay refused", text=str(error))
    order.prepay_id = link.prepay_id
    request.app[STATE].orders.save(order)
    back = f"{request.app[SETTINGS].public_url}/result/{order.out_trade_no}"
    if request.query.get("broken") == "h5-redirect":
        back = f"{WRONG_REDIRECT}/{order.out_trade_no}"  # wrong on purpose: not the shop's H5 pay domain
    location = f"{link.url}&redirect_url={quote(back, safe='')}"
    trace.append(Step(7, "send the browser to WeChat's H5 cashier (redirect_url URL-encoded)", {"redirect_url": back},
                      {"Location": location}, True, "demo_shop/outside.py"))  # fmt: skip
    return redirect(request, location, trace, status=303)


@routes.get("/api/orders/{out_trade_no}")
async def order_status(request: web.Request) -> web.Response:
    """What the QR page polls: the shop's own record; `?ask=1` also asks WeChat (order query) while it is NEW."""
    order = _own_order(request)
    if order.status == "NEW" and request.query.get("ask") == "1":
        try:
            trade = await request.app[PAY].order_query(order.out_trade_no, [])
        except WeChatError:
            trade = None
        if trade is not None and trade.trade_state == "SUCCESS" and trade.total == order.total_fee:
            order.mark_paid(trade.transaction_id, "order query")
            request.app[STATE].orders.save(order)
    return json_response({"out_trade_no": order.out_trade_no, "status": order.status})


# -- the shop's app (APP pay) --------------------------------------------------------------------------------------


@routes.get("/app/{out_trade_no}")
async def app_page(request: web.Request) -> web.StreamResponse:
    """What the shop's server gives its app: the APP order, and the parameters for WeChat's SDK (PayReq)."""
    order = _own_order(request)
    trace: Trace = []
    pay, settings = request.app[PAY], request.app[SETTINGS]
    try:
        prepay_id = await pay.app_order(
            order.out_trade_no, order.product.name, order.total_fee, request.remote or "127.0.0.1", trace
        )
    except WeChatError as error:
        return render(request, "message.html", trace, title="WeChat Pay refused", text=str(error))
    params = pay.app_params(prepay_id, trace)
    broken = request.query.get("broken", "")
    if broken == "app-sign":  # wrong on purpose: JSAPI's fields and sign string
        params["sign"] = jsapi_sign(request, params)
    sandbox_app = f"{settings.bridge_url}/_sandbox/app?params={quote(json_text(params), safe='')}"
    return render(request, "app.html", trace, order=order, params=params, sandbox_app=sandbox_app,
                  broken=broken, broken_text=BROKEN.get(broken, ""))  # fmt: skip


def json_text(params: dict[str, str]) -> str:
    from demo_shop.web import json_text as text

    return text(params, indent=1)


def jsapi_sign(request: web.Request, params: dict[str, str]) -> str:
    """The note 6 mistake: the JSAPI paySign (appId, timeStamp, nonceStr, package=prepay_id=…) used for APP."""
    settings = request.app[SETTINGS]
    package = f"prepay_id={params['prepayid']}"
    if settings.pay_api == "v3" and settings.v3 is not None:
        key = signing_v3.load_private_key(settings.v3.private_key)
        return signing_v3.pay_sign(key, params["appid"], params["timestamp"], params["noncestr"], package)
    jsapi = {"appId": params["appid"], "timeStamp": params["timestamp"], "nonceStr": params["noncestr"],
             "package": package, "signType": settings.sign_type}  # fmt: skip
    return pay_sign(jsapi, settings.mch_key, settings.sign_type)


# -- scan to pay, mode 1: a product's permanent code -----------------------------------------------------------


@routes.get("/products/{product}/code")
async def product_code(request: web.Request) -> web.StreamResponse:
    """A product's printed code (mode 1): no order yet; WeChat asks /native/callback for one when it is scanned."""
    item = catalogue.product(request.match_info["product"])
    if item is None:
        raise web.HTTPNotFound()
    url = request.app[WECHAT].bizpayurl(item.id)
    return render(request, "product_code.html", None, product=item, code_url=url, qr=qr_svg(url))


def callback_reply(request: web.Request, **fields: str) -> web.Response:
    """The scan-pay callback's answer, signed with the API key like any v2 message."""
    settings = request.app[SETTINGS]
    answer = {"return_code": "SUCCESS", "appid": settings.appid, "mch_id": settings.mch_id, "nonce_str": nonce()}
    answer |= fields
    answer["sign"] = pay_sign(answer, settings.mch_key)
    body = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in answer.items()) + "</xml>"
    return web.Response(text=body, content_type="text/xml")


@routes.post("/native/callback")
async def native_callback(request: web.Request) -> web.Response:
    """Mode 1: WeChat says who scanned which product. Verify, place the NATIVE order for that openid, answer its
    prepay_id (or FAIL with err_code_des, which WeChat shows the payer)."""
    settings, state = request.app[SETTINGS], request.app[STATE]
    try:
        fields = parse_xml(await request.text())
    except Exception:  # noqa: BLE001 - whatever arrives, the answer is a FAIL
        return web.Response(text="<xml><return_code>FAIL</return_code></xml>", content_type="text/xml")
    if not verify(fields, settings.mch_key) or fields.get("mch_id") != settings.mch_id:
        state.forged.append(
            {"at": time.time(), "why": "scan-pay callback not signed by WeChat", "body": masked(fields)}
        )
        return web.Response(
            text="<xml><return_code>FAIL</return_code><return_msg>签名失败</return_msg></xml>", content_type="text/xml"
        )
    item = catalogue.product(fields.get("product_id", ""))
    if item is None:
        return callback_reply(request, result_code="FAIL", err_code_des="商品不存在")
    order = state.new_scanned_order(item, fields.get("openid", ""))
    try:
        link = await request.app[WECHAT].native_order(
            order.out_trade_no, item.name, item.price, item.id, request.remote or "127.0.0.1", [], openid=order.openid
        )
    except WeChatError as error:
        return callback_reply(request, result_code="FAIL", err_code_des=error.message or "下单失败")
    order.prepay_id = link.prepay_id
    state.orders.save(order)
    return callback_reply(request, prepay_id=link.prepay_id, result_code="SUCCESS")
