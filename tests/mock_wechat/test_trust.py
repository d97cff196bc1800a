"""The request guard: pages of other sites cannot drive the sandbox; rebinding names cannot read or change it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat import trust
from mock_wechat.config import WeChatConfig
from mock_wechat.pay.v2_dialect import sandbox_signkey
from sandbox import defaults
from tests.conftest import ClientFactory, make_config
from tests.pay_helpers import MCH_KEY, order_fields, parse, signed_xml
from tests.wire import RID

Client = TestClient[web.Request, web.Application]

EVIL = "http://evil.invalid"
REBINDING = "evil.invalid:8600"
NULL_REFUSAL = (
    "Origin null (a sandboxed frame or a file page) may not POST {path}; trusted: loopback pages, the configured "
    "domains and the sandbox's own pages (server SDKs send no Origin)"
)
EVIL_REFUSAL = (
    "a page from http://evil.invalid may not POST {path}; trusted: loopback pages, the configured "
    "domains and the sandbox's own pages (server SDKs send no Origin)"
)
HOST_REFUSAL = (
    "Host 'evil.invalid:8600' is neither this machine nor a configured name (a DNS-rebinding page?); "
    "to serve it under that name, add it to [sandbox] allowed_hosts in the config file"
)


async def api(aiohttp_client: ClientFactory, config: WeChatConfig | None = None) -> Client:
    return await aiohttp_client(sandbox.create_app(config or make_config()))


async def order_count(client: Client) -> int:
    return len((await (await client.get("/_sandbox/api/orders")).json())["orders"])


# -- Origin: pages of other sites, sandboxed frames --------------------------------------------------------


async def test_origin_null_cannot_widen_the_notify_allowlist(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    path = "/_sandbox/api/merchants/1900000109"
    resp = await client.post(path, data='{"notify_hosts": ["notify.invalid"]}', headers={"Origin": "null"})
    assert resp.status == 403
    assert await resp.json() == {"error": NULL_REFUSAL.format(path=path)}
    merchants = (await (await client.get("/_sandbox/api/config")).json())["merchants"]
    assert merchants[0]["notify_hosts"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sandbox/api/reset", ""),
        ("/_sandbox/api/users", '{"id": "mallory"}'),
        ("/_sandbox/api/clock", '{"advance": 86400}'),
        ("/_sandbox/api/accounts/wx5a4db0c0ffee0001", '{"oauth_domains": ["evil.invalid"]}'),
        ("/_sandbox/bridge/invoke", '{"name": "getNetworkType"}'),
    ],
)
async def test_origin_null_cannot_change_the_sandbox(aiohttp_client: ClientFactory, path: str, body: str) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(path, data=body, headers={"Origin": "null", "Content-Type": "text/plain"})
    assert resp.status == 403
    assert await resp.json() == {"error": NULL_REFUSAL.format(path=path)}


async def test_origin_null_cannot_pay_an_order(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    status, _ = await post_order(client, "/pay/unifiedorder", signed_xml(order_fields(), MCH_KEY), origin=None)
    assert status == 200
    path = f"/_sandbox/api/orders/{defaults.DEFAULT_MCH_ID}/T20240101000001/pay"
    resp = await client.post(path, data='{"outcome": "success"}', headers={"Origin": "null"})
    assert resp.status == 403
    assert await resp.json() == {"error": NULL_REFUSAL.format(path=path)}
    orders = (await (await client.get("/_sandbox/api/orders")).json())["orders"]
    assert [o["trade_state"] for o in orders] == ["NOTPAY"]


async def test_a_foreign_page_cannot_reset_the_sandbox(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    path = "/_sandbox/api/reset"
    resp = await client.post(path, headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert resp.status == 403
    assert await resp.json() == {"error": EVIL_REFUSAL.format(path=path)}


async def test_a_foreign_page_cannot_widen_the_notify_allowlist(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(
        "/_sandbox/api/merchants/1900000109", data='{"notify_hosts": ["10.255.255.1"]}',
        headers={"Origin": EVIL, "Content-Type": "text/plain"},
    )  # fmt: skip
    assert resp.status == 403
    merchants = (await (await client.get("/_sandbox/api/config")).json())["merchants"]
    assert merchants[0]["notify_hosts"] == []


async def test_loopback_pages_and_scripts_may_call_it(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    assert (await client.post("/_sandbox/api/reset", headers={"Origin": "http://127.0.0.1:5000"})).status == 200
    assert (await client.post("/_sandbox/api/reset", headers={"Origin": "http://localhost:3000"})).status == 200
    assert (await client.post("/_sandbox/api/reset")).status == 200


async def test_a_configured_domain_may_use_the_bridge(aiohttp_client: ClientFactory) -> None:
    account = replace(defaults.default_account(), js_domains=("shop.example.com",), trust_loopback=False)
    client = await api(aiohttp_client, make_config(accounts=(account,)))
    resp = await client.post(
        "/_sandbox/bridge/invoke", data='{"name": "getNetworkType"}', headers={"Origin": "https://shop.example.com"}
    )
    assert resp.status != 403


# -- Cross-site requests to WeChat's paths (SSRF through notify_url) ------------------------------------------


async def post_order(client: Client, path: str, body: bytes, origin: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "text/plain"}
    if origin is not None:
        headers["Origin"] = origin
    resp = await client.post(path, data=body, headers=headers)
    return resp.status, await resp.text()


async def test_a_foreign_page_cannot_place_a_sandbox_order_that_notifies_a_local_service(
    aiohttp_client: ClientFactory,
) -> None:
    client = await api(aiohttp_client)
    key = sandbox_signkey(defaults.default_merchant())
    body = signed_xml(order_fields(total_fee=101, notify_url="http://127.0.0.1:6379/anything"), key)
    path = "/sandboxnew/pay/unifiedorder"
    status, text = await post_order(client, path, body, EVIL)
    assert status == 403
    assert parse(text) == {"return_code": "FAIL", "return_msg": EVIL_REFUSAL.format(path=path)}
    assert await order_count(client) == 0
    notes = (await (await client.get("/_sandbox/api/notifications")).json())["notifications"]
    assert notes == []


async def test_a_server_sdk_without_origin_places_the_same_order(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    key = sandbox_signkey(defaults.default_merchant())
    body = signed_xml(order_fields(total_fee=101), key)
    status, text = await post_order(client, "/sandboxnew/pay/unifiedorder", body, None)
    assert status == 200
    assert parse(text)["result_code"] == "SUCCESS"


async def test_a_foreign_page_cannot_post_to_the_json_api(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post("/cgi-bin/stable_token", data="{}", headers={"Origin": EVIL})
    assert resp.status == 403
    body = await resp.json()
    assert set(body) == {"errcode", "errmsg", "hint"}
    assert body["errcode"] == -1
    match = RID.match(body["errmsg"])
    assert match is not None
    assert match["msg"] == "system error"
    assert body["hint"] == EVIL_REFUSAL.format(path="/cgi-bin/stable_token")


async def test_the_refusal_is_in_the_journal(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    await client.post("/pay/unifiedorder", data=b"<xml/>", headers={"Origin": "null"})
    entries = (await (await client.get("/_sandbox/api/journal")).json())["entries"]
    refused = [e for e in entries if e["path"] == "/pay/unifiedorder"]
    assert refused[-1]["status"] == 403
    assert refused[-1]["error"] == "Refused"
    assert refused[-1]["diagnostic"] == NULL_REFUSAL.format(path="/pay/unifiedorder")


# -- Host: DNS rebinding ---------------------------------------------------------------------------------------


async def test_a_rebinding_host_name_cannot_read_the_console(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.get("/_sandbox/", headers={"Host": REBINDING})
    assert resp.status == 403
    text = await resp.text()
    assert defaults.DEFAULT_MCH_KEY not in text
    assert await resp.json() == {"error": HOST_REFUSAL}


async def test_a_rebinding_host_name_cannot_read_the_config(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.get("/_sandbox/api/config", headers={"Host": REBINDING})
    assert resp.status == 403
    assert await resp.json() == {"error": HOST_REFUSAL}


async def test_a_rebinding_host_name_cannot_place_an_order(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.post(
        "/pay/unifiedorder", data=signed_xml(order_fields(), MCH_KEY),
        headers={"Host": REBINDING, "Origin": f"http://{REBINDING}"},
    )  # fmt: skip
    assert resp.status == 403
    assert parse(await resp.text()) == {"return_code": "FAIL", "return_msg": HOST_REFUSAL}
    assert await order_count(client) == 0


async def test_a_rebinding_host_name_gets_no_authorize_page(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    resp = await client.get("/connect/oauth2/authorize", headers={"Host": REBINDING})
    assert resp.status == 403
    assert "该链接无法访问" in await resp.text()


@pytest.mark.parametrize(
    "host", ["localhost:8600", "127.0.0.1:8600", "192.168.1.20:8600", "[::1]:8600", "api.mch.weixin.qq.com"]
)
async def test_this_machine_and_wechats_hosts_are_served(aiohttp_client: ClientFactory, host: str) -> None:
    client = await api(aiohttp_client)
    assert (await client.get("/_sandbox/api/config", headers={"Host": host})).status == 200


async def test_an_allowed_host_name_is_served_and_its_own_pages_may_post(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client, make_config(allowed_hosts=("wechat-sandbox",)))
    host = "wechat-sandbox:8600"
    assert (await client.get("/_sandbox/api/config", headers={"Host": host})).status == 200
    resp = await client.post("/_sandbox/api/reset", headers={"Host": host, "Origin": f"http://{host}"})
    assert resp.status == 200


async def test_public_assets_load_under_any_host(aiohttp_client: ClientFactory) -> None:
    client = await api(aiohttp_client)
    assert (await client.get("/open/js/jweixin-1.6.0.js", headers={"Host": REBINDING})).status == 200


# -- the rules, without HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "host", "origin", "refused"),
    [
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", None, False),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "null", True),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "http://127.0.0.1:8600", False),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "https://open.weixin.qq.com", False),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "http://evil.invalid", True),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "http://127.0.0.1.evil.invalid", True),
        ("POST", "/pay/unifiedorder", "127.0.0.1:8600", "not an origin", True),
        ("GET", "/cgi-bin/token", "127.0.0.1:8600", "http://evil.invalid", False),
        ("GET", "/_sandbox/", "localhost.:8600", None, False),
        ("GET", "/_sandbox/", "[", None, True),
        ("GET", "/_sandbox/", "evil.invalid", None, True),
        ("GET", "/_sandbox/", "127.0.0.1.nip.io", None, True),
        ("GET", "/_sandbox/", None, None, False),
        ("PATCH", "/_sandbox/api/users/alice", "127.0.0.1", "http://evil.invalid:80", True),
    ],
)
def test_refusal_rules(method: str, path: str, host: str | None, origin: str | None, refused: bool) -> None:
    assert (trust.refusal(method, path, host, origin, make_config()) is not None) == refused
