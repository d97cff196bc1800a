"""`create_app`: the demo shop, a merchant doing the WeChat web-payment flow the way the seed's notes ask."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import jinja2
from aiohttp import web

from demo_shop import pages, payments
from demo_shop.keys import SETTINGS, STATE, TEMPLATES, WECHAT
from demo_shop.settings import Settings
from demo_shop.state import ShopState
from demo_shop.wechat import WeChat


async def _wechat_client(app: web.Application) -> AsyncIterator[None]:
    """One HTTP client for the shop's life; the WeChat client keeps its token cache in it."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        app[WECHAT] = WeChat(app[SETTINGS], http)
        yield


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[STATE] = ShopState()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("demo_shop", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.cleanup_ctx.append(_wechat_client)
    app.add_routes(pages.routes)
    app.add_routes(payments.routes)
    return app
