"""`create_app`: the demo shop, a merchant doing the WeChat web-payment flow the way the seed's notes ask."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import jinja2
from aiohttp import web

from demo_shop import notify_v3, outside, pages, payments
from demo_shop.keys import NOTIFICATIONS_V3, PAY, SETTINGS, STATE, TEMPLATES, WECHAT
from demo_shop.order_book import OrderBook
from demo_shop.settings import Settings
from demo_shop.state import ShopState
from demo_shop.web import json_text
from demo_shop.wechat import WeChat
from demo_shop.wechat_v3 import NotificationReader, WeChatPayV3


async def _records(app: web.Application) -> AsyncIterator[None]:
    """The shop's records for its life: its orders in `settings.database` (or in memory), its sessions in memory."""
    app[STATE] = ShopState(OrderBook(app[SETTINGS].database))
    yield
    app[STATE].orders.close()


async def _wechat_client(app: web.Application) -> AsyncIterator[None]:
    """One HTTP client for the shop's life; the WeChat client keeps its token cache in it."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        app[WECHAT] = WeChat(settings, http)
        app[PAY] = WeChatPayV3(settings, http) if settings.pay_api == "v3" else app[WECHAT]
        yield


def canonical_host(public_url: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Send a browser that came by another name (localhost for 127.0.0.1) to `public_url`: the session cookie,
    WeChat's redirect_uri and the registered pay directory are all on that one origin."""
    public = urlsplit(public_url).netloc

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.method in ("GET", "HEAD") and request.host != public:
            raise web.HTTPFound(public_url + request.path_qs)
        return await handler(request)

    return middleware


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[canonical_host(settings.public_url)])
    app[SETTINGS] = settings
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("demo_shop", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app[TEMPLATES].filters["json_text"] = json_text  # the training panel's JSON, HTML-escaped like any text
    app.cleanup_ctx.append(_records)
    app.cleanup_ctx.append(_wechat_client)
    app.add_routes(pages.routes)
    app.add_routes(payments.routes)
    app.add_routes(outside.routes)
    if settings.v3 is not None and settings.pay_api == "v3":
        app[NOTIFICATIONS_V3] = NotificationReader(settings.v3)
        app.add_routes(notify_v3.routes)
    return app
