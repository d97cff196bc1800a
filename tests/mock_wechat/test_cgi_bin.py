"""`/cgi-bin/token`, `/cgi-bin/stable_token`, `/cgi-bin/ticket/getticket` on the wire."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

from mock_wechat.clock import ManualClock
from tests.conftest import APPID, OTHER_APPID, OTHER_SECRET, SECRET
from tests.wire import assert_api_error

Client = TestClient[web.Request, web.Application]

TOKEN_PARAMS = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
STABLE_BODY: dict[str, Any] = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


async def get_token(client: Client) -> str:
    resp = await client.get(
        "/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    )
    body = await resp.json()
    return str(body["access_token"])


async def token_call(client: Client, **overrides: str) -> Any:
    """`GET /cgi-bin/token` with the default credentials, some replaced (an empty value drops the parameter)."""
    params = {k: v for k, v in {**TOKEN_PARAMS, **overrides}.items() if v}
    resp = await client.get("/cgi-bin/token", params=params)
    assert resp.status == 200
    return await resp.json()


async def stable_call(client: Client, **fields: Any) -> Any:
    """`POST /cgi-bin/stable_token` with the default credentials and `fields` merged in."""
    resp = await client.post("/cgi-bin/stable_token", json={**STABLE_BODY, **fields})
    assert resp.status == 200
    return await resp.json()


async def stable_token(client: Client, force_refresh: bool = False) -> str:
    body = await stable_call(client, force_refresh=force_refresh)
    assert set(body) == {"access_token", "expires_in"}, body
    return str(body["access_token"])


async def stable_raw(client: Client, data: bytes) -> Any:
    resp = await client.post("/cgi-bin/stable_token", data=data, headers={"Content-Type": "application/json"})
    assert resp.status == 200
    return await resp.json()


async def getticket(client: Client, access_token: str, type_: str = "jsapi") -> Any:
    resp = await client.get("/cgi-bin/ticket/getticket", params={"access_token": access_token, "type": type_})
    assert resp.status == 200
    return await resp.json()


async def assert_token_works(client: Client, access_token: str) -> None:
    body = await getticket(client, access_token)
    assert body["errcode"] == 0, body


# -- /cgi-bin/token ----------------------------------------------------------------------------------


async def test_token_returns_token_and_numeric_expiry(client: Client) -> None:
    resp = await client.get(
        "/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    )
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200
    assert isinstance(body["access_token"], str)
    assert len(body["access_token"]) > 32


async def test_token_expiry_is_a_json_integer(client: Client) -> None:
    body = await token_call(client)
    assert type(body["expires_in"]) is int


async def test_token_answers_json_content_type(client: Client) -> None:
    resp = await client.get("/cgi-bin/token", params=TOKEN_PARAMS)
    assert resp.content_type == "application/json"
    assert resp.charset == "utf-8"


async def test_token_is_new_on_each_call(client: Client) -> None:
    first = await get_token(client)
    second = await get_token(client)
    assert first != second


async def test_token_for_second_account(client: Client) -> None:
    body = await token_call(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200


async def test_token_with_wrong_secret_is_40125(client: Client) -> None:
    resp = await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "x"})
    assert_api_error(await resp.json(), 40125, "invalid appsecret")


async def test_token_with_other_accounts_secret_is_40125(client: Client) -> None:
    assert_api_error(await token_call(client, secret=OTHER_SECRET), 40125, "invalid appsecret")


async def test_token_with_wrong_grant_type_is_40002(client: Client) -> None:
    assert_api_error(await token_call(client, grant_type="authorization_code"), 40002, "invalid grant_type")


async def test_token_without_grant_type_is_40002(client: Client) -> None:
    assert_api_error(await token_call(client, grant_type=""), 40002, "invalid grant_type")


async def test_token_without_appid_is_41002(client: Client) -> None:
    assert_api_error(await token_call(client, appid=""), 41002, "appid missing")


async def test_token_with_unknown_appid_is_40013(client: Client) -> None:
    assert_api_error(await token_call(client, appid="wx0123456789abcdef"), 40013, "invalid appid")


async def test_token_without_secret_is_41004(client: Client) -> None:
    assert_api_error(await token_call(client, secret=""), 41004, "appsecret missing")


async def test_token_expires_after_7200_seconds(client: Client, clock: ManualClock) -> None:
    token = await get_token(client)
    clock.advance(7200)
    assert_api_error(await getticket(client, token), 42001, "access_token expired")


async def test_token_still_valid_just_before_7200_seconds(client: Client, clock: ManualClock) -> None:
    token = await get_token(client)
    clock.advance(7199)
    await assert_token_works(client, token)


async def test_previous_token_stays_valid_for_five_minutes(client: Client, clock: ManualClock) -> None:
    old = await get_token(client)
    await get_token(client)
    clock.advance(299)
    resp = await client.get("/cgi-bin/ticket/getticket", params={"access_token": old, "type": "jsapi"})
    assert (await resp.json())["errcode"] == 0
    clock.advance(1)
    resp = await client.get("/cgi-bin/ticket/getticket", params={"access_token": old, "type": "jsapi"})
    assert_api_error(await resp.json(), 40001, "invalid credential, access_token is invalid or not latest")


async def test_new_token_outlives_the_previous_ones_overlap(client: Client, clock: ManualClock) -> None:
    await get_token(client)
    new = await get_token(client)
    clock.advance(301)
    await assert_token_works(client, new)


async def test_token_two_generations_back_is_40001_once_its_overlap_ends(client: Client, clock: ManualClock) -> None:
    oldest = await get_token(client)
    await get_token(client)
    clock.advance(200)
    await get_token(client)
    clock.advance(100)
    assert_api_error(
        await getticket(client, oldest), 40001, "invalid credential, access_token is invalid or not latest"
    )


async def test_token_of_one_account_does_not_supersede_another(client: Client, clock: ManualClock) -> None:
    token = await get_token(client)
    await token_call(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    clock.advance(301)
    await assert_token_works(client, token)


async def test_token_by_post_is_43001(client: Client) -> None:
    resp = await client.post("/cgi-bin/token", params=TOKEN_PARAMS)
    assert resp.status == 200
    assert_api_error(await resp.json(), 43001, "require GET method")


# -- /cgi-bin/stable_token ---------------------------------------------------------------------------


async def test_stable_token_returns_token_and_numeric_expiry(client: Client) -> None:
    body = await stable_call(client)
    assert set(body) == {"access_token", "expires_in"}
    assert type(body["expires_in"]) is int
    assert body["expires_in"] == 7200
    assert isinstance(body["access_token"], str)
    assert len(body["access_token"]) > 32


async def test_stable_token_accepts_explicit_force_refresh_false(client: Client) -> None:
    body = await stable_call(client, force_refresh=False)
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200


async def test_stable_token_repeats_the_same_token_with_decreasing_expiry(client: Client, clock: ManualClock) -> None:
    first = await stable_call(client)
    clock.advance(100)
    second = await stable_call(client)
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == 7100


async def test_stable_token_is_reused_until_its_last_300_seconds(client: Client, clock: ManualClock) -> None:
    first = await stable_call(client)
    clock.advance(6899)
    second = await stable_call(client)
    assert second == {"access_token": first["access_token"], "expires_in": 301}


async def test_stable_token_is_pre_rolled_in_its_last_300_seconds(client: Client, clock: ManualClock) -> None:
    first = await stable_call(client)
    clock.advance(6900)
    second = await stable_call(client)
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 7200


async def test_pre_rolled_stable_token_keeps_working_until_it_expires(client: Client, clock: ManualClock) -> None:
    old = await stable_token(client)
    clock.advance(6900)
    await stable_token(client)
    clock.advance(299)
    await assert_token_works(client, old)
    clock.advance(1)
    assert_api_error(await getticket(client, old), 42001, "access_token expired")


async def test_stable_token_after_expiry_is_a_new_token(client: Client, clock: ManualClock) -> None:
    old = await stable_token(client)
    clock.advance(7200)
    body = await stable_call(client)
    assert body["access_token"] != old
    assert body["expires_in"] == 7200


async def test_stable_token_force_refresh_returns_a_new_token(client: Client) -> None:
    old = await stable_token(client)
    body = await stable_call(client, force_refresh=True)
    assert set(body) == {"access_token", "expires_in"}
    assert body["access_token"] != old
    assert body["expires_in"] == 7200


async def test_stable_token_force_refresh_invalidates_the_old_token_at_once(client: Client) -> None:
    old = await stable_token(client)
    await stable_token(client, force_refresh=True)
    assert_api_error(await getticket(client, old), 40001, "invalid credential, access_token is invalid or not latest")


async def test_stable_token_after_force_refresh_repeats_the_new_token(client: Client, clock: ManualClock) -> None:
    await stable_token(client)
    new = await stable_token(client, force_refresh=True)
    clock.advance(10)
    assert await stable_token(client) == new


async def test_stable_token_force_refresh_within_30_seconds_is_45011(client: Client, clock: ManualClock) -> None:
    await stable_token(client, force_refresh=True)
    clock.advance(29)
    assert_api_error(
        await stable_call(client, force_refresh=True),
        45011,
        "api minute-quota reach limit  mustslower  retry next minute",
    )


async def test_stable_token_refused_force_refresh_keeps_the_current_token(client: Client, clock: ManualClock) -> None:
    current = await stable_token(client, force_refresh=True)
    clock.advance(29)
    await stable_call(client, force_refresh=True)
    await assert_token_works(client, current)
    assert await stable_token(client) == current


async def test_stable_token_force_refresh_after_30_seconds_is_allowed(client: Client, clock: ManualClock) -> None:
    first = await stable_token(client, force_refresh=True)
    clock.advance(30)
    assert await stable_token(client, force_refresh=True) != first


async def test_stable_token_21st_force_refresh_in_a_day_is_45009(client: Client, clock: ManualClock) -> None:
    for _ in range(20):
        await stable_token(client, force_refresh=True)
        clock.advance(30)
    assert_api_error(await stable_call(client, force_refresh=True), 45009, "reach max api daily quota limit")


async def test_stable_token_force_refresh_quota_frees_up_after_a_day(client: Client, clock: ManualClock) -> None:
    for _ in range(20):
        await stable_token(client, force_refresh=True)
        clock.advance(30)
    clock.advance(86_400 - 20 * 30 + 1)
    body = await stable_call(client, force_refresh=True)
    assert set(body) == {"access_token", "expires_in"}


async def test_token_call_does_not_invalidate_a_stable_token(client: Client, clock: ManualClock) -> None:
    stable = await stable_token(client)
    await get_token(client)
    await get_token(client)
    clock.advance(301)
    await assert_token_works(client, stable)


async def test_stable_force_refresh_does_not_invalidate_a_token_call_token(client: Client) -> None:
    token = await get_token(client)
    await stable_token(client, force_refresh=True)
    await assert_token_works(client, token)


async def test_stable_token_differs_from_token_call_token(client: Client) -> None:
    token = await get_token(client)
    assert await stable_token(client) != token


async def test_stable_token_is_per_account(client: Client) -> None:
    mine = await stable_token(client)
    body = await stable_call(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert body["access_token"] != mine


async def test_stable_token_with_bad_json_is_47001(client: Client) -> None:
    assert_api_error(await stable_raw(client, b'{"grant_type": '), 47001, "data format error")


async def test_stable_token_with_non_utf8_body_is_47001(client: Client) -> None:
    assert_api_error(await stable_raw(client, b"\xff\xfe{}"), 47001, "data format error")


async def test_stable_token_with_deeply_nested_json_is_47001(client: Client) -> None:
    assert_api_error(await stable_raw(client, b"[" * 100_000 + b"]" * 100_000), 47001, "data format error")


async def test_stable_token_with_json_array_is_47001(client: Client) -> None:
    assert_api_error(await stable_raw(client, b"[]"), 47001, "data format error")


async def test_stable_token_with_empty_body_is_44002(client: Client) -> None:
    assert_api_error(await stable_raw(client, b""), 44002, "empty post data")


async def test_stable_token_with_blank_body_is_44002(client: Client) -> None:
    assert_api_error(await stable_raw(client, b"  \n"), 44002, "empty post data")


async def test_stable_token_with_numeric_appid_is_47001(client: Client) -> None:
    assert_api_error(await stable_call(client, appid=123), 47001, "data format error")


async def test_stable_token_with_null_secret_is_47001(client: Client) -> None:
    assert_api_error(await stable_call(client, secret=None), 47001, "data format error")


async def test_stable_token_with_list_grant_type_is_47001(client: Client) -> None:
    assert_api_error(await stable_call(client, grant_type=["client_credential"]), 47001, "data format error")


async def test_stable_token_with_string_force_refresh_is_47001(client: Client) -> None:
    assert_api_error(await stable_call(client, force_refresh="true"), 47001, "data format error")


async def test_stable_token_with_wrong_grant_type_is_40002(client: Client) -> None:
    assert_api_error(await stable_call(client, grant_type="refresh_token"), 40002, "invalid grant_type")


async def test_stable_token_without_appid_is_41002(client: Client) -> None:
    assert_api_error(await stable_call(client, appid=""), 41002, "appid missing")


async def test_stable_token_with_unknown_appid_is_40013(client: Client) -> None:
    assert_api_error(await stable_call(client, appid="wx0123456789abcdef"), 40013, "invalid appid")


async def test_stable_token_without_secret_is_41004(client: Client) -> None:
    assert_api_error(await stable_call(client, secret=""), 41004, "appsecret missing")


async def test_stable_token_with_wrong_secret_is_40125(client: Client) -> None:
    assert_api_error(await stable_call(client, secret="x"), 40125, "invalid appsecret")


async def test_stable_token_by_get_is_43002(client: Client) -> None:
    resp = await client.get("/cgi-bin/stable_token", params=TOKEN_PARAMS)
    assert resp.status == 200
    assert_api_error(await resp.json(), 43002, "require POST method")


# -- /cgi-bin/ticket/getticket -----------------------------------------------------------------------


async def test_getticket_returns_exactly_errcode_errmsg_ticket_expires_in(client: Client) -> None:
    body = await getticket(client, await get_token(client))
    assert set(body) == {"errcode", "errmsg", "ticket", "expires_in"}
    assert type(body["errcode"]) is int
    assert body["errcode"] == 0
    assert body["errmsg"] == "ok"
    assert type(body["expires_in"]) is int
    assert body["expires_in"] == 7200
    assert isinstance(body["ticket"], str)
    assert len(body["ticket"]) > 32


async def test_getticket_returns_the_same_ticket_while_valid(client: Client, clock: ManualClock) -> None:
    token = await get_token(client)
    first = await getticket(client, token)
    clock.advance(100)
    second = await getticket(client, token)
    assert second["ticket"] == first["ticket"]
    assert second["expires_in"] == 7100


async def test_getticket_returns_the_same_ticket_to_a_newer_token(client: Client, clock: ManualClock) -> None:
    first = await getticket(client, await get_token(client))
    clock.advance(60)
    second = await getticket(client, await get_token(client))
    assert second["ticket"] == first["ticket"]


async def test_getticket_rolls_the_ticket_in_its_last_300_seconds(client: Client, clock: ManualClock) -> None:
    first = await getticket(client, await get_token(client))
    clock.advance(6900)
    second = await getticket(client, await get_token(client))
    assert second["ticket"] != first["ticket"]
    assert second["expires_in"] == 7200


async def test_getticket_works_with_a_stable_token(client: Client) -> None:
    body = await getticket(client, await stable_token(client))
    assert set(body) == {"errcode", "errmsg", "ticket", "expires_in"}
    assert body["errcode"] == 0


async def test_getticket_gives_stable_and_plain_tokens_the_same_ticket(client: Client) -> None:
    via_token = await getticket(client, await get_token(client))
    via_stable = await getticket(client, await stable_token(client))
    assert via_stable["ticket"] == via_token["ticket"]


async def test_getticket_wx_card_is_a_separate_ticket(client: Client) -> None:
    token = await get_token(client)
    jsapi = await getticket(client, token, "jsapi")
    card = await getticket(client, token, "wx_card")
    assert set(card) == {"errcode", "errmsg", "ticket", "expires_in"}
    assert card["errcode"] == 0
    assert card["ticket"] != jsapi["ticket"]


async def test_getticket_is_per_account(client: Client) -> None:
    mine = await getticket(client, await get_token(client))
    other_token = (await token_call(client, appid=OTHER_APPID, secret=OTHER_SECRET))["access_token"]
    other = await getticket(client, other_token)
    assert other["ticket"] != mine["ticket"]


async def test_getticket_without_access_token_is_41001(client: Client) -> None:
    resp = await client.get("/cgi-bin/ticket/getticket", params={"type": "jsapi"})
    assert_api_error(await resp.json(), 41001, "access_token missing")


async def test_getticket_with_unknown_token_is_40001(client: Client) -> None:
    assert_api_error(
        await getticket(client, "not-a-token"), 40001, "invalid credential, access_token is invalid or not latest"
    )


async def test_getticket_with_a_web_authorization_token_is_40001(client: Client) -> None:
    resp = await client.get(
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
    code = URL(resp.headers["Location"]).query["code"]
    resp = await client.get(
        "/sns/oauth2/access_token",
        params={"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"},
    )
    web_token = (await resp.json())["access_token"]
    assert_api_error(
        await getticket(client, web_token), 40001, "invalid credential, access_token is invalid or not latest"
    )


async def test_getticket_with_expired_token_is_42001(client: Client, clock: ManualClock) -> None:
    token = await get_token(client)
    clock.advance(7200)
    assert_api_error(await getticket(client, token), 42001, "access_token expired")


async def test_getticket_with_bad_type_is_40097(client: Client) -> None:
    assert_api_error(await getticket(client, await get_token(client), "card"), 40097, "invalid args")


async def test_getticket_without_type_is_40097(client: Client) -> None:
    resp = await client.get("/cgi-bin/ticket/getticket", params={"access_token": await get_token(client)})
    assert_api_error(await resp.json(), 40097, "invalid args")


async def test_getticket_by_post_is_43001(client: Client) -> None:
    token = await get_token(client)
    resp = await client.post("/cgi-bin/ticket/getticket", params={"access_token": token, "type": "jsapi"})
    assert_api_error(await resp.json(), 43001, "require GET method")
