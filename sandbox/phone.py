"""`/_sandbox/phone`: the payer's phone for scan to pay: choose the user, scan a code_url (pasted, picked from the
open NATIVE orders, or read from an uploaded picture), then WeChat's pay sheet. `/_sandbox/app`: an app handing
WeChat's SDK the APP pay parameters its server made."""

from __future__ import annotations

from aiohttp import web

from mock_wechat.keys import ACCOUNTS, PAY
from mock_wechat.middleware import MAX_BODY
from mock_wechat.pay import links
from mock_wechat.pay.orders import TradeState, TradeType
from mock_wechat.surfaces.oauth import USER_COOKIE
from sandbox import qr
from sandbox.console import CONSOLE_TEMPLATES

routes = web.RouteTableDef()
MAX_PICTURE = MAX_BODY
"""The largest picture the phone reads, the sandbox's 1 MiB (a picture of a QR code is far smaller)."""
MAX_TEXT = 2048


@routes.get("/_sandbox/phone")
async def phone(request: web.Request) -> web.Response:
    app = request.app
    open_orders = [
        o for o in app[PAY].orders_of() if o.trade_type == TradeType.NATIVE and o.trade_state == TradeState.NOTPAY
    ][::-1]
    html = (
        app[CONSOLE_TEMPLATES]
        .get_template("phone.html")
        .render(
            users=app[ACCOUNTS].all_users(),
            chosen=request.query.get("user") or request.cookies.get(USER_COOKIE, ""),
            orders=[(o, links.code_url(o)) for o in open_orders[:50]],
            code_url=request.query.get("code_url", "")[:MAX_TEXT],
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


@routes.get("/_sandbox/app")
async def app(request: web.Request) -> web.Response:
    """Paste the parameters the merchant's server gave its app; WeChat's SDK (`POST /_sandbox/api/app-pay`) checks
    them and opens the pay sheet, or answers errCode -1 with the sandbox's reasons."""
    html = (
        request.app[CONSOLE_TEMPLATES]
        .get_template("app.html")
        .render(
            users=request.app[ACCOUNTS].all_users(),
            chosen=request.query.get("user") or request.cookies.get(USER_COOKIE, ""),
            params=request.query.get("params", "")[:MAX_TEXT],
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


@routes.post("/_sandbox/phone/decode")
async def decode(request: web.Request) -> web.Response:
    """The text of the QR code in the picture posted as the body (what the phone's camera would read)."""
    if (request.content_length or 0) > MAX_PICTURE:
        return web.json_response({"error": f"the picture is over {MAX_PICTURE} bytes"}, status=413)
    picture = await request.read()
    try:
        text = qr.read(picture)
    except qr.Unreadable as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"code_url": text})


@routes.get("/_sandbox/qr.svg")
async def qr_svg(request: web.Request) -> web.Response:
    """`?text=…` drawn as a QR code (the console shows an order's code_url with it)."""
    text = request.query.get("text", "")
    if not text or len(text) > MAX_TEXT:
        return web.json_response({"error": f"text must be 1 to {MAX_TEXT} characters"}, status=400)
    return web.Response(text=qr.svg(text), content_type="image/svg+xml", headers={"Cache-Control": "no-store"})
