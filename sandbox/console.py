"""The console at `/_sandbox/`: overview, users, orders, notifications, journal, flow and clock, live (SSE)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

from mock_wechat import times
from mock_wechat.keys import ACCOUNTS, KEYRING, PAY, STORE, current_config
from mock_wechat.pay import links
from mock_wechat.pay import orders as order_rules
from mock_wechat.pay.notifications import Notification, Status, Tamper
from mock_wechat.pay.orders import Order, Outcome, TradeState
from mock_wechat.surfaces.oauth import USER_COOKIE
from mock_wechat.trust import printable
from sandbox.control import user_json
from sandbox.control_keys import DOWNLOADS
from sandbox.keys import JOURNAL, SANDBOX_CLOCK, TLS
from sandbox.live import CHANGES

routes = web.RouteTableDef()
CONSOLE_TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
SHOWN = 200
"""The most orders, notifications or journal entries a page lists."""
PAGES = (
    ("/_sandbox/", "Overview"),
    ("/_sandbox/users", "Users"),
    ("/_sandbox/orders", "Orders"),
    ("/_sandbox/notifications", "Notifications"),
    ("/_sandbox/journal", "Journal"),
    ("/_sandbox/flow", "Flow"),
    ("/_sandbox/clock", "Clock"),
    ("/_sandbox/phone", "Phone"),
    ("/_sandbox/app", "App"),
)
CLOCK_STEPS = (("15s", 15), ("5min", 300), ("2h", 7200), ("1d", 86_400), ("30d", 30 * 86_400))
EXPIRING = {
    "access_token": "access_token",
    "ticket": "jsapi_ticket",
    "oauth_code": "OAuth code",
    "web_token": "web access_token",
    "refresh_token": "refresh_token",
}
"""Stored kinds whose expiry the clock page announces, as people call them."""


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("sandbox", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["when"] = when
    environment.filters["yuan"] = yuan
    environment.filters["duration"] = duration
    return environment


def when(timestamp: float) -> str:
    """A sandbox time for people; one no calendar can show is shown as the number it is."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} s"


def yuan(fen: int) -> str:
    """An amount in fen as yuan, exactly, however large (`/ 100` overflows a float past ~1e308)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole}.{cents:02d}"


def duration(seconds: float) -> str:
    """`2 d 3 h`, `5 min`, `15 s`: the two largest units."""
    left = int(seconds)
    parts = []
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2]) or "0 s"


def render(request: web.Request, template: str, title: str, **values: Any) -> web.Response:
    app = request.app
    html = (
        app[CONSOLE_TEMPLATES]
        .get_template(f"console/{template}")
        .render(
            title=title,
            pages=PAGES,
            here=request.path,
            now=app[SANDBOX_CLOCK].now(),
            offset=app[SANDBOX_CLOCK].offset,
            version=app[CHANGES].version,
            **values,
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    """Nothing of WeChat lives at `/`: a browser that opens the sandbox's address lands on the console."""
    return web.Response(status=302, headers={"Location": "/_sandbox/"})


@routes.get("/_sandbox/")
async def overview(request: web.Request) -> web.Response:
    app = request.app
    config = current_config(app)
    origin = f"{request.scheme}://{request.host}"
    return render(
        request,
        "overview.html",
        "Overview",
        config=config,
        v3={m.mch_id: app[KEYRING].keys(m.mch_id) for m in config.merchants},
        downloads=DOWNLOADS,
        origin=origin,
        proxy=origin,
        tls_url=app[TLS].url,
        ca_certificate=app[TLS].ca_certificate,
    )


@routes.get("/_sandbox/users")
async def users(request: web.Request) -> web.Response:
    app = request.app
    config = current_config(app)
    consents: dict[str, list[str]] = {}
    for record in app[STORE].query("consent"):
        consents.setdefault(str(record["user_id"]), []).append(str(record["appid"]))
    return render(
        request,
        "users.html",
        "Users",
        users=[user_json(u, config) for u in app[ACCOUNTS].all_users()],
        consents=consents,
        browser_user=printable(request.cookies.get(USER_COOKIE) or ""),  # a cookie's bytes need not be UTF-8
    )


@routes.get("/_sandbox/orders")
async def orders(request: web.Request) -> web.Response:
    app = request.app
    filters = {name: request.query.get(name, "") for name in ("state", "mch_id", "payer")}
    found = [
        o
        for o in app[PAY].orders_of(filters["mch_id"] or None)
        if (not filters["state"] or o.trade_state == filters["state"])
        and (not filters["payer"] or filters["payer"] in (o.user_id, o.openid))
    ]
    return render(
        request,
        "orders.html",
        "Orders",
        orders=found[::-1][:SHOWN],
        filters=filters,
        states=[s.value for s in TradeState],
        config=current_config(app),
        users=app[ACCOUNTS].all_users(),
    )


@dataclass(frozen=True)
class Event:
    """One line of an order's history."""

    at: float
    kind: str
    what: str
    detail: str = ""
    rid: str = ""


def order_history(
    order: Order, journal: list[dict[str, Any]], notes: list[Notification], refunds: list[Any]
) -> list[Event]:
    """Created, each call about it (the journal), paid, each notification attempt, each refund: by time."""
    events = [Event(order.created_at, "created", f"created with {order.trade_type} (API {order.api})")]
    for entry in journal:
        if _about(entry, order):
            outcome = f"{entry['error']} ({entry['errcode']})" if entry.get("error") else str(entry["status"])
            call = f"{entry['method']} {entry['path']} → {outcome}"
            events.append(Event(entry["timestamp"], "call", call, str(entry.get("diagnostic") or ""), entry["rid"]))
    paid_at = times.parse_compact(order.time_end or "")
    if paid_at is not None:
        payer = order.user_id or order.openid
        events.append(Event(paid_at, "paid", f"paid by {payer}", f"transaction_id {order.transaction_id}"))
    for note in notes:
        for attempt in note.attempts:
            what = f"{note.kind} notification, attempt {attempt['number']}: {attempt['status'] or 'no answer'}"
            events.append(Event(float(str(attempt["at"])), "attempt", what, str(attempt["verdict"])))
    for refund in refunds:
        what = f"refund {refund.out_refund_no}: {yuan(refund.refund_fee)}"
        events.append(Event(refund.created_at, "refund", what, refund.refund_id))
    return sorted(events, key=lambda e: e.at)


def _about(entry: Mapping[str, Any], order: Order) -> bool:
    values = {**entry.get("query", {}), **entry.get("fields", {})}
    merchant = values.get("mch_id", values.get("mchid", order.mch_id))
    if values.get("out_trade_no") == order.out_trade_no and merchant == order.mch_id:
        return True
    mentions = str(values.get("package", "")) + str(values.get("prepay_id", ""))
    return bool(order.prepay_id) and order.prepay_id in mentions


@routes.get("/_sandbox/orders/{mch_id}/{out_trade_no}")
async def order(request: web.Request) -> web.Response:
    app = request.app
    pay = app[PAY]
    found = pay.order(request.match_info["mch_id"], request.match_info["out_trade_no"])
    if found is None:
        raise web.HTTPNotFound(text=f"no order {request.match_info['out_trade_no']} of {request.match_info['mch_id']}")
    current = order_rules.effective(found, app[SANDBOX_CLOCK].now())
    notes = [n for n in pay.book.all() if n.mch_id == current.mch_id and n.out_trade_no == current.out_trade_no]
    refunds = pay.refunds_of(current)
    history = order_history(current, app[JOURNAL].recent(10_000), notes, refunds)
    return render(
        request,
        "order.html",
        f"Order {current.out_trade_no}",
        order=current,
        history=history,
        notifications=notes[::-1],
        outcomes=[o.value for o in Outcome],
        tampers=tampers,
        code_url=links.code_url(current) if current.trade_type == "NATIVE" and current.trade_state == "NOTPAY" else "",
    )


def tampers(note: Notification) -> list[str]:
    """The forgeries a notification can be resent as (ciphertext only where there is one: API v3)."""
    return [t.value for t in Tamper if t is not Tamper.CIPHERTEXT or note.api == "v3"]


@routes.get("/_sandbox/notifications")
async def notifications(request: web.Request) -> web.Response:
    found = list(reversed(request.app[PAY].book.all()))[:SHOWN]
    return render(request, "notifications.html", "Notifications", notifications=found, tampers=tampers)


JOURNAL_FILTERS = ("appid", "openid", "out_trade_no", "path", "rid", "errors")


def journal_matches(entry: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    values = {**entry.get("query", {}), **entry.get("fields", {})}
    for name in ("appid", "openid", "out_trade_no"):
        if filters[name] and values.get(name) != filters[name] and values.get(name.replace("_", "")) != filters[name]:
            return False
    if filters["path"] and filters["path"] not in entry["path"]:
        return False
    if filters["rid"] and entry["rid"] != filters["rid"]:
        return False
    return not (filters["errors"] and not entry.get("error"))


@routes.get("/_sandbox/journal")
async def journal(request: web.Request) -> web.Response:
    filters = {name: request.query.get(name, "") for name in JOURNAL_FILTERS}
    entries = [e for e in request.app[JOURNAL].recent(10_000) if journal_matches(e, filters)][:SHOWN]
    return render(request, "journal.html", "Journal", journal=entries, filters=filters)


@dataclass(frozen=True)
class Step:
    label: str
    seconds: int
    effects: list[str]


def clock_effects(app: web.Application, seconds: float) -> list[str]:
    """What advancing the clock by `seconds` makes expire or be retried, counted."""
    now = app[SANDBOX_CLOCK].now()
    until = now + seconds
    counts: Counter[str] = Counter()
    for record in app[STORE].records():
        name = EXPIRING.get(record.kind)
        if name is not None and record.expires_at is not None and now < record.expires_at <= until:
            counts[f"{name}s expire"] += 1
    for each in app[PAY].orders_of():
        if each.trade_state != TradeState.NOTPAY:
            continue
        if now < each.prepay_expires_at <= until:
            counts["prepay_ids expire (2 h after unifiedorder)"] += 1
        if each.expires_at is not None and now < each.expires_at <= until:
            counts["unpaid orders pass time_expire and close"] += 1
    for note in app[PAY].book.all():
        if note.status == Status.PENDING and note.next_at is not None and note.next_at <= until:
            counts["notifications are retried"] += 1
    return [f"{n} {what}" for what, n in counts.items()]


@routes.get("/_sandbox/clock")
async def clock(request: web.Request) -> web.Response:
    steps = [Step(label, seconds, clock_effects(request.app, seconds)) for label, seconds in CLOCK_STEPS]
    return render(request, "clock.html", "Clock", steps=steps)
