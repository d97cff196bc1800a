"""What processes on one store share besides records: run-time settings and the clock offset (sandbox/shared.py)."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

import sandbox
from mock_wechat.keys import current_config
from mock_wechat.store import SQLiteStore
from sandbox import shared
from sandbox.defaults import DEFAULT_MCH_ID
from sandbox.keys import SANDBOX_CLOCK
from tests.conftest import APPID, ClientFactory, make_config

HOSTS = ["shop.example:8443"]


def on_file(path: Path) -> web.Application:
    """A sandbox on the SQLite file `path`, as a second process (or a restart) would open it."""
    return sandbox.create_app(make_config(), store=SQLiteStore(path))


async def test_run_time_settings_survive_a_restart_on_the_same_data_dir(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(sandbox.create_app(make_config(), data_dir=tmp_path))
    resp = await client.post(f"/_sandbox/api/merchants/{DEFAULT_MCH_ID}", json={"notify_hosts": HOSTS})
    assert resp.status == 200
    await client.close()
    again = sandbox.create_app(make_config(), data_dir=tmp_path)
    merchant = current_config(again).merchant(DEFAULT_MCH_ID)
    assert merchant is not None
    assert (merchant.notify_hosts, merchant.trust_loopback) == (tuple(HOSTS), False)


async def test_reset_drops_the_kept_settings(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(sandbox.create_app(make_config(), data_dir=tmp_path))
    await client.post(f"/_sandbox/api/accounts/{APPID}", json={"oauth_domains": ["shop.example"]})
    assert (await client.post("/_sandbox/api/reset")).status == 200
    await client.close()
    account = current_config(sandbox.create_app(make_config(), data_dir=tmp_path)).account(APPID)
    assert account is not None
    assert account.oauth_domains == make_config().account(APPID).oauth_domains  # type: ignore[union-attr]


async def test_a_process_that_hears_of_new_settings_reads_them_back(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    first = await aiohttp_client(on_file(path))
    second = on_file(path)
    await first.post(f"/_sandbox/api/merchants/{DEFAULT_MCH_ID}", json={"notify_hosts": HOSTS})
    assert current_config(second).merchant(DEFAULT_MCH_ID).notify_hosts != tuple(HOSTS)  # type: ignore[union-attr]
    shared.heard(second, shared.SETTINGS_CHANGED)
    assert current_config(second).merchant(DEFAULT_MCH_ID).notify_hosts == tuple(HOSTS)  # type: ignore[union-attr]


async def test_advances_made_by_two_processes_add_up_and_both_follow(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    first = await aiohttp_client(on_file(path))
    second = await aiohttp_client(on_file(path))
    assert (await first.post("/_sandbox/api/clock", json={"advance": 100})).status == 200
    assert (await second.post("/_sandbox/api/clock", json={"advance": 20})).status == 200  # not told of the first
    shared.heard(first.app, shared.CLOCK_CHANGED)
    assert first.app[SANDBOX_CLOCK].offset == second.app[SANDBOX_CLOCK].offset == 120


async def test_a_damaged_settings_entry_is_ignored_not_half_applied(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite3")
    store.meta_set(shared.SETTINGS, json.dumps({"merchants": {DEFAULT_MCH_ID: {"notify_hosts": "not a list"}}}))
    app = sandbox.create_app(make_config(), store=store)
    assert current_config(app).merchant(DEFAULT_MCH_ID) == make_config().merchant(DEFAULT_MCH_ID)
