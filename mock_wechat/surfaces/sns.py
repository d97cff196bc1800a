"""api.weixin.qq.com `/sns/`: code exchange, refresh, userinfo and token check of web authorization."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat.account.oauth import WEB_TOKEN_TTL, WebToken
from mock_wechat.config import User
from mock_wechat.dialects import json_body
from mock_wechat.ids import unionid_for
from mock_wechat.keys import ACCOUNTS, current_config

routes = web.RouteTableDef()


def _token_body(token: WebToken) -> dict[str, Any]:
    return {
        "access_token": token.access_token,
        "expires_in": WEB_TOKEN_TTL,
        "refresh_token": token.refresh_token,
        "openid": token.openid,
        "scope": token.scope,
    }


@routes.get("/sns/oauth2/access_token")
async def access_token(request: web.Request) -> web.Response:
    q = request.query
    appid = q.get("appid", "")
    token, user = request.app[ACCOUNTS].exchange(appid, q.get("secret", ""), q.get("code", ""), q.get("grant_type", ""))
    body = _token_body(token)
    if user is not None and user.snapshot:
        body["is_snapshotuser"] = 1
    account = current_config(request.app).account(appid)
    if account is not None and account.unionid:
        body["unionid"] = unionid_for(token.user_id)
    return json_body(body)


@routes.get("/sns/oauth2/refresh_token")
async def refresh_token(request: web.Request) -> web.Response:
    q = request.query
    token = request.app[ACCOUNTS].refresh(q.get("appid", ""), q.get("grant_type", ""), q.get("refresh_token", ""))
    return json_body(_token_body(token))


def avatar_url(request: web.Request, user: User) -> str:
    """`headimgurl`: served by the sandbox itself; the last path segment is the size, as on qlogo.cn."""
    return f"{request.scheme}://{request.host}/_sandbox/avatar/{user.id}/132"


@routes.get("/sns/userinfo")
async def userinfo(request: web.Request) -> web.Response:
    q = request.query
    openid = q.get("openid", "")
    accounts = request.app[ACCOUNTS]
    token, user = accounts.userinfo(q.get("access_token", ""), openid)
    body: dict[str, Any] = {
        "openid": openid,
        "nickname": user.nickname,
        "sex": user.sex,
        "city": user.city,
        "province": user.province,
        "country": user.country,
        "headimgurl": avatar_url(request, user),
        "privilege": [],
    }
    account = current_config(request.app).account(token.appid)
    if account is not None and account.unionid:
        body["unionid"] = unionid_for(user.id)
    return json_body(body)


@routes.get("/sns/auth")
async def auth(request: web.Request) -> web.Response:
    q = request.query
    request.app[ACCOUNTS].web_token(q.get("access_token", ""), q.get("openid", ""))
    return json_body({"errcode": 0, "errmsg": "ok"})
