"""Pages of other sites cannot drive the sandbox's own endpoints; rebinding names cannot read them."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from tests.conftest import ClientFactory, make_config

Client = TestClient[web.Request, web.Application]


async def api(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def test_a_foreign_page_cannot_reset_the_sandbox(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(
        "/_sandbox/api/reset", headers={"Origin": "https://evil.example", "Content-Type": "text/plain"}
    )
    assert resp.status == 403
    body = await resp.json()
    assert body["error"].startswith("a page from https://evil.example may not call /_sandbox/api/reset")


async def test_a_foreign_page_cannot_widen_the_notify_allowlist(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(
        "/_sandbox/api/merchants/1900000109", data='{"notify_hosts": ["10.255.255.1"]}',
        headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
    )  # fmt: skip
    assert resp.status == 403
    merchants = (await (await client.get("/_sandbox/api/config")).json())["merchants"]
    assert merchants[0]["notify_hosts"] == []


async def test_a_foreign_page_cannot_use_the_bridge(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(
        "/_sandbox/bridge/invoke", data='{"name": "getNetworkType"}', headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403


async def test_loopback_pages_and_scripts_may_call_it(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    assert (await client.post("/_sandbox/api/reset", headers={"Origin": "http://127.0.0.1:5000"})).status == 200
    assert (await client.post("/_sandbox/api/reset")).status == 200


async def test_a_rebinding_host_name_cannot_read_the_config(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.get("/_sandbox/api/config", headers={"Host": "attacker.example:8600"})
    assert resp.status == 403
    assert (await client.get("/_sandbox/api/config", headers={"Host": "localhost:8600"})).status == 200
    assert (await client.get("/_sandbox/api/config", headers={"Host": "192.168.1.20:8600"})).status == 200
