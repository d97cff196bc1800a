"""The demo shop as `wechat-sandbox up` runs it, in the test's loop: the sandbox beside it, a shopper's HTTP client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

import demo_shop
import sandbox
from demo_shop.settings import PayApi
from mock_wechat.config import WeChatConfig
from sandbox import up
from tests.conftest import make_config

AS_ALICE = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "allow"}
"""What a script sends instead of picking a user and allowing on the authorize page."""
CHECKOUT = re.compile(r"^/checkout/(?P<out_trade_no>\w+)$")


@dataclass
class World:
    """The sandbox, and the shop on a fixed port keeping its orders in `data_dir` (None: memory), restartable."""

    sandbox: TestServer
    config: WeChatConfig
    shop_url: str
    data_dir: Path | None
    http: aiohttp.ClientSession
    pay_api: PayApi = "v2"
    shops: list[TestServer] = field(default_factory=list)

    @property
    def sandbox_url(self) -> str:
        return str(self.sandbox.make_url("")).rstrip("/")

    @property
    def shop(self) -> web.Application:
        return self.shops[-1].app

    async def start_shop(self) -> web.Application:
        """A new shop app (the one before it stopped), as a restart of `up` builds it."""
        if self.shops:
            await self.shops[-1].close()
        keys = await up.shop_keys(self.sandbox.app, self.config) if self.pay_api == "v3" else None
        settings = up.shop_settings(
            self.config, self.sandbox_url, self.shop_url, pay_api=self.pay_api, keys=keys, data_dir=self.data_dir
        )
        server = TestServer(demo_shop.create_app(settings), host="127.0.0.1", port=int(self.shop_url.rsplit(":", 1)[1]))
        await server.start_server()
        self.shops.append(server)
        return server.app

    async def get(self, url: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """One request, redirects not followed (each hop is checked by the caller)."""
        return await self.http.get(
            url if url.startswith("http") else self.shop_url + url, allow_redirects=False, **kwargs
        )

    async def post(self, url: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.http.post(
            url if url.startswith("http") else self.shop_url + url, allow_redirects=False, **kwargs
        )

    async def sign_in(self, path: str = "/login") -> str:
        """Through WeChat's authorize page as alice, who allows; where the shop sends the browser afterwards."""
        to_wechat = await self.get(path)
        assert to_wechat.status == 302, await to_wechat.text()
        back = await self.get(to_wechat.headers["Location"], headers=AS_ALICE)
        assert back.status == 302, await back.text()
        assert back.headers["Location"].startswith(f"{self.shop_url}/auth/callback?")
        done = await self.get(back.headers["Location"])
        assert done.status == 302, await done.text()
        return done.headers["Location"]

    async def buy(self, product: str = "coffee") -> str:
        """A new order, as the product page's form places it: its out_trade_no."""
        placed = await self.post("/orders", data={"product": product})
        assert placed.status == 302, await placed.text()
        found = CHECKOUT.match(placed.headers["Location"])
        assert found is not None, placed.headers["Location"]
        return found["out_trade_no"]

    async def prepay(self, out_trade_no: str) -> aiohttp.ClientResponse:
        """What the checkout page asks before it opens the pay sheet: the unified order is placed at WeChat."""
        resp = await self.post(f"/api/prepay/{out_trade_no}")
        assert resp.status == 200, await resp.text()
        return resp

    async def sandbox_json(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, self.sandbox_url + path, json=body) as resp:
            assert resp.status in (200, 201), await resp.text()
            return await resp.json()


async def open_world(data_dir: Path | None, pay_api: PayApi = "v2") -> World:
    shop_url = f"http://127.0.0.1:{unused_port()}"
    config = up.demo_config(make_config(), shop_url)
    server = TestServer(sandbox.create_app(config), host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1
    world = World(server, config, shop_url, data_dir, http, pay_api)
    await world.start_shop()
    return world


async def close_world(world: World) -> None:
    await world.http.close()
    if world.shops:
        await world.shops[-1].close()
    await world.sandbox.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The shop keeping its orders in a data dir (as `up --data-dir` runs it), signed in as alice."""
    found = await open_world(tmp_path / "data")
    try:
        assert await found.sign_in() == "/"
        yield found
    finally:
        await close_world(found)
