"""The console at `/_sandbox/`: credentials, users, orders, notifications and the journal, read-only."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
from aiohttp import web

from mock_wechat.keys import ACCOUNTS, KEYRING, PAY, current_config
from mock_wechat.pay import orders as order_rules
from sandbox.control import user_json
from sandbox.control_keys import DOWNLOADS
from sandbox.keys import JOURNAL, SANDBOX_CLOCK, TLS

routes = web.RouteTableDef()
CONSOLE_TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
SHOWN = 50


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("sandbox", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["when"] = when
    environment.filters["yuan"] = yuan
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


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    """Nothing of WeChat lives at `/`: a browser that opens the sandbox's address lands on the console."""
    return web.Response(status=302, headers={"Location": "/_sandbox/"})


@routes.get("/_sandbox/")
async def console(request: web.Request) -> web.Response:
    app = request.app
    config = current_config(app)
    pay = app[PAY]
    now = app[SANDBOX_CLOCK].now()
    recent = pay.orders_of()[::-1][:SHOWN]
    journal = app[JOURNAL].recent(SHOWN)
    html = (
        app[CONSOLE_TEMPLATES]
        .get_template("console.html")
        .render(
            config=config,
            v3={m.mch_id: app[KEYRING].keys(m.mch_id) for m in config.merchants},
            downloads=DOWNLOADS,
            users=[user_json(u, config) for u in app[ACCOUNTS].all_users()],
            orders=[order_rules.effective(o, now) for o in recent],
            notifications=list(reversed(pay.book.all()))[:SHOWN],
            journal=journal,
            now=now,
            offset=app[SANDBOX_CLOCK].offset,
            proxy=f"{request.scheme}://{request.host}",
            tls_url=app[TLS].url,
            ca_certificate=app[TLS].ca_certificate,
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})
