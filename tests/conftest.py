"""Shared fixtures: a deterministic config, a manual clock, and clients of the emulated WeChat."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat.clock import ManualClock
from mock_wechat.config import Account, KeyMaterial, User, WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.pay import v3_keys
from mock_wechat.store import SQLiteStore
from sandbox import defaults
from tests.postgres import postgres_cluster, postgres_dsn  # noqa: F401 - fixtures for every test directory

APPID = defaults.DEFAULT_APPID
SECRET = defaults.DEFAULT_SECRET
OTHER_APPID = "wx0000000000000002"
OTHER_SECRET = "0" * 32

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@functools.cache
def v3_material(mch_id: str = defaults.DEFAULT_MCH_ID) -> KeyMaterial:
    """A merchant's API v3 keys, made once per test session (three RSA keys take ~0.1-0.3 s).

    Valid from the real time, as clients such as wechatpayv3 check certificates against it."""
    return v3_keys.generate(mch_id, time.time())


def make_config(**overrides: object) -> WeChatConfig:
    """The default account and merchant (its API v3 keys configured), a second account, three fixed users."""
    users = (
        User(id="alice", nickname="爱丽丝", sex=2, province="广东", city="深圳", country="中国"),
        User(id="bob", nickname="Bob <b>&", sex=1, province="北京", city="北京", country="中国"),
        User(id="snap", nickname="快照用户", snapshot=True),
    )
    other = Account(appid=OTHER_APPID, secret=OTHER_SECRET, name="Other", unionid=False)
    values: dict[str, object] = {
        "accounts": (defaults.default_account(), other),
        "users": users,
        "merchants": (replace(defaults.default_merchant(), v3_keys=v3_material()),),
        "seed": 7,
    }
    values.update(overrides)
    return WeChatConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def config() -> WeChatConfig:
    return make_config()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store() -> SQLiteStore:
    return SQLiteStore.in_memory()


@pytest.fixture
def wechat_app(config: WeChatConfig, clock: ManualClock, store: SQLiteStore) -> web.Application:
    """mock_wechat alone, on a manual clock."""
    return mock_wechat.create_app(config, store=store, clock=clock, ids=Ids(7))


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, wechat_app: web.Application
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(wechat_app)
