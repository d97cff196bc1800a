"""`create_app`: a complete emulated WeChat (api, open and the bridge back end) on one origin."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

import jinja2
from aiohttp import web

from mock_wechat.account.service import AccountService
from mock_wechat.bridge.service import BridgeService
from mock_wechat.clock import Clock, OffsetClock
from mock_wechat.config import WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.keys import (
    ACCOUNTS,
    BRIDGE,
    CLOCK,
    DELIVERER,
    IDS,
    KEYRING,
    OBSERVERS,
    PAY,
    STORE,
    TEMPLATES,
    Observer,
)
from mock_wechat.middleware import MAX_BODY, wechat_errors
from mock_wechat.pay import v2_dialect, v3_dialect
from mock_wechat.pay.delivery import Deliverer, Render
from mock_wechat.pay.notifications import Notification, Outgoing
from mock_wechat.pay.orders import Api
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v3_keys import MerchantKeyring
from mock_wechat.store import MemoryStore, Store
from mock_wechat.surfaces import assets, avatar, bridge, cashier, cgi_bin, oauth, pay_v2, pay_v3, sns

PRUNE_EVERY = 60.0
log = logging.getLogger("mock_wechat")


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mock_wechat", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )


async def _group_commits(app: web.Application) -> AsyncIterator[None]:
    """While serving, the store commits once per turn of the loop; the middleware waits for it before answering."""
    app[STORE].defer_commits(asyncio.get_running_loop())
    yield
    app[STORE].defer_commits(None)


async def _prune_expired(app: web.Application) -> AsyncIterator[None]:
    """Drop expired records once a minute (never in a request path)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY)
            try:
                app[STORE].prune(app[CLOCK].now())
            except Exception:
                log.exception("pruning expired records failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _deliver_notifications(app: web.Application) -> AsyncIterator[None]:
    """Deliver notifications in the background, including those owed from before a restart."""
    deliverer = app[DELIVERER]
    task = asyncio.create_task(deliverer.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await deliverer.close()


def notification_renderer(pay: PayService, keyring: MerchantKeyring) -> Render:
    """Each notification is rendered at delivery by the dialect of the API its order was placed on."""

    def render(note: Notification) -> Outgoing:
        if note.api == Api.V3:
            return v3_dialect.render_notification(pay, keyring, note)
        return v2_dialect.render_notification(pay, note)

    return render


def create_app(
    config: WeChatConfig,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    ids: Ids | None = None,
    observers: Iterable[Observer] = (),
    notify_speed: float = 1.0,
) -> web.Application:
    """WeChat at its real paths; state in `store`, time from `clock`, ids from `ids`."""
    app = web.Application(middlewares=[wechat_errors], client_max_size=MAX_BODY)
    app[STORE] = store if store is not None else MemoryStore()
    app[CLOCK] = clock if clock is not None else OffsetClock()
    app[IDS] = ids if ids is not None else Ids(config.seed)
    app[OBSERVERS] = list(observers)
    app[TEMPLATES] = templates()
    app[ACCOUNTS] = AccountService(config, app[STORE], app[CLOCK], app[IDS])
    app[ACCOUNTS].seed_users()
    app[PAY] = PayService(config, app[STORE], app[CLOCK], app[IDS], app[ACCOUNTS], notify_speed)
    # Keys are made on first use (never here: each test app would pay ~0.1 s a key); config is read, not owned.
    app[KEYRING] = MerchantKeyring(app[STORE], app[CLOCK], lambda: app[ACCOUNTS].config)
    app[BRIDGE] = BridgeService(config, app[STORE], app[CLOCK], app[IDS], app[ACCOUNTS], app[PAY], app[KEYRING])
    for table in (
        cgi_bin.routes,
        sns.routes,
        oauth.routes,
        avatar.routes,
        bridge.routes,
        cashier.routes,
        pay_v3.routes,
    ):
        app.add_routes(table)
    pay_v2.add_routes(app)
    assets.add_routes(app)
    app.on_response_prepare.append(bridge.add_cors)
    app[DELIVERER] = Deliverer(app[PAY].book, config, render=notification_renderer(app[PAY], app[KEYRING]))
    app.cleanup_ctx.append(_group_commits)
    app.cleanup_ctx.append(_prune_expired)
    app.cleanup_ctx.append(_deliver_notifications)
    return app


def reconfigure(app: web.Application, config: WeChatConfig) -> None:
    """Swap the configuration at run time (domains, pay directories): every service sees the new one."""
    app[ACCOUNTS].config = config
    app[PAY].config = config
    app[BRIDGE].config = config
    app[DELIVERER].config = config
