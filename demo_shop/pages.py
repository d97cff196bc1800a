"""The shop's pages: products, sign-in (steps 4–6), checkout (steps 1, 7), result (step 9), admin, /flow."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from demo_shop import outside
from demo_shop import state as catalogue
from demo_shop.keys import PAY, SETTINGS, STATE, WECHAT
from demo_shop.trace import STEPS, Step, Trace, masked
from demo_shop.web import redirect, render, session_of, signed_in
from demo_shop.wechat import WeChatError

routes = web.RouteTableDef()
SOURCE = Path(__file__).parent
BROKEN = {
    "double-config": "wx.config called twice, paying inside wx.ready: two pay sheets (the seed's note 8)",
    "hash": "the page URL signed with its #fragment: config:invalid signature",
    "timestamp": "wx.chooseWXPay given timeStamp (the bridge's spelling) instead of timestamp",
    "order-sign": "the unified order answer's sign reused as paySign",
}


def local_path(value: str) -> str:
    """Where to go after sign-in: a path on this shop only (never `//host`, `/\\host` or a scheme)."""
    url = URL(value)
    bad = "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value)
    if url.scheme or url.host or not value.startswith("/") or value.startswith("//") or bad:
        return "/"
    return value


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    trace: Trace = []
    session = await signed_in(request, trace)
    return render(request, "index.html", trace, products=catalogue.PRODUCTS, user=session)


@routes.get("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Step 4, at sign-in rather than checkout (seed note 5): a server-side redirect to WeChat."""
    session = session_of(request)
    session.oauth_state = secrets.token_urlsafe(12)
    session.next_url = local_path(request.query.get("next", "/"))
    redirect_uri = f"{request.app[SETTINGS].public_url}/auth/callback"
    location = request.app[WECHAT].authorize_url(redirect_uri, session.oauth_state)
    step = Step(4, "send the browser to WeChat's authorize page (a server-side 302)",
                {"redirect_uri": redirect_uri, "scope": "snsapi_userinfo", "state": session.oauth_state},
                {"Location": location}, True, "demo_shop/wechat.py")  # fmt: skip
    return redirect(request, location, [step])


@routes.get("/auth/callback")
async def auth_callback(request: web.Request) -> web.StreamResponse:
    """Steps 4–5: WeChat sends the browser back with ?code&state; the code becomes an openid here."""
    session, trace = session_of(request), list[Step]()
    code, state = request.query.get("code", ""), request.query.get("state", "")
    trace.append(
        Step(4, "WeChat sent the browser back", masked(dict(request.query)), None, bool(code), "demo_shop/pages.py")
    )
    if not state or state != session.oauth_state:
        return render(request, "message.html", trace, title="Sign-in refused", text="The state does not match.")
    session.oauth_state = ""
    if not code:
        return render(request, "message.html", trace, title="Sign-in cancelled", text="You did not allow it.")
    wechat = request.app[WECHAT]
    try:
        token = await wechat.exchange_code(code, trace)
        profile = await wechat.userinfo(token["access_token"], token["openid"], trace)
    except WeChatError as error:
        return render(request, "message.html", trace, title="Sign-in failed", text=str(error))
    session.openid, session.nickname = token["openid"], profile.get("nickname", "")
    session.avatar = profile.get("headimgurl", "")
    session.access_token, session.refresh_token = token["access_token"], token["refresh_token"]
    session.expires_at = time.time() + int(token["expires_in"])
    return redirect(request, session.next_url, trace)


@routes.get("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    session.openid = session.access_token = session.refresh_token = ""
    return redirect(request, "/")


@routes.post("/orders")
async def create_order(request: web.Request) -> web.StreamResponse:
    trace: Trace = []
    session = await signed_in(request, trace)
    form = await request.post()
    item = catalogue.product(str(form.get("product", "")))
    if item is None:
        raise web.HTTPBadRequest(text="unknown product")
    if session is None:
        return redirect(request, "/login?next=/")
    order = request.app[STATE].new_order(item, session)
    return redirect(request, f"/checkout/{order.out_trade_no}")


def _order(request: web.Request) -> catalogue.Order:
    order = request.app[STATE].orders.get(request.match_info["out_trade_no"])
    if order is None:
        raise web.HTTPNotFound(text="no such order")
    return order


@routes.get("/checkout/{out_trade_no}")
async def checkout(request: web.Request) -> web.StreamResponse:
    """Steps 1 and 7: the page gets its wx.config from /api/jssdk-config, then pays on a click."""
    trace: Trace = []
    session = await signed_in(request, trace)
    if session is None:
        return redirect(request, f"/login?next={quote(request.path_qs)}")
    order = _order(request)
    if order.openid != session.openid:
        raise web.HTTPNotFound(text="no such order")  # another buyer's order is none of this page's business
    if order.status != "NEW":
        return redirect(request, f"/result/{order.out_trade_no}", trace)  # paid already: never offer Pay again
    broken = request.query.get("broken", "")
    mode = "bridge" if request.query.get("mode") == "bridge" else "jssdk"
    return render(
        request, "checkout.html", trace, order=order, mode=mode, broken=broken, broken_text=BROKEN.get(broken, "")
    )


@routes.get("/broken/pay/{out_trade_no}")
async def broken_directory(request: web.Request) -> web.StreamResponse:
    """The checkout page served outside the pay directory (支付授权目录): the sheet refuses to open."""
    trace: Trace = []
    if await signed_in(request, trace) is None:
        return redirect(request, f"/login?next={quote(request.path_qs)}")
    return render(
        request, "checkout.html", trace, order=_order(request), mode="jssdk", broken="directory",
        broken_text="the checkout page outside the merchant's pay directory: 当前页面的URL未注册",
    )  # fmt: skip


@routes.get("/broken")
async def broken_index(request: web.Request) -> web.StreamResponse:
    trace: Trace = []
    session = await signed_in(request, trace)
    return render(
        request,
        "broken.html",
        trace,
        variants=BROKEN,
        outside=outside.BROKEN,
        products=catalogue.PRODUCTS,
        user=session,
    )


@routes.post("/broken/{variant}")
async def broken_order(request: web.Request) -> web.StreamResponse:
    """A fresh order, opened on a checkout page that makes one of the seed's mistakes."""
    trace: Trace = []
    session = await signed_in(request, trace)
    variant = request.match_info["variant"]
    if variant in outside.BROKEN:  # outside WeChat: no sign-in
        order = request.app[STATE].new_order(catalogue.PRODUCTS[0], session_of(request))
        page = "pay" if variant == "h5-redirect" else "app"
        return redirect(request, f"/{page}/{order.out_trade_no}?broken={variant}")
    if session is None:
        return redirect(request, "/login?next=/broken")
    if variant not in BROKEN and variant != "directory":
        raise web.HTTPNotFound()
    order = request.app[STATE].new_order(catalogue.PRODUCTS[0], session)
    if variant == "directory":
        return redirect(request, f"/broken/pay/{order.out_trade_no}")
    return redirect(request, f"/checkout/{order.out_trade_no}?broken={variant}")


@routes.get("/result/{out_trade_no}")
async def result(request: web.Request) -> web.StreamResponse:
    """Step 9: the front end's `ok` is a hint; the notification or an order query decides."""
    trace: Trace = []
    order = _order(request)
    outcome = request.query.get("outcome", "")
    if outcome:
        trace.append(Step(7, "the page's pay call answered (a hint only)", {"outcome": outcome}, None,
                          outcome == "ok", "demo_shop/templates/checkout.html"))  # fmt: skip
    if order.status != "PAID" and outcome != "cancel":
        try:
            trade = await request.app[PAY].order_query(order.out_trade_no, trace)
        except WeChatError:
            trade = None
        if trade is not None and trade.trade_state == "SUCCESS" and trade.total == order.total_fee:
            order.mark_paid(trade.transaction_id, "order query")
            request.app[STATE].orders.save(order)
    elif order.status == "PAID":
        sources = [d["source"] for d in order.deliveries]
        why = {"status": order.status, "paid by": sources[0] if sources else "", "deliveries": len(sources)}
        trace.append(Step(9, "no need to ask WeChat: the shop's order is already PAID", None, why, True,
                          "demo_shop/payments.py"))  # fmt: skip
    return render(request, "result.html", trace, order=order, outcome=outcome)


@routes.get("/admin")
async def admin(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    orders = sorted(state.orders.all(), key=lambda o: o.created_at, reverse=True)
    return render(
        request, "admin.html", None, orders=orders, forged=state.forged, fail_next=state.fail_next_notifications
    )


FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#07c160"/>'
    '<text x="32" y="44" font-size="34" text-anchor="middle" fill="#fff" font-family="sans-serif">¥</text></svg>'
)


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    """Browsers ask for it on every page (and the share card uses it): an SVG, not a 404 in the console."""
    return web.Response(text=FAVICON, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@routes.get("/flow")
async def flow(request: web.Request) -> web.StreamResponse:
    trace: Trace = []
    await signed_in(request, trace)  # refreshes an expired web access_token: step 6
    session = session_of(request)
    by_step = {n: [s for s in [*session.trace, *trace] if s.number == n] for n in STEPS}
    return render(request, "flow.html", trace, steps=STEPS, by_step=by_step)


@routes.post("/flow/expire")
async def expire_web_token(request: web.Request) -> web.StreamResponse:
    """Training: treat the web access_token as expired now, so the next page refreshes it (step 6)."""
    session_of(request).expires_at = 0.0
    return redirect(request, "/flow")


@routes.get("/code/{name}")
async def code(request: web.Request) -> web.StreamResponse:
    """Training mode's "show me the code" links: the shop's own Python files, read-only."""
    name = request.match_info["name"]
    path = SOURCE / ("templates" if name.endswith(".html") else "") / name
    if not name.endswith((".py", ".html")) or "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return render(request, "code.html", None, name=name, source=path.read_text(encoding="utf-8"))
