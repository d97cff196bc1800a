"""The error middleware: unknown paths, body limit, unexpected exceptions and exchange observers."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat import errors
from mock_wechat.clock import ManualClock
from mock_wechat.config import WeChatConfig
from mock_wechat.dialects import Wire, speaks
from mock_wechat.ids import Ids
from mock_wechat.keys import Exchange, Observer
from mock_wechat.middleware import MAX_BODY
from tests.conftest import APPID, SECRET, ClientFactory
from tests.pay_helpers import parse
from tests.wire import RID, assert_api_error

Client = TestClient[web.Request, web.Application]

TOKEN_PARAMS = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


def build_app(config: WeChatConfig, clock: ManualClock, observers: list[Observer] | None = None) -> web.Application:
    return mock_wechat.create_app(config, clock=clock, ids=Ids(7), observers=observers or [])


def assert_unknown_path_body(body: Any) -> str:
    """`{"errcode": -1, "errmsg": "system error, rid: …", "hint": "…"}`; returns the hint."""
    assert isinstance(body, dict)
    assert set(body) == {"errcode", "errmsg", "hint"}, body
    assert body["errcode"] == -1
    match = RID.match(body["errmsg"])
    assert match is not None, body
    assert match["msg"] == "system error"
    assert isinstance(body["hint"], str)
    return body["hint"]


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("boom")


# -- unknown paths -----------------------------------------------------------------------------------


async def test_unknown_path_is_404_json_system_error_with_hint(client: Client) -> None:
    resp = await client.get("/no/such/endpoint")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    hint = assert_unknown_path_body(await resp.json())
    assert "GET /no/such/endpoint" in hint


async def test_unknown_path_hint_names_the_method(client: Client) -> None:
    resp = await client.post("/no/such/endpoint")
    assert resp.status == 404
    assert "POST /no/such/endpoint" in assert_unknown_path_body(await resp.json())


async def test_near_miss_path_hint_suggests_the_real_path(client: Client) -> None:
    resp = await client.get("/cgi-bin/tokn")
    assert resp.status == 404
    assert "Did you mean /cgi-bin/token" in assert_unknown_path_body(await resp.json())


async def test_near_miss_sns_path_hint_suggests_the_real_path(client: Client) -> None:
    resp = await client.get("/sns/userinf")
    assert "Did you mean /sns/userinfo" in assert_unknown_path_body(await resp.json())


async def test_far_off_path_hint_suggests_nothing(client: Client) -> None:
    resp = await client.get("/zzzzzzzzzzzzzzzzzzzzzzzz")
    assert "Did you mean" not in assert_unknown_path_body(await resp.json())


# -- rid ---------------------------------------------------------------------------------------------


async def test_rid_begins_with_the_request_time_in_hex(client: Client, clock: ManualClock) -> None:
    resp = await client.get("/cgi-bin/token", params={**TOKEN_PARAMS, "secret": "wrong"})
    errmsg = (await resp.json())["errmsg"]
    assert errmsg.split("rid: ")[1].startswith(f"{int(clock.now()):08x}-")


async def test_rid_differs_between_requests(client: Client) -> None:
    first = await (await client.get("/cgi-bin/token")).json()
    second = await (await client.get("/cgi-bin/token")).json()
    assert first["errmsg"] != second["errmsg"]


# -- wrong methods -----------------------------------------------------------------------------------


async def test_post_to_get_endpoint_is_43001(client: Client) -> None:
    resp = await client.post("/sns/userinfo")
    assert resp.status == 200
    assert_api_error(await resp.json(), 43001, "require GET method")


async def test_get_to_post_endpoint_is_43002(client: Client) -> None:
    resp = await client.get("/cgi-bin/stable_token")
    assert resp.status == 200
    assert_api_error(await resp.json(), 43002, "require POST method")


# -- body limit --------------------------------------------------------------------------------------


async def test_body_over_1_mib_is_413_with_45002(client: Client) -> None:
    resp = await client.post(
        "/cgi-bin/stable_token", data=io.BytesIO(b"x" * (MAX_BODY + 1)), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert_api_error(await resp.json(), 45002, "content size out of limit")


async def test_body_of_exactly_1_mib_reaches_the_handler(client: Client) -> None:
    resp = await client.post(
        "/cgi-bin/stable_token", data=io.BytesIO(b"x" * MAX_BODY), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    assert_api_error(await resp.json(), 47001, "data format error")


# -- unexpected exceptions ---------------------------------------------------------------------------


async def test_unexpected_exception_is_system_error(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_get("/cgi-bin/boom", boom)
    client = await aiohttp_client(app)
    resp = await client.get("/cgi-bin/boom")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert_api_error(await resp.json(), -1, "system error")


async def test_server_keeps_serving_after_an_unexpected_exception(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_get("/cgi-bin/boom", boom)
    client = await aiohttp_client(app)
    await client.get("/cgi-bin/boom")
    resp = await client.get("/cgi-bin/token", params=TOKEN_PARAMS)
    assert resp.status == 200
    assert set(await resp.json()) == {"access_token", "expires_in"}


async def test_unexpected_exception_never_leaks_its_message(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_get("/cgi-bin/boom", boom)
    client = await aiohttp_client(app)
    resp = await client.get("/cgi-bin/boom")
    text = await resp.text()
    assert "boom" not in text
    assert "Traceback" not in text


async def broken_body(request: web.Request) -> web.Response:
    raise web.RequestPayloadError("400, message: bad chunk")


async def test_a_body_that_breaks_mid_way_is_400_and_closes_the_connection(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_post("/cgi-bin/broken", broken_body)
    client = await aiohttp_client(app)
    resp = await client.post("/cgi-bin/broken", data=b"x")
    assert resp.status == 400
    assert_api_error(await resp.json(), -1, "system error")
    assert resp.headers.get("Connection", "").lower() != "keep-alive"


async def test_a_v2_body_that_breaks_mid_way_is_return_code_fail(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_post("/pay/broken", broken_body)
    client = await aiohttp_client(app)
    resp = await client.post("/pay/broken", data=b"<xml>")
    assert resp.status == 400
    assert parse(await resp.text()) == {"return_code": "FAIL", "return_msg": "XML格式错误"}


@speaks(Wire.V3)
async def v3_somewhere(request: web.Request) -> web.Response:
    raise errors.V3InvalidRequest("declared by the route")


async def test_the_route_picks_the_dialect_not_the_path(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    app = build_app(config, clock)
    app.router.add_get("/cgi-bin/speaks-v3", v3_somewhere)
    client = await aiohttp_client(app)
    resp = await client.get("/cgi-bin/speaks-v3")
    assert resp.status == 400
    assert await resp.json() == {"code": "INVALID_REQUEST", "message": "无效请求"}


# -- observers ---------------------------------------------------------------------------------------


async def test_observer_receives_an_exchange_with_wire_code_and_diagnostic(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    client = await aiohttp_client(build_app(config, clock, [seen.append]))
    resp = await client.get("/cgi-bin/token", params={**TOKEN_PARAMS, "secret": "wrong"})
    body = await resp.json()
    assert len(seen) == 1
    exchange = seen[0]
    assert (exchange.method, exchange.path, exchange.status) == ("GET", "/cgi-bin/token", 200)
    assert exchange.query == {**TOKEN_PARAMS, "secret": "wrong"}
    assert exchange.wire_code == 40125
    assert exchange.error == "InvalidAppsecret"
    assert exchange.diagnostic.startswith(f"secret does not match appid {APPID}")
    assert exchange.time == clock.now()
    assert body["errmsg"].endswith(f"rid: {exchange.rid}")
    assert exchange.duration_ms >= 0


async def test_observer_sees_a_success_without_error(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    client = await aiohttp_client(build_app(config, clock, [seen.append]))
    await client.get("/cgi-bin/token", params=TOKEN_PARAMS)
    assert len(seen) == 1
    assert (seen[0].status, seen[0].wire_code, seen[0].error, seen[0].diagnostic) == (200, None, None, "")


async def test_observer_sees_unexpected_exception_as_system_error(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    app = build_app(config, clock, [seen.append])
    app.router.add_get("/cgi-bin/boom", boom)
    client = await aiohttp_client(app)
    await client.get("/cgi-bin/boom")
    assert seen[0].wire_code == -1
    assert seen[0].error == "SystemError"
    assert "unexpected RuntimeError: boom" in seen[0].diagnostic


async def test_observer_sees_unknown_path_as_404(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    client = await aiohttp_client(build_app(config, clock, [seen.append]))
    await client.get("/cgi-bin/tokn")
    assert (seen[0].status, seen[0].wire_code, seen[0].error) == (404, -1, "UnknownPath")
    assert "Did you mean /cgi-bin/token" in seen[0].diagnostic


async def test_observer_receives_the_notes_of_the_authorize_page(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    client = await aiohttp_client(build_app(config, clock, [seen.append]))
    await client.get(
        "/connect/oauth2/authorize",
        params={
            "appid": APPID,
            "redirect_uri": "http://127.0.0.1:9000/cb",
            "response_type": "code",
            "scope": "snsapi_base",
            "state": "s",
        },
        headers={"X-WeChat-Sandbox-User": "alice"},
        allow_redirects=False,
    )
    assert seen[0].status == 302
    assert any(note.startswith("code issued to alice") for note in seen[0].notes), seen[0].notes


async def test_failing_observer_does_not_break_the_response(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    def broken(exchange: Exchange) -> None:
        raise ValueError("observer bug")

    client = await aiohttp_client(build_app(config, clock, [broken]))
    resp = await client.get("/cgi-bin/token", params=TOKEN_PARAMS)
    assert resp.status == 200
    assert set(await resp.json()) == {"access_token", "expires_in"}


async def test_failing_observer_does_not_starve_later_observers(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock
) -> None:
    def broken(exchange: Exchange) -> None:
        raise ValueError("observer bug")

    seen: list[Exchange] = []
    client = await aiohttp_client(build_app(config, clock, [broken, seen.append]))
    await client.get("/cgi-bin/token", params=TOKEN_PARAMS)
    assert len(seen) == 1
