"""`/sns/oauth2/access_token`, `/sns/oauth2/refresh_token`, `/sns/userinfo`, `/sns/auth` on the wire."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

import mock_wechat
from mock_wechat.clock import ManualClock
from mock_wechat.config import Account
from mock_wechat.ids import Ids
from sandbox import defaults
from tests.conftest import APPID, OTHER_APPID, OTHER_SECRET, SECRET, ClientFactory, make_config
from tests.wire import assert_api_error

Client = TestClient[web.Request, web.Application]

REDIRECT_URI = "http://127.0.0.1:9000/cb"
TOKEN_KEYS = {"access_token", "expires_in", "refresh_token", "openid", "scope"}
USERINFO_KEYS = {"openid", "nickname", "sex", "province", "city", "country", "headimgurl", "privilege"}
THIRTY_DAYS = 30 * 86_400


async def authorize_code(
    client: Client, *, appid: str = APPID, user: str = "alice", scope: str = "snsapi_userinfo"
) -> str:
    """A fresh OAuth code, as the authorize page would hand it to redirect_uri (no browser involved)."""
    resp = await client.get(
        "/connect/oauth2/authorize",
        params={
            "appid": appid,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": scope,
            "state": "s",
        },
        headers={"X-WeChat-Sandbox-User": user, "X-WeChat-Sandbox-Consent": "allow"},
        allow_redirects=False,
    )
    assert resp.status == 302, await resp.text()
    location = URL(resp.headers["Location"])
    assert location.query["state"] == "s"
    return location.query["code"]


async def exchange_call(client: Client, **params: str) -> Any:
    """`GET /sns/oauth2/access_token` with exactly `params`."""
    resp = await client.get("/sns/oauth2/access_token", params=params)
    assert resp.status == 200
    return await resp.json()


async def exchange(client: Client, code: str, *, appid: str = APPID, secret: str = SECRET) -> Any:
    return await exchange_call(client, appid=appid, secret=secret, code=code, grant_type="authorization_code")


async def login(
    client: Client, *, appid: str = APPID, secret: str = SECRET, user: str = "alice", scope: str = "snsapi_userinfo"
) -> dict[str, Any]:
    """authorize + code exchange: the web token body."""
    code = await authorize_code(client, appid=appid, user=user, scope=scope)
    body = await exchange(client, code, appid=appid, secret=secret)
    assert "access_token" in body, body
    return dict(body)


async def refresh_call(client: Client, **params: str) -> Any:
    resp = await client.get("/sns/oauth2/refresh_token", params=params)
    assert resp.status == 200
    return await resp.json()


async def refresh(client: Client, refresh_token: str, *, appid: str = APPID) -> Any:
    return await refresh_call(client, appid=appid, grant_type="refresh_token", refresh_token=refresh_token)


async def userinfo_call(client: Client, **params: str) -> Any:
    resp = await client.get("/sns/userinfo", params=params)
    assert resp.status == 200
    return await resp.json()


async def userinfo(client: Client, token: dict[str, Any]) -> Any:
    return await userinfo_call(client, access_token=token["access_token"], openid=token["openid"], lang="zh_CN")


async def auth_call(client: Client, **params: str) -> Any:
    resp = await client.get("/sns/auth", params=params)
    assert resp.status == 200
    return await resp.json()


# -- /sns/oauth2/access_token ------------------------------------------------------------------------


async def test_code_exchange_returns_token_fields_and_unionid(client: Client) -> None:
    body = await exchange(client, await authorize_code(client))
    assert set(body) == TOKEN_KEYS | {"unionid"}
    assert type(body["expires_in"]) is int
    assert body["expires_in"] == 7200
    assert body["scope"] == "snsapi_userinfo"
    assert body["openid"].startswith("o")
    assert len(body["openid"]) == 28
    assert body["unionid"].startswith("o")
    assert len(body["unionid"]) == 28
    assert body["access_token"] != body["refresh_token"]


async def test_code_exchange_for_base_scope_reports_snsapi_base(client: Client) -> None:
    body = await exchange(client, await authorize_code(client, scope="snsapi_base"))
    assert set(body) == TOKEN_KEYS | {"unionid"}
    assert body["scope"] == "snsapi_base"


async def test_code_exchange_for_snapshot_user_adds_is_snapshotuser_1(client: Client) -> None:
    body = await exchange(client, await authorize_code(client, user="snap"))
    assert set(body) == TOKEN_KEYS | {"unionid", "is_snapshotuser"}
    assert type(body["is_snapshotuser"]) is int
    assert body["is_snapshotuser"] == 1


async def test_code_exchange_without_open_platform_binding_has_no_unionid(client: Client) -> None:
    code = await authorize_code(client, appid=OTHER_APPID)
    body = await exchange(client, code, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert set(body) == TOKEN_KEYS
    assert type(body["expires_in"]) is int
    assert body["expires_in"] == 7200


async def test_openid_is_stable_for_one_user_and_account(client: Client) -> None:
    first = await login(client)
    second = await login(client)
    assert second["openid"] == first["openid"]
    assert second["access_token"] != first["access_token"]


async def test_openid_differs_between_users(client: Client) -> None:
    alice = await login(client, user="alice")
    bob = await login(client, user="bob")
    assert alice["openid"] != bob["openid"]


async def test_openid_differs_between_accounts(client: Client) -> None:
    mine = await login(client)
    other = await login(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert other["openid"] != mine["openid"]


async def test_unionid_is_shared_by_accounts_bound_to_the_open_platform(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    bound = Account(appid=OTHER_APPID, secret=OTHER_SECRET, name="Bound", unionid=True)
    config = make_config(accounts=(defaults.default_account(), bound))
    client = await aiohttp_client(mock_wechat.create_app(config, clock=clock, ids=Ids(7)))
    mine = await login(client)
    other = await login(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert other["openid"] != mine["openid"]
    assert other["unionid"] == mine["unionid"]


async def test_code_exchange_without_appid_is_41002(client: Client) -> None:
    code = await authorize_code(client)
    body = await exchange_call(client, secret=SECRET, code=code, grant_type="authorization_code")
    assert_api_error(body, 41002, "appid missing")


async def test_code_exchange_with_unknown_appid_is_40013(client: Client) -> None:
    code = await authorize_code(client)
    assert_api_error(await exchange(client, code, appid="wx0123456789abcdef"), 40013, "invalid appid")


async def test_code_exchange_without_secret_is_41004(client: Client) -> None:
    code = await authorize_code(client)
    body = await exchange_call(client, appid=APPID, code=code, grant_type="authorization_code")
    assert_api_error(body, 41004, "appsecret missing")


async def test_code_exchange_with_wrong_secret_is_40125(client: Client) -> None:
    code = await authorize_code(client)
    assert_api_error(await exchange(client, code, secret="0" * 32), 40125, "invalid appsecret")


async def test_code_exchange_without_code_is_41008(client: Client) -> None:
    body = await exchange_call(client, appid=APPID, secret=SECRET, grant_type="authorization_code")
    assert_api_error(body, 41008, "missing code")


async def test_code_exchange_with_wrong_grant_type_is_40002(client: Client) -> None:
    code = await authorize_code(client)
    body = await exchange_call(client, appid=APPID, secret=SECRET, code=code, grant_type="client_credential")
    assert_api_error(body, 40002, "invalid grant_type")


async def test_code_exchange_without_grant_type_is_40002(client: Client) -> None:
    code = await authorize_code(client)
    body = await exchange_call(client, appid=APPID, secret=SECRET, code=code)
    assert_api_error(body, 40002, "invalid grant_type")


async def test_code_refused_for_grant_type_can_still_be_exchanged(client: Client) -> None:
    code = await authorize_code(client)
    await exchange_call(client, appid=APPID, secret=SECRET, code=code, grant_type="client_credential")
    assert set(await exchange(client, code)) == TOKEN_KEYS | {"unionid"}


async def test_code_exchange_with_unknown_code_is_40029(client: Client) -> None:
    assert_api_error(await exchange(client, "061never1ssued00000000000000000x"), 40029, "invalid code")


async def test_code_is_accepted_until_300_seconds(client: Client, clock: ManualClock) -> None:
    code = await authorize_code(client)
    clock.advance(299)
    assert set(await exchange(client, code)) == TOKEN_KEYS | {"unionid"}


async def test_code_after_300_seconds_is_40029(client: Client, clock: ManualClock) -> None:
    code = await authorize_code(client)
    clock.advance(300)
    assert_api_error(await exchange(client, code), 40029, "invalid code")


async def test_code_of_another_appid_is_40029(client: Client) -> None:
    code = await authorize_code(client)
    assert_api_error(await exchange(client, code, appid=OTHER_APPID, secret=OTHER_SECRET), 40029, "invalid code")


async def test_code_refused_for_another_appid_still_works_for_its_own(client: Client) -> None:
    code = await authorize_code(client)
    await exchange(client, code, appid=OTHER_APPID, secret=OTHER_SECRET)
    assert set(await exchange(client, code)) == TOKEN_KEYS | {"unionid"}


async def test_code_second_use_is_40163(client: Client) -> None:
    code = await authorize_code(client)
    await exchange(client, code)
    assert_api_error(await exchange(client, code), 40163, "code been used")


async def test_code_exchange_by_post_is_43001(client: Client) -> None:
    code = await authorize_code(client)
    resp = await client.post(
        "/sns/oauth2/access_token",
        params={"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"},
    )
    assert_api_error(await resp.json(), 43001, "require GET method")


# -- /sns/oauth2/refresh_token -----------------------------------------------------------------------


async def test_refresh_returns_exactly_the_five_token_fields(client: Client) -> None:
    token = await login(client)
    body = await refresh(client, token["refresh_token"])
    assert set(body) == TOKEN_KEYS
    assert type(body["expires_in"]) is int
    assert body["expires_in"] == 7200
    assert body["openid"] == token["openid"]
    assert body["scope"] == "snsapi_userinfo"


async def test_refresh_issues_a_new_access_token_and_keeps_the_refresh_token(client: Client) -> None:
    token = await login(client)
    body = await refresh(client, token["refresh_token"])
    assert body["access_token"] != token["access_token"]
    assert body["refresh_token"] == token["refresh_token"]


async def test_refresh_keeps_the_granted_scope(client: Client) -> None:
    token = await login(client, scope="snsapi_base")
    body = await refresh(client, token["refresh_token"])
    assert body["scope"] == "snsapi_base"


async def test_refreshed_access_token_works_on_userinfo(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(7200)
    body = await refresh(client, token["refresh_token"])
    info = await userinfo(client, body)
    assert info["openid"] == token["openid"]
    assert info["nickname"] == "爱丽丝"


async def test_refresh_token_works_just_before_30_days(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(THIRTY_DAYS - 1)
    assert set(await refresh(client, token["refresh_token"])) == TOKEN_KEYS


async def test_refresh_token_after_30_days_is_42002(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(THIRTY_DAYS)
    assert_api_error(await refresh(client, token["refresh_token"]), 42002, "refresh_token expired")


async def test_refresh_without_refresh_token_is_41003(client: Client) -> None:
    body = await refresh_call(client, appid=APPID, grant_type="refresh_token")
    assert_api_error(body, 41003, "refresh_token missing")


async def test_refresh_with_unknown_refresh_token_is_40030(client: Client) -> None:
    assert_api_error(await refresh(client, "not-a-refresh-token"), 40030, "invalid refresh_token")


async def test_refresh_with_another_appids_refresh_token_is_40030(client: Client) -> None:
    token = await login(client)
    assert_api_error(await refresh(client, token["refresh_token"], appid=OTHER_APPID), 40030, "invalid refresh_token")


async def test_refresh_with_an_access_token_is_40030(client: Client) -> None:
    token = await login(client)
    assert_api_error(await refresh(client, token["access_token"]), 40030, "invalid refresh_token")


async def test_refresh_with_wrong_grant_type_is_40002(client: Client) -> None:
    token = await login(client)
    body = await refresh_call(
        client, appid=APPID, grant_type="authorization_code", refresh_token=token["refresh_token"]
    )
    assert_api_error(body, 40002, "invalid grant_type")


async def test_refresh_without_appid_is_41002(client: Client) -> None:
    token = await login(client)
    body = await refresh_call(client, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert_api_error(body, 41002, "appid missing")


async def test_refresh_with_unknown_appid_is_40013(client: Client) -> None:
    token = await login(client)
    assert_api_error(await refresh(client, token["refresh_token"], appid="wx0123456789abcdef"), 40013, "invalid appid")


# -- /sns/userinfo -----------------------------------------------------------------------------------


async def test_userinfo_returns_the_full_profile(client: Client) -> None:
    token = await login(client)
    body = await userinfo(client, token)
    assert set(body) == USERINFO_KEYS | {"unionid"}
    assert body["openid"] == token["openid"]
    assert body["nickname"] == "爱丽丝"
    assert type(body["sex"]) is int
    assert body["sex"] == 2
    assert (body["province"], body["city"], body["country"]) == ("广东", "深圳", "中国")
    assert body["privilege"] == []
    assert body["unionid"] == token["unionid"]


async def test_userinfo_headimgurl_is_served_by_the_sandbox_at_size_132(client: Client) -> None:
    body = await userinfo(client, await login(client))
    url = URL(body["headimgurl"])
    assert url.scheme == "http"
    assert (url.host, url.port) == (client.host, client.port)
    assert url.path == "/_sandbox/avatar/alice/132"
    avatar = await client.get(url.path)
    assert avatar.status == 200
    assert avatar.content_type == "image/svg+xml"


async def test_userinfo_writes_chinese_as_utf8_not_escapes(client: Client) -> None:
    token = await login(client)
    resp = await client.get("/sns/userinfo", params={"access_token": token["access_token"], "openid": token["openid"]})
    assert resp.charset == "utf-8"
    assert "爱丽丝" in await resp.text()


async def test_userinfo_returns_markup_in_nicknames_verbatim(client: Client) -> None:
    body = await userinfo(client, await login(client, user="bob"))
    assert body["nickname"] == "Bob <b>&"
    assert body["sex"] == 1


async def test_userinfo_of_user_without_profile_has_sex_0_and_empty_places(client: Client) -> None:
    body = await userinfo(client, await login(client, user="snap"))
    assert set(body) == USERINFO_KEYS | {"unionid"}
    assert type(body["sex"]) is int
    assert body["sex"] == 0
    assert (body["province"], body["city"], body["country"]) == ("", "", "")


async def test_userinfo_without_open_platform_binding_has_no_unionid(client: Client) -> None:
    token = await login(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    body = await userinfo(client, token)
    assert set(body) == USERINFO_KEYS
    assert body["openid"] == token["openid"]


async def test_userinfo_without_access_token_is_41001(client: Client) -> None:
    token = await login(client)
    assert_api_error(await userinfo_call(client, openid=token["openid"]), 41001, "access_token missing")


async def test_userinfo_with_unknown_access_token_is_40001(client: Client) -> None:
    token = await login(client)
    body = await userinfo_call(client, access_token="not-a-token", openid=token["openid"])
    assert_api_error(body, 40001, "invalid credential, access_token is invalid or not latest")


async def test_userinfo_with_base_access_token_is_40001(client: Client) -> None:
    token = await login(client)
    base = await client.get(
        "/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    )
    base_token = (await base.json())["access_token"]
    body = await userinfo_call(client, access_token=base_token, openid=token["openid"])
    assert_api_error(body, 40001, "invalid credential, access_token is invalid or not latest")


async def test_userinfo_works_just_before_7200_seconds(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(7199)
    assert set(await userinfo(client, token)) == USERINFO_KEYS | {"unionid"}


async def test_userinfo_after_7200_seconds_is_42001(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(7200)
    assert_api_error(await userinfo(client, token), 42001, "access_token expired")


async def test_userinfo_without_openid_is_41009(client: Client) -> None:
    token = await login(client)
    assert_api_error(await userinfo_call(client, access_token=token["access_token"]), 41009, "missing openid")


async def test_userinfo_with_another_users_openid_is_40003(client: Client) -> None:
    alice = await login(client, user="alice")
    bob = await login(client, user="bob")
    body = await userinfo_call(client, access_token=alice["access_token"], openid=bob["openid"])
    assert_api_error(body, 40003, "invalid openid")


async def test_userinfo_with_snsapi_base_token_is_48001(client: Client) -> None:
    token = await login(client, scope="snsapi_base")
    assert_api_error(await userinfo(client, token), 48001, "api unauthorized")


async def test_userinfo_with_combined_scopes_is_allowed(client: Client) -> None:
    token = await login(client, scope="snsapi_base,snsapi_userinfo")
    assert token["scope"] == "snsapi_base,snsapi_userinfo"
    assert set(await userinfo(client, token)) == USERINFO_KEYS | {"unionid"}


# -- /sns/auth ---------------------------------------------------------------------------------------


async def test_auth_of_valid_token_is_exactly_errcode_0_ok(client: Client) -> None:
    token = await login(client)
    resp = await client.get("/sns/auth", params={"access_token": token["access_token"], "openid": token["openid"]})
    assert resp.status == 200
    assert await resp.json() == {"errcode": 0, "errmsg": "ok"}
    assert await resp.text() == '{"errcode":0,"errmsg":"ok"}'


async def test_auth_accepts_a_snsapi_base_token(client: Client) -> None:
    token = await login(client, scope="snsapi_base")
    body = await auth_call(client, access_token=token["access_token"], openid=token["openid"])
    assert body == {"errcode": 0, "errmsg": "ok"}


async def test_auth_with_another_users_openid_is_40003(client: Client) -> None:
    alice = await login(client, user="alice")
    bob = await login(client, user="bob")
    body = await auth_call(client, access_token=alice["access_token"], openid=bob["openid"])
    assert_api_error(body, 40003, "invalid openid")


async def test_auth_with_same_users_openid_of_another_account_is_40003(client: Client) -> None:
    mine = await login(client)
    other = await login(client, appid=OTHER_APPID, secret=OTHER_SECRET)
    body = await auth_call(client, access_token=mine["access_token"], openid=other["openid"])
    assert_api_error(body, 40003, "invalid openid")


async def test_auth_after_7200_seconds_is_42001(client: Client, clock: ManualClock) -> None:
    token = await login(client)
    clock.advance(7200)
    body = await auth_call(client, access_token=token["access_token"], openid=token["openid"])
    assert_api_error(body, 42001, "access_token expired")


async def test_auth_with_unknown_token_is_40001(client: Client) -> None:
    token = await login(client)
    body = await auth_call(client, access_token="not-a-token", openid=token["openid"])
    assert_api_error(body, 40001, "invalid credential, access_token is invalid or not latest")


async def test_auth_without_access_token_is_41001(client: Client) -> None:
    token = await login(client)
    assert_api_error(await auth_call(client, openid=token["openid"]), 41001, "access_token missing")


async def test_auth_without_openid_is_41009(client: Client) -> None:
    token = await login(client)
    assert_api_error(await auth_call(client, access_token=token["access_token"]), 41009, "missing openid")
