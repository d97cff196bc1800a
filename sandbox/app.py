"""`create_app`: the emulated WeChat wrapped with the control API and the journal."""

from __future__ import annotations

import time
from pathlib import Path

from aiohttp import web

import mock_wechat
from mock_wechat.clock import OffsetClock
from mock_wechat.config import WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.keys import KEYRING, STORE, current_config
from mock_wechat.store import MemoryStore, SQLiteStore, Store
from mock_wechat.trust import host_allowed, trusted_hosts
from sandbox import (
    console,
    console_flow,
    control,
    control_config,
    control_consents,
    control_keys,
    control_pay,
    control_phone,
    control_state,
    control_tls,
    live,
    phone,
    shared,
    tls,
)
from sandbox.journal import Journal
from sandbox.keys import JOURNAL, ORIGINAL_CONFIG, SANDBOX_CLOCK, STARTED, TLS

STATE_FILE = "state.sqlite3"


def open_store(data_dir: Path | None) -> Store:
    """SQLite in `data_dir` (kept across restarts), or memory when `data_dir` is None."""
    return SQLiteStore(data_dir / STATE_FILE) if data_dir is not None else MemoryStore()


def create_app(
    config: WeChatConfig,
    *,
    store: Store | None = None,
    data_dir: Path | None = None,
    notify_speed: float = 1.0,
    ca_dir: Path | None = None,
) -> web.Application:
    """The whole sandbox on one origin; state in `store` (or `data_dir`), in memory by default. Its local CA is
    kept in `ca_dir`, by default the data dir (in memory: the user's cache directory); it is made on first use."""
    owned = store is None
    changes = live.Changes()
    state: Store = live.ObservedStore(open_store(data_dir) if store is None else store, changes)
    with state.transaction():  # replicas starting at once on one store each get their own boot (and ids)
        boots = int(state.meta_get("boots") or 0) + 1
        state.meta_set("boots", str(boots))
    clock = OffsetClock(shared.saved_offset(state))
    journal = Journal(state)
    app = mock_wechat.create_app(
        config, store=state, clock=clock, ids=Ids(config.seed, boots), observers=[journal], notify_speed=notify_speed
    )
    app[SANDBOX_CLOCK] = clock
    app[JOURNAL] = journal
    app[STARTED] = time.monotonic()
    app[ORIGINAL_CONFIG] = config
    shared.apply_settings(app)  # the run-time changes kept in the store (a restart, or another replica's)
    app.on_startup.append(_hear_other_processes)
    app[live.CHANGES] = changes
    live.add_to(app)
    app[TLS] = server_tls(app, ca_dir if ca_dir is not None else tls.ca_dir(data_dir))
    app.add_routes(control.routes)
    app.add_routes(control_pay.routes)
    app.add_routes(control_config.routes)
    app.add_routes(control_keys.routes)
    app.add_routes(control_tls.routes)
    app.add_routes(control_state.routes)
    app.add_routes(control_consents.routes)
    app.add_routes(control_phone.routes)
    app.add_routes(phone.routes)
    app[console.CONSOLE_TEMPLATES] = console.templates()
    app.add_routes(console.routes)
    app.add_routes(console_flow.routes)
    if owned:

        async def close_store(_: web.Application) -> None:
            state.close()

        app.on_cleanup.append(close_store)
    return app


async def _hear_other_processes(app: web.Application) -> None:
    """Replicas on one PostgreSQL: re-read what another changed, and tell them of changes here (open pages)."""
    app[STORE].listen(lambda topic: shared.heard(app, topic))
    app[live.CHANGES].forward_to(lambda: app[STORE].announce(shared.CHANGED))


def server_tls(app: web.Application, directory: Path) -> tls.ServerTLS:
    """The app's TLS side: its certificate names the configured hosts, and the merchants' API certificates are
    accepted as client certificates (WeChat's mutual TLS on `/secapi/…`)."""
    return tls.ServerTLS(
        directory,
        names=lambda: trusted_hosts(current_config(app)),
        client_certificates=lambda: app[KEYRING].certificates().values(),
        allowed=lambda name: host_allowed(name, current_config(app)),
    )
