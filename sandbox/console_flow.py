"""The console's Flow page `/_sandbox/flow`: one user's or one order's journal drawn on the seed's nine steps."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from mock_wechat.bridge.service import BridgeService
from mock_wechat.ids import openid_for
from mock_wechat.keys import ACCOUNTS, BRIDGE, PAY, current_config
from mock_wechat.pay import orders as order_rules
from mock_wechat.pay.orders import Order
from sandbox import flow, flow_steps
from sandbox.console import render
from sandbox.keys import JOURNAL, SANDBOX_CLOCK

routes = web.RouteTableDef()
READ = 10_000
"""Journal entries the page reads (the journal keeps about as many)."""
RECENT_ORDERS = 8
"""Orders the page offers to look at instead."""


def order_ref(order: Order) -> flow.OrderRef:
    return flow.OrderRef(
        order.mch_id, order.out_trade_no, order.appid, order.prepay_id, order.transaction_id, order.created_at
    )


def sheets_of(bridge: BridgeService, order: Order) -> tuple[flow.SheetRef, ...]:
    """The pay sheets the bridge opened for the order, each with the URL of the page that opened it."""
    found = []
    for sheet in bridge.sheets.query(order.prepay_id) if order.prepay_id else []:
        page = bridge.pages.get(sheet.page_id)
        found.append(flow.SheetRef(sheet.sheet_id, sheet.opened_at, page.url if page else ""))
    return tuple(sorted(found, key=lambda s: s.opened_at))


def notifications_of(app: web.Application, order: Order) -> tuple[dict[str, Any], ...]:
    book = app[PAY].book.all()
    return tuple(asdict(n) for n in book if n.mch_id == order.mch_id and n.out_trade_no == order.out_trade_no)


def subject_for(
    app: web.Application, journal: list[dict[str, Any]], query: dict[str, str]
) -> tuple[flow.Subject, str] | None:
    """Whose flow the query asks for (`mch_id` + `out_trade_no`, `user` as an id or an openid, or the latest
    activity), and how the page says it; None when the order or the user does not exist."""
    accounts, pay = app[ACCOUNTS], app[PAY]
    appids = [a.appid for a in current_config(app).accounts]
    by_openid = {openid_for(a, u.id): u.id for u in accounts.all_users() for a in appids}
    order: Order | None = None
    if query.get("out_trade_no"):
        order = pay.order(query.get("mch_id", ""), query["out_trade_no"])
        if order is None:
            return None
        user_id, how = order.user_id, "order"
    elif query.get("user"):
        given = query["user"]
        user_id = given if accounts.user(given) is not None else by_openid.get(given, "")
        if not user_id:
            return None
        how = "user"
    else:
        latest = flow.latest_user(journal, by_openid)
        user_id, how = latest or "", "latest" if latest is not None else "nothing"
    openids = frozenset(openid_for(a, user_id) for a in appids) if user_id else frozenset()
    if order is not None and order.openid:
        openids |= {order.openid}
    if order is None and user_id:
        attempt = flow.user_attempt(flow.sign_ins(journal), flow.Subject(user_id, openids))
        asked = flow.latest_order(journal, openids, attempt.start if attempt else 0.0)
        order = pay.order(asked.mch_id, asked.out_trade_no) if asked else None
        if order is None:  # none asked for, or WeChat refused the unified order: its call is what to show
            return flow.Subject(user_id, openids, asked), how
    if order is None:
        return flow.Subject(user_id, openids), how
    current = order_rules.effective(order, app[SANDBOX_CLOCK].now())
    subject = flow.Subject(
        user_id,
        openids,
        order_ref(current),
        sheets_of(app[BRIDGE], current),
        notifications_of(app, current),
    )
    return subject, how


@routes.get("/_sandbox/flow")
async def flow_page(request: web.Request) -> web.Response:
    app = request.app
    journal = list(reversed(app[JOURNAL].recent(READ)))
    query = {name: request.query.get(name, "") for name in ("user", "mch_id", "out_trade_no")}
    found = subject_for(app, journal, query)
    if found is None:
        asked = query["out_trade_no"] or query["user"]
        raise web.HTTPNotFound(text=f"no {'order' if query['out_trade_no'] else 'user'} {asked!r}")
    subject, how = found
    now = app[SANDBOX_CLOCK].now()
    order = app[PAY].order(subject.order.mch_id, subject.order.out_trade_no) if subject.order else None
    recent = sorted(app[PAY].orders_of(), key=lambda o: o.created_at, reverse=True)[:RECENT_ORDERS]
    return render(
        request,
        "flow.html",
        "Flow",
        flow=flow.build_flow(journal, subject, now),
        how=how,
        order=order_rules.effective(order, now) if order else None,
        user=app[ACCOUNTS].user(subject.user_id) if subject.user_id else None,
        lifelines=flow_steps.LIFELINES,
        users=app[ACCOUNTS].all_users(),
        recent_orders=recent,
        query=query,
    )
