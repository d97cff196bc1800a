"""The control API under `/_sandbox/api/`: health, config, reset, clock, users and the journal."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

import sandbox
from mock_wechat.config import WeChatConfig
from mock_wechat.ids import openid_for, unionid_for
from mock_wechat.keys import KEYRING
from mock_wechat.pay import v3_keys
from mock_wechat.pay.v3_keys import MerchantKeys
from mock_wechat.store import SQLiteStore
from sandbox import defaults
from sandbox.masking import mask
from tests.conftest import APPID, OTHER_APPID, SECRET, ClientFactory, make_config, v3_material
from tests.wire import RID, assert_api_error

Client = TestClient[web.Request, web.Application]

REDIRECT_URI = "http://127.0.0.1:9000/cb"
EMULATED = {
    "/cgi-bin/token",
    "/cgi-bin/stable_token",
    "/cgi-bin/ticket/getticket",
    "/connect/oauth2/authorize",
    "/sns/oauth2/access_token",
    "/sns/oauth2/refresh_token",
    "/sns/userinfo",
    "/sns/auth",
}
INVALID_CREDENTIAL = "invalid credential, access_token is invalid or not latest"


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    """The whole sandbox (emulated WeChat + control API) on the shared test config, in memory."""
    return await aiohttp_client(sandbox.create_app(make_config()))


# -- helpers: drive the emulated WeChat the way an application would ------------------------------


async def body_of(resp: Any) -> dict[str, Any]:
    body = await resp.json()
    assert isinstance(body, dict)
    return body


async def get_token(client: Client) -> str:
    resp = await client.get(
        "/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    )
    body = await body_of(resp)
    assert "access_token" in body, body
    return str(body["access_token"])


async def getticket(client: Client, token: str) -> dict[str, Any]:
    return await body_of(await client.get("/cgi-bin/ticket/getticket", params={"access_token": token, "type": "jsapi"}))


async def authorize(
    client: Client, user: str = "alice", *, consent: str | None = "allow", scope: str = "snsapi_userinfo"
) -> Any:
    headers = {"X-WeChat-Sandbox-User": user}
    if consent is not None:
        headers["X-WeChat-Sandbox-Consent"] = consent
    params = {
        "appid": APPID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": scope,
        "state": "st",
    }
    return await client.get("/connect/oauth2/authorize", params=params, headers=headers, allow_redirects=False)


async def get_code(client: Client, user: str = "alice") -> str:
    resp = await authorize(client, user)
    assert resp.status == 302, await resp.text()
    location = URL(resp.headers["Location"])
    assert location.query["state"] == "st"
    return location.query["code"]


async def exchange(client: Client, code: str) -> dict[str, Any]:
    params = {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"}
    return await body_of(await client.get("/sns/oauth2/access_token", params=params))


async def journal(client: Client, **params: int) -> list[dict[str, Any]]:
    resp = await client.get("/_sandbox/api/journal", params={k: str(v) for k, v in params.items()})
    assert resp.status == 200
    entries = (await body_of(resp))["entries"]
    assert isinstance(entries, list)
    return entries


async def advance(client: Client, seconds: object) -> Any:
    return await client.post("/_sandbox/api/clock", json={"advance": seconds})


# -- health ---------------------------------------------------------------------------------------


async def test_health_is_ok_and_lists_the_emulated_paths(api: Client) -> None:
    resp = await api.get("/_sandbox/api/health")
    assert resp.status == 200
    body = await body_of(resp)
    assert body["status"] == "ok"
    assert isinstance(body["version"], str)
    assert body["version"]
    assert body["uptime"] >= 0
    assert abs(body["now"] - time.time()) < 60
    endpoints = body["endpoints"]
    assert endpoints == sorted(endpoints)
    assert set(endpoints) >= EMULATED
    assert not [p for p in endpoints if p.startswith("/_sandbox/")]


async def test_every_listed_endpoint_is_served(api: Client) -> None:
    endpoints = (await body_of(await api.get("/_sandbox/api/health")))["endpoints"]
    for path in endpoints:
        resp = await api.get(re.sub(r"\{[a-z_]+(:[^}]*)?\}", "x", path), allow_redirects=False)  # a value per {name}
        assert resp.status != 404, path


# -- config ---------------------------------------------------------------------------------------


async def test_config_lists_accounts_with_credentials_and_domains(api: Client) -> None:
    body = await body_of(await api.get("/_sandbox/api/config"))
    accounts = {a["appid"]: a for a in body["accounts"]}
    assert list(accounts) == [APPID, OTHER_APPID]
    default = accounts[APPID]
    expected = {
        "appid": APPID,
        "secret": SECRET,
        "name": "沙箱小店 Sandbox Shop",
        "oauth_domains": ["127.0.0.1", "localhost"],
        "js_domains": ["127.0.0.1", "localhost"],
        "trust_loopback": True,
        "unionid": True,
        "kind": "official",
    }
    assert {k: default[k] for k in expected} == expected
    assert accounts[OTHER_APPID]["unionid"] is False
    assert accounts[OTHER_APPID]["name"] == "Other"
    assert body["auto_user"] is None


async def test_config_lists_merchants(api: Client) -> None:
    body = await body_of(await api.get("/_sandbox/api/config"))
    [merchant] = body["merchants"]
    expected = {
        "mch_id": defaults.DEFAULT_MCH_ID,
        "key": defaults.DEFAULT_MCH_KEY,
        "name": "沙箱小店 Sandbox Shop",
        "appids": [APPID],
        "pay_directories": ["http://127.0.0.1/", "http://localhost/"],
        "notify_hosts": [],
        "trust_loopback": True,
    }
    assert {k: merchant[k] for k in expected} == expected


async def test_config_lists_users_with_their_openid_per_appid(api: Client) -> None:
    body = await body_of(await api.get("/_sandbox/api/config"))
    users = {u["id"]: u for u in body["users"]}
    assert set(users) == {"alice", "bob", "snap"}
    alice = users["alice"]
    expected = {
        "id": "alice",
        "nickname": "爱丽丝",
        "sex": 2,
        "province": "广东",
        "city": "深圳",
        "country": "中国",
        "openids": {APPID: openid_for(APPID, "alice"), OTHER_APPID: openid_for(OTHER_APPID, "alice")},
        "unionid": unionid_for("alice"),
        "balance": 1_000_000,
        "pin": "123456",
        "snapshot": False,
    }
    assert {k: alice[k] for k in expected} == expected
    assert users["snap"]["snapshot"] is True
    assert users["bob"]["openids"][APPID] != alice["openids"][APPID]


async def test_config_openids_are_the_ones_the_oauth_flow_hands_out(api: Client) -> None:
    users = {u["id"]: u for u in (await body_of(await api.get("/_sandbox/api/config")))["users"]}
    token = await exchange(api, await get_code(api, "bob"))
    assert token["openid"] == users["bob"]["openids"][APPID]
    assert token["unionid"] == users["bob"]["unionid"]


# -- reset ----------------------------------------------------------------------------------------


async def test_reset_invalidates_tokens_issued_before(api: Client) -> None:
    token = await get_token(api)
    assert (await getticket(api, token))["errcode"] == 0
    resp = await api.post("/_sandbox/api/reset")
    assert resp.status == 200
    assert (await body_of(resp))["status"] == "ok"
    assert_api_error(await getticket(api, token), 40001, INVALID_CREDENTIAL)
    assert (await getticket(api, await get_token(api)))["errcode"] == 0


async def test_reset_forgets_codes_web_tokens_and_refresh_tokens(api: Client) -> None:
    unused = await get_code(api)
    web_token = await exchange(api, await get_code(api))
    await api.post("/_sandbox/api/reset")
    assert_api_error(await exchange(api, unused), 40029, "invalid code")
    resp = await api.get(
        "/sns/userinfo", params={"access_token": web_token["access_token"], "openid": web_token["openid"]}
    )
    assert_api_error(await body_of(resp), 40001, INVALID_CREDENTIAL)
    resp = await api.get(
        "/sns/oauth2/refresh_token",
        params={"appid": APPID, "grant_type": "refresh_token", "refresh_token": web_token["refresh_token"]},
    )
    assert_api_error(await body_of(resp), 40030, "invalid refresh_token")


async def test_reset_forgets_consents(api: Client) -> None:
    assert (await authorize(api, consent="allow")).status == 302
    remembered = await authorize(api, consent=None)
    assert remembered.status == 302, "a remembered consent skips the consent page"
    await api.post("/_sandbox/api/reset")
    page = await authorize(api, consent=None)
    assert page.status == 200
    assert 'data-testid="wechat-oauth-allow"' in await page.text()


async def test_reset_empties_the_journal(api: Client) -> None:
    await get_token(api)
    assert await journal(api)
    await api.post("/_sandbox/api/reset")
    assert await journal(api) == []


async def test_reset_keeps_configured_users_and_drops_runtime_ones(api: Client) -> None:
    assert (await api.post("/_sandbox/api/users", json={"id": "dave"})).status == 201
    await api.post("/_sandbox/api/reset")
    users = [u["id"] for u in (await body_of(await api.get("/_sandbox/api/config")))["users"]]
    assert sorted(users) == ["alice", "bob", "snap"]
    resp = await authorize(api, "dave")
    assert resp.status == 200
    assert "dave" in await resp.text()
    assert "Location" not in resp.headers


async def test_reset_puts_the_clock_back(api: Client) -> None:
    await advance(api, 3600)
    await api.post("/_sandbox/api/reset")
    clock = await body_of(await api.get("/_sandbox/api/clock"))
    assert clock["offset"] == 0
    assert abs(clock["now"] - time.time()) < 60


# -- clock ----------------------------------------------------------------------------------------


async def test_get_clock_is_real_time_with_no_offset(api: Client) -> None:
    body = await body_of(await api.get("/_sandbox/api/clock"))
    assert body["offset"] == 0
    assert abs(body["now"] - time.time()) < 60
    assert datetime.fromisoformat(body["iso"]).timestamp() == pytest.approx(body["now"], abs=1e-3)


async def test_advancing_the_clock_expires_a_token(api: Client) -> None:
    token = await get_token(api)
    resp = await advance(api, 7000)
    assert resp.status == 200
    assert (await getticket(api, token))["errcode"] == 0
    body = await body_of(await advance(api, 200))
    assert body["offset"] == 7200
    assert body["now"] == pytest.approx(time.time() + 7200, abs=60)
    assert_api_error(await getticket(api, token), 42001, "access_token expired")


async def test_advancing_by_7200_expires_a_fresh_token(api: Client) -> None:
    token = await get_token(api)
    await advance(api, 7200)
    assert_api_error(await getticket(api, token), 42001, "access_token expired")
    clock = await body_of(await api.get("/_sandbox/api/clock"))
    assert clock["offset"] == 7200


async def test_advancing_the_clock_expires_a_code(api: Client) -> None:
    code = await get_code(api)
    await advance(api, 300)
    assert_api_error(await exchange(api, code), 40029, "invalid code")


async def test_advance_accepts_fractions_and_zero(api: Client) -> None:
    assert (await body_of(await advance(api, 0.5)))["offset"] == 0.5
    assert (await body_of(await advance(api, 0)))["offset"] == 0.5


@pytest.mark.parametrize("seconds", [-1, -0.001, "7200", None, True, [7200], {"s": 1}])
async def test_advance_rejects_what_is_not_a_non_negative_number(api: Client, seconds: object) -> None:
    resp = await advance(api, seconds)
    assert resp.status == 400
    assert "advance" in (await body_of(resp))["error"]
    assert (await body_of(await api.get("/_sandbox/api/clock")))["offset"] == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"7200"', b"\xff\xfe"])
async def test_advance_rejects_a_body_that_is_not_a_json_object(api: Client, raw: bytes) -> None:
    resp = await api.post("/_sandbox/api/clock", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "error" in await body_of(resp)


async def test_advance_without_a_body_is_400(api: Client) -> None:
    resp = await api.post("/_sandbox/api/clock")
    assert resp.status == 400


async def test_the_journal_records_sandbox_time(api: Client) -> None:
    await advance(api, 86_400)
    await get_token(api)
    [entry] = await journal(api)
    assert entry["timestamp"] == pytest.approx(time.time() + 86_400, abs=60)


async def test_the_clock_offset_persists_in_the_store() -> None:
    store = SQLiteStore.in_memory()
    async with TestClient(TestServer(sandbox.create_app(make_config(), store=store))) as first:
        token = await get_token(first)
        await advance(first, 3600)
    async with TestClient(TestServer(sandbox.create_app(make_config(), store=store))) as second:
        clock = await body_of(await second.get("/_sandbox/api/clock"))
        assert clock["offset"] == 3600
        assert clock["now"] == pytest.approx(time.time() + 3600, abs=60)
        assert (await getticket(second, token))["errcode"] == 0, "a token survives the restart"
        await advance(second, 3600)
        assert_api_error(await getticket(second, token), 42001, "access_token expired")
    store.close()


async def test_the_clock_offset_persists_in_a_data_dir(tmp_path: Path) -> None:
    async with TestClient(TestServer(sandbox.create_app(make_config(), data_dir=tmp_path))) as first:
        await advance(first, 120)
    assert (tmp_path / "state.sqlite3").exists()
    async with TestClient(TestServer(sandbox.create_app(make_config(), data_dir=tmp_path))) as second:
        assert (await body_of(await second.get("/_sandbox/api/clock")))["offset"] == 120


# -- users ----------------------------------------------------------------------------------------


async def test_create_a_user_from_an_id_alone(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users", json={"id": "dave"})
    assert resp.status == 201
    user = await body_of(resp)
    assert user["id"] == "dave"
    assert isinstance(user["nickname"], str)
    assert user["nickname"]
    assert user["sex"] in (1, 2)
    assert user["province"]
    assert user["city"]
    assert user["country"] == "中国"
    assert user["openids"] == {APPID: openid_for(APPID, "dave"), OTHER_APPID: openid_for(OTHER_APPID, "dave")}
    assert user["unionid"] == unionid_for("dave")
    assert user["balance"] == 1_000_000
    assert user["pin"] == "123456"
    assert user["snapshot"] is False
    listed = {u["id"]: u for u in (await body_of(await api.get("/_sandbox/api/config")))["users"]}
    assert listed["dave"] == user


async def test_create_a_user_with_a_full_profile(api: Client) -> None:
    profile = {
        "id": "erin_2",
        "nickname": "Erin",
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "balance": 1,
        "pin": "000000",
        "snapshot": True,
    }
    resp = await api.post("/_sandbox/api/users", json=profile)
    assert resp.status == 201
    user = await body_of(resp)
    assert {k: user[k] for k in profile} == profile


async def test_create_a_user_with_no_body_generates_an_id(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users")
    assert resp.status == 201
    first = await body_of(resp)
    second = await body_of(await api.post("/_sandbox/api/users", json={}))
    assert first["id"]
    assert second["id"]
    assert first["id"] != second["id"]
    assert first["openids"][APPID] == openid_for(APPID, first["id"])


async def test_creating_an_existing_user_is_409(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users", json={"id": "alice", "nickname": "imposter"})
    assert resp.status == 409
    assert "alice" in (await body_of(resp))["error"]
    assert (await api.post("/_sandbox/api/users", json={"id": "dave"})).status == 201
    assert (await api.post("/_sandbox/api/users", json={"id": "dave"})).status == 409
    users = {u["id"]: u for u in (await body_of(await api.get("/_sandbox/api/config")))["users"]}
    assert users["alice"]["nickname"] == "爱丽丝"


@pytest.mark.parametrize("pin", ["12345", "1234567", "abcdef", "12 456", 123456, None])
async def test_create_user_rejects_a_bad_pin(api: Client, pin: object) -> None:
    resp = await api.post("/_sandbox/api/users", json={"id": "dave", "pin": pin})
    assert resp.status == 400
    assert "pin" in (await body_of(resp))["error"]


async def test_create_user_rejects_an_unknown_field(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users", json={"id": "dave", "age": 30})
    assert resp.status == 400
    assert "age" in (await body_of(resp))["error"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "bad id!"), ("id", "x" * 65), ("id", 7), ("sex", "1"), ("balance", True), ("snapshot", 1), ("city", 5)],
)
async def test_create_user_rejects_a_bad_value(api: Client, field: str, value: object) -> None:
    body = {"id": "dave", field: value}
    resp = await api.post("/_sandbox/api/users", json=body)
    assert resp.status == 400
    assert field in (await body_of(resp))["error"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"null"])
async def test_create_user_rejects_a_body_that_is_not_a_json_object(api: Client, raw: bytes) -> None:
    resp = await api.post("/_sandbox/api/users", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "JSON" in (await body_of(resp))["error"]


async def test_a_created_user_can_authorize(api: Client) -> None:
    created = await body_of(await api.post("/_sandbox/api/users", json={"id": "dave"}))
    token = await exchange(api, await get_code(api, "dave"))
    assert token["openid"] == created["openids"][APPID]
    resp = await api.get("/sns/userinfo", params={"access_token": token["access_token"], "openid": token["openid"]})
    info = await body_of(resp)
    assert info["nickname"] == created["nickname"]
    assert info["unionid"] == created["unionid"]


# -- journal --------------------------------------------------------------------------------------


async def test_the_journal_records_each_emulated_call(api: Client) -> None:
    await get_token(api)
    bad = await body_of(
        await api.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "x"})
    )
    code = await get_code(api)
    await exchange(api, code)
    again = await exchange(api, code)
    await api.get("/cgi-bin/tokn")
    entries = await journal(api)
    assert [(e["method"], e["path"], e["status"], e["errcode"], e["error"]) for e in entries] == [
        ("GET", "/cgi-bin/token", 200, None, None),
        ("GET", "/cgi-bin/token", 200, 40125, "InvalidAppsecret"),
        ("GET", "/connect/oauth2/authorize", 302, None, None),
        ("GET", "/sns/oauth2/access_token", 200, None, None),
        ("GET", "/sns/oauth2/access_token", 200, 40163, "CodeBeenUsed"),
        ("GET", "/cgi-bin/tokn", 404, -1, "UnknownPath"),
    ]
    for entry in entries:
        assert {"id", "time", "timestamp", "method", "path", "query", "status", "errcode", "error"} <= set(entry)
        assert {"diagnostic", "notes", "rid", "duration_ms"} <= set(entry)
        assert datetime.fromisoformat(entry["time"]).timestamp() == pytest.approx(entry["timestamp"], abs=1e-3)
        assert abs(entry["timestamp"] - time.time()) < 60
        assert RID.match(f"x, rid: {entry['rid']}"), entry["rid"]
    assert [e["id"] for e in entries] == sorted({e["id"] for e in entries})
    ok, secret_error, authorized, _, used, unknown = entries
    assert ok["diagnostic"] == ""
    assert ok["notes"] == []
    assert "secret does not match" in secret_error["diagnostic"]
    assert bad["errmsg"].endswith(f"rid: {secret_error['rid']}"), "the journal's rid is the one on the wire"
    assert again["errmsg"].endswith(f"rid: {used['rid']}")
    assert any("X-WeChat-Sandbox-User" in n for n in authorized["notes"])
    assert any("code issued to alice" in n for n in authorized["notes"])
    assert "single-use" in used["diagnostic"]
    assert "/cgi-bin/token" in unknown["diagnostic"], "the 404 diagnostic suggests the close path"


async def test_control_api_calls_are_not_journaled(api: Client) -> None:
    await get_token(api)
    await api.get("/_sandbox/api/health")
    await api.get("/_sandbox/api/config")
    await api.get("/_sandbox/api/clock")
    await advance(api, 1)
    await api.post("/_sandbox/api/users", json={"id": "dave"})
    await api.post("/_sandbox/api/users", json={"id": "dave"})
    await api.get("/_sandbox/api/journal")
    entries = await journal(api)
    assert [e["path"] for e in entries] == ["/cgi-bin/token"]


async def test_secrets_tokens_and_codes_never_appear_in_the_journal(api: Client) -> None:
    base_token = await get_token(api)
    ticket = (await getticket(api, base_token))["ticket"]
    code = await get_code(api)
    web = await exchange(api, code)
    await exchange(api, code)
    resp = await api.get(
        "/sns/oauth2/refresh_token",
        params={"appid": APPID, "grant_type": "refresh_token", "refresh_token": web["refresh_token"]},
    )
    refreshed = await body_of(resp)
    await api.get("/sns/userinfo", params={"access_token": web["access_token"], "openid": web["openid"]})
    await api.get("/sns/auth", params={"access_token": refreshed["access_token"], "openid": web["openid"]})
    await api.get("/sns/auth", params={"access_token": refreshed["access_token"], "openid": "wrong"})
    stable = await body_of(
        await api.post(
            "/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        )
    )
    await api.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET[:-1]})
    await api.get("/cgi-bin/nope", params={"secret": SECRET, "access_token": base_token})

    resp = await api.get("/_sandbox/api/journal")
    raw = await resp.text()
    values = {
        "secret": SECRET,
        "secret minus one character": SECRET[:-1],
        "base access_token": base_token,
        "jsapi_ticket": ticket,
        "code": code,
        "web access_token": web["access_token"],
        "refresh_token": web["refresh_token"],
        "refreshed access_token": refreshed["access_token"],
        "stable access_token": stable["access_token"],
    }
    for what, value in values.items():
        assert len(value) > 8, what
        assert value not in raw, f"the {what} is in the journal in clear"
        assert json.dumps(value)[1:-1] not in raw, f"the {what} is in the journal (JSON-escaped)"
    entries = json.loads(raw)["entries"]
    assert len(entries) == 12
    assert entries[0]["query"]["secret"] == mask(SECRET)
    assert entries[1]["query"]["access_token"] == mask(base_token)
    assert entries[3]["query"]["code"] == mask(code)
    assert entries[0]["query"]["appid"] == APPID, "what is not secret stays readable"


async def test_journal_paging_with_after_and_limit(api: Client) -> None:
    for _ in range(5):
        await get_token(api)
    everything = await journal(api)
    ids = [e["id"] for e in everything]
    assert len(ids) == 5
    assert [e["id"] for e in await journal(api, limit=2)] == ids[:2]
    assert [e["id"] for e in await journal(api, after=ids[1], limit=2)] == ids[2:4]
    assert [e["id"] for e in await journal(api, after=ids[3])] == ids[4:]
    assert await journal(api, after=ids[-1]) == []
    assert await journal(api, limit=0) == []
    await get_token(api)
    [newest] = await journal(api, after=ids[-1])
    assert newest["id"] > ids[-1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=x", "after must be an integer from 0 to 9223372036854775807"),
        ("limit=ten", "limit must be an integer from 0 to 10000"),
        ("after=1.5", "after must be an integer from 0 to 9223372036854775807"),
    ],
)
async def test_journal_rejects_bad_paging_parameters(api: Client, query: str, message: str) -> None:
    resp = await api.get(f"/_sandbox/api/journal?{query}")
    assert resp.status == 400
    assert await resp.json() == {"error": message}


# -- PATCH users ----------------------------------------------------------------------------------


async def test_patch_user_sets_the_balance(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"balance": 0})
    assert resp.status == 200
    assert (await resp.json())["balance"] == 0
    users = (await (await api.get("/_sandbox/api/config")).json())["users"]
    assert next(u for u in users if u["id"] == "alice")["balance"] == 0


async def test_patch_user_keeps_the_fields_it_does_not_name(api: Client) -> None:
    await api.patch("/_sandbox/api/users/alice", json={"pin": "654321"})
    users = (await (await api.get("/_sandbox/api/config")).json())["users"]
    alice = next(u for u in users if u["id"] == "alice")
    assert (alice["pin"], alice["nickname"]) == ("654321", "爱丽丝")


async def test_patch_unknown_user_is_404(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/nobody", json={"balance": 1})
    assert resp.status == 404
    assert await resp.json() == {"error": "no user 'nobody'"}


async def test_patch_user_refuses_a_bad_pin(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"pin": "12"})
    assert resp.status == 400
    assert await resp.json() == {"error": "pin must be a string of 6 digits"}


async def test_patch_user_refuses_a_negative_balance(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"balance": -1})
    assert resp.status == 400
    assert await resp.json() == {"error": "balance must be an integer from 0 to 1000000000000000"}


async def test_patch_user_cannot_rename_a_user(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"id": "eve"})
    assert resp.status == 400


async def test_create_user_refuses_a_non_ascii_id(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users", json={"id": "用户"})
    assert resp.status == 400
    assert await resp.json() == {"error": "id must be 1-64 ASCII letters, digits, '-' or '_'"}


# -- run-time configuration -----------------------------------------------------------------------


async def test_configure_account_sets_domains_and_turns_real_rules_on(api: Client) -> None:
    resp = await api.post(f"/_sandbox/api/accounts/{APPID}", json={"oauth_domains": ["127.0.0.1:5000"]})
    assert resp.status == 200
    body = await resp.json()
    assert (body["oauth_domains"], body["trust_loopback"]) == (["127.0.0.1:5000"], False)
    params = {
        "appid": APPID,
        "redirect_uri": "http://127.0.0.1:9000/cb",
        "response_type": "code",
        "scope": "snsapi_base",
    }
    page = await api.get("/connect/oauth2/authorize", params=params, headers={"X-WeChat-Sandbox-User": "alice"})
    assert "10003" in await page.text()
    allowed = {**params, "redirect_uri": "http://127.0.0.1:5000/cb"}
    ok = await api.get(
        "/connect/oauth2/authorize", params=allowed, headers={"X-WeChat-Sandbox-User": "alice"}, allow_redirects=False
    )
    assert ok.status == 302


async def test_configure_merchant_sets_pay_directories(api: Client) -> None:
    mch_id = defaults.DEFAULT_MCH_ID
    resp = await api.post(
        f"/_sandbox/api/merchants/{mch_id}",
        json={"pay_directories": ["http://127.0.0.1:5000/pay/"], "notify_hosts": ["127.0.0.1:5000"]},
    )
    assert resp.status == 200
    merchants = (await (await api.get("/_sandbox/api/config")).json())["merchants"]
    merchant = next(m for m in merchants if m["mch_id"] == mch_id)
    assert merchant["pay_directories"] == ["http://127.0.0.1:5000/pay/"]
    assert merchant["trust_loopback"] is False


async def test_reset_restores_the_configured_domains(api: Client) -> None:
    await api.post(f"/_sandbox/api/accounts/{APPID}", json={"js_domains": ["shop.example.com"]})
    await api.post("/_sandbox/api/reset")
    accounts = (await (await api.get("/_sandbox/api/config")).json())["accounts"]
    account = next(a for a in accounts if a["appid"] == APPID)
    assert account["trust_loopback"] is True
    assert "shop.example.com" not in account["js_domains"]


async def test_configure_unknown_account_is_404(api: Client) -> None:
    resp = await api.post("/_sandbox/api/accounts/wxnope", json={"js_domains": []})
    assert resp.status == 404
    assert await resp.json() == {"error": "no account 'wxnope'"}


async def test_configure_refuses_bad_fields(api: Client) -> None:
    resp = await api.post(f"/_sandbox/api/accounts/{APPID}", json={"js_domains": "shop.example.com"})
    assert resp.status == 400
    assert await resp.json() == {"error": "js_domains must be a list of strings"}
    resp = await api.post(f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", json={"key": "x"})
    assert resp.status == 400


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e300"])
async def test_clock_refuses_non_finite_or_huge_advances(api: Client, value: str) -> None:
    resp = await api.post("/_sandbox/api/clock", data='{"advance": ' + value + "}")
    assert resp.status == 400
    assert (await api.get("/_sandbox/api/clock")).status == 200


def test_a_corrupt_saved_clock_offset_is_ignored_at_start() -> None:
    from sandbox.shared import saved_offset

    store = SQLiteStore.in_memory()
    store.meta_set("clock_offset", "nan")
    assert saved_offset(store) == 0.0


async def test_reset_starts_the_ids_again_so_seeded_tests_repeat(api: Client) -> None:
    params = {"appid": APPID, "redirect_uri": "http://127.0.0.1:9/cb", "response_type": "code", "scope": "snsapi_base"}
    headers = {"X-WeChat-Sandbox-User": "alice"}
    codes = []
    for _ in range(2):
        await api.post("/_sandbox/api/reset")
        resp = await api.get("/connect/oauth2/authorize", params=params, headers=headers, allow_redirects=False)
        codes.append(resp.headers["Location"])
    assert codes[0] == codes[1]


# -- hostile input: a 400 naming what is wrong, never a traceback --------------------------------

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
BODY_ROUTES = [
    ("POST", "/_sandbox/api/clock"),
    ("POST", "/_sandbox/api/users"),
    ("PATCH", "/_sandbox/api/users/alice"),
    ("POST", f"/_sandbox/api/accounts/{APPID}"),
    ("POST", f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}"),
    ("POST", f"/_sandbox/api/orders/{defaults.DEFAULT_MCH_ID}/T1/pay"),
    ("POST", "/_sandbox/api/notifications/n1/resend"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_deeply_nested_json_is_400(api: Client, method: str, path: str) -> None:
    resp = await api.request(method, path, data=DEEP_JSON, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"error": "body must be a JSON object; this one is nested deeper than 32 levels"}


@pytest.mark.parametrize("digits", [400, 5000])
async def test_an_advance_of_hundreds_of_digits_is_400_naming_advance(api: Client, digits: int) -> None:
    resp = await api.post("/_sandbox/api/clock", data=b'{"advance": ' + b"9" * digits + b"}")
    assert resp.status == 400
    assert await resp.json() == {
        "error": 'expected {"advance": seconds} with 0 <= seconds <= 315360000 (the clock never goes back)'
    }


async def test_the_clock_goes_at_most_a_hundred_years_ahead(api: Client) -> None:
    for _ in range(10):
        assert (await advance(api, 315_360_000)).status == 200
    resp = await advance(api, 1)
    assert resp.status == 400
    assert await resp.json() == {
        "error": "advance: the clock is already 3153600000 s ahead and may not go more than 3153600000 s"
        " (100 years) ahead; POST /_sandbox/api/reset puts it back"
    }
    assert (await body_of(await api.get("/_sandbox/api/clock")))["offset"] == 3_153_600_000


@pytest.mark.parametrize("digits", [20, 400, 5000])
async def test_patch_user_refuses_a_huge_balance(api: Client, digits: int) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", data=b'{"balance": ' + b"9" * digits + b"}")
    assert resp.status == 400
    assert await resp.json() == {"error": "balance must be an integer from 0 to 1000000000000000"}
    assert (await api.get("/_sandbox/")).status == 200


async def test_create_user_refuses_a_400_digit_balance(api: Client) -> None:
    resp = await api.post("/_sandbox/api/users", data=b'{"id": "dave", "balance": ' + b"9" * 400 + b"}")
    assert resp.status == 400
    assert await resp.json() == {"error": "balance must be an integer from 0 to 1000000000000000"}


async def test_patch_user_accepts_the_largest_balance(api: Client) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"balance": 10**15})
    assert (resp.status, (await body_of(resp))["balance"]) == (200, 10**15)


@pytest.mark.parametrize("sex", [3, -1, 10**30])
async def test_patch_user_refuses_a_sex_wechat_never_sends(api: Client, sex: int) -> None:
    resp = await api.patch("/_sandbox/api/users/alice", json={"sex": sex})
    assert resp.status == 400
    assert await resp.json() == {"error": "sex must be an integer from 0 to 2"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=-1", "limit must be an integer from 0 to 10000"),
        ("limit=10001", "limit must be an integer from 0 to 10000"),
        ("limit=" + "9" * 5000, "limit must be an integer from 0 to 10000"),
        ("limit=²", "limit must be an integer from 0 to 10000"),
        ("after=-1", "after must be an integer from 0 to 9223372036854775807"),
        ("after=" + "9" * 400, "after must be an integer from 0 to 9223372036854775807"),
        ("after=9223372036854775808", "after must be an integer from 0 to 9223372036854775807"),
        ("after=" + "9" * 5000, "after must be an integer from 0 to 9223372036854775807"),
    ],
)
async def test_journal_refuses_paging_out_of_range(api: Client, query: str, message: str) -> None:
    await get_token(api)
    resp = await api.get(f"/_sandbox/api/journal?{query}")
    assert resp.status == 400
    assert await resp.json() == {"error": message}


async def test_journal_after_the_largest_id_is_empty(api: Client) -> None:
    await get_token(api)
    assert await journal(api, after=2**63 - 1, limit=10_000) == []


# -- API v3 key material: listed per merchant, response signing set at run time, kept across reset --------

V2_FIELDS = {"mch_id", "key", "name", "appids", "pay_directories", "notify_hosts", "trust_loopback"}
V2_FIELDS |= {"h5_domains", "native_callback_url"}


def lacking_merchant_pair() -> WeChatConfig:
    """The test config with the merchant's own pair left to generate (one RSA key, not three)."""
    config = make_config()
    material = replace(v3_material(), private_key="", certificate="")
    return replace(config, merchants=(replace(config.merchants[0], v3_keys=material),))


async def first_merchant(client: Client) -> dict[str, Any]:
    merchants = (await body_of(await client.get("/_sandbox/api/config")))["merchants"]
    return dict(merchants[0])


async def test_config_lists_the_api_v3_material_under_its_contract_names(api: Client) -> None:
    merchant = await first_merchant(api)
    keys = MerchantKeys.load(defaults.DEFAULT_MCH_ID, v3_material())
    assert {k: v for k, v in merchant.items() if k not in V2_FIELDS} == {
        "apiv3_key": keys.apiv3_key,
        "serial_no": keys.serial_no,
        "private_key": keys.private_key,
        "certificate": keys.certificate,
        "platform_serial_no": keys.platform_serial_no,
        "platform_certificate": keys.platform_certificate,
        "public_key_id": keys.public_key_id,
        "public_key": keys.public_key,
        "response_signing": "public_key",
    }


async def test_config_lists_generated_keys_for_what_the_config_lacks(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(sandbox.create_app(lacking_merchant_pair()))
    merchant = await first_merchant(client)
    assert v3_keys.pair_problem(merchant["private_key"], merchant["certificate"]) is None
    assert merchant["serial_no"] != MerchantKeys.load(defaults.DEFAULT_MCH_ID, v3_material()).serial_no


async def test_reset_keeps_the_generated_keys(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(sandbox.create_app(lacking_merchant_pair()))
    before = await first_merchant(client)
    assert (await client.post("/_sandbox/api/reset")).status == 200
    assert client.app is not None
    [record] = client.app[KEYRING].saved()  # in the store, so a restart after the reset keeps them too
    assert (record.private_key, await first_merchant(client)) == (before["private_key"], before)


async def test_response_signing_can_be_set_to_the_platform_certificate(api: Client) -> None:
    resp = await api.post(
        f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", json={"response_signing": "platform_certificate"}
    )
    assert resp.status == 200
    assert (await resp.json())["response_signing"] == "platform_certificate"
    assert (await first_merchant(api))["response_signing"] == "platform_certificate"


async def test_the_response_signer_follows_the_setting(api: Client) -> None:
    await api.post(
        f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", json={"response_signing": "platform_certificate"}
    )
    assert api.app is not None
    signer = api.app[KEYRING].response_signer(defaults.DEFAULT_MCH_ID)
    assert signer.serial == MerchantKeys.load(defaults.DEFAULT_MCH_ID, v3_material()).platform_serial_no


@pytest.mark.parametrize("value", ["rsa", "", ["public_key"], 1, None])
async def test_an_unknown_response_signing_is_refused(api: Client, value: object) -> None:
    resp = await api.post(f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", json={"response_signing": value})
    assert resp.status == 400
    assert await resp.json() == {"error": "response_signing must be one of ['public_key', 'platform_certificate']"}


async def test_reset_signs_with_the_public_key_again(api: Client) -> None:
    await api.post(
        f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", json={"response_signing": "platform_certificate"}
    )
    await api.post("/_sandbox/api/reset")
    assert (await first_merchant(api))["response_signing"] == "public_key"


async def test_bad_input_gets_one_log_line_naming_the_field(api: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        resp = await api.patch("/_sandbox/api/users/alice", data=b'{"balance": ' + b"9" * 400 + b"}")
    assert resp.status == 400
    message = "control API refused bad input (400): balance must be an integer from 0 to 1000000000000000"
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("sandbox.control", message)]
