"""wx.tenpay.com's H5 cashier (`/cgi-bin/mmpayweb-bin/checkmweb`): the page `mweb_url` / `h5_url` opens."""

from __future__ import annotations

from aiohttp import web

from mock_wechat import errors, json_input
from mock_wechat.bridge import cashier
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.dialects import Wire, speaks
from mock_wechat.keys import ACCOUNTS, BRIDGE, CLOCK, NOTES, PAY, TEMPLATES
from mock_wechat.pay import links
from mock_wechat.pay.orders import TradeType
from mock_wechat.surfaces.oauth import current_user
from mock_wechat.trust import WECHAT_HOSTS, host_name

routes = web.RouteTableDef()


def link_for(request: web.Request, link: str) -> str:
    """The cashier link as the merchant's browsers reach it: WeChat's own host when the merchant called WeChat's
    host (a proxy or DNS sends both to the sandbox), else the sandbox's address the merchant used."""
    if host_name(request.host) in WECHAT_HOSTS:
        return link
    return links.on_origin(link, f"{request.scheme}://{request.host}")


def visit_of(request: web.Request) -> cashier.Visit:
    query = request.query
    return cashier.Visit(
        prepay_id=query.get("prepay_id", ""),
        package=query.get("package", ""),
        redirect_url=query.get("redirect_url", ""),
        referer=request.headers.get("Referer", ""),
        user_agent=request.headers.get("User-Agent", ""),
        remote=request.remote or "",
    )


@routes.get(links.CASHIER_PATH)
@speaks(Wire.PAGE)
async def checkmweb(request: web.Request) -> web.Response:
    """WeChat's checks, then the page that opens the payer's WeChat on its pay sheet."""
    visit = visit_of(request)
    pay = request.app[PAY]
    order = pay.by_prepay_id(visit.prepay_id) if visit.prepay_id else None
    merchant = None if order is None else pay.config.merchant(order.mch_id)
    order = cashier.check(visit, order, merchant, request.app[CLOCK].now())
    assert merchant is not None  # check() refuses an order without its merchant
    request[NOTES].append(f"H5 cashier for order {order.out_trade_no} ({order.total_fee} fen), from {visit.referer}")
    chosen = current_user(request)
    html = (
        request.app[TEMPLATES]
        .get_template("cashier.html")
        .render(
            title="微信支付",
            order=order,
            merchant=merchant,
            visit=visit,
            users=request.app[ACCOUNTS].all_users(),
            chosen=chosen.id if chosen is not None else "",
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


@routes.post("/_sandbox/bridge/cashier/sheet")
async def cashier_sheet(request: web.Request) -> web.Response:
    """The cashier's pay sheet for the user its page chose. The link is checked again (its 5 minutes, the order,
    the IP), not the Referer: this is the cashier's own request."""
    try:
        body = json_input.loads(await request.read() or b"{}")
    except json_input.BadJson as exc:
        return web.json_response({"error": f"expected a JSON object, got a body {exc}"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    pay, now = request.app[PAY], request.app[CLOCK].now()
    prepay_id, package = str(body.get("prepay_id", "")), str(body.get("package", ""))
    order = pay.by_prepay_id(prepay_id) if prepay_id else None
    try:
        if order is None or order.trade_type != TradeType.MWEB:
            raise errors.MwebParamsWrong(f"prepay_id {prepay_id!r} is no MWEB order's")
        cashier.check_expiry(package, order, now)
        cashier.check_ip(request.remote or "", order)
        _, info = request.app[BRIDGE].open_order_sheet(
            order, str(body.get("user", "")), f"cashier:{prepay_id}", links.CASHIER_HOST
        )
    except errors.CashierError as refused:
        request[NOTES].append(refused.diagnostic)
        return web.json_response({"alert": refused.text, "diagnostics": [refused.diagnostic]})
    except SheetRefused as refused:
        request[NOTES].extend(refused.diagnostics)
        return web.json_response({"alert": refused.text, "diagnostics": refused.diagnostics})
    return web.json_response({"sheet": info, "diagnostics": []})
