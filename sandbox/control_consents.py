"""The control API's consents: forget what a user agreed to, so WeChat's consent page shows again."""

from __future__ import annotations

from aiohttp import web

from mock_wechat.keys import ACCOUNTS
from sandbox.control import api_error
from sandbox.json_text import json_response

routes = web.RouteTableDef()


@routes.get("/_sandbox/api/users/{id}/consents")
async def list_consents(request: web.Request) -> web.Response:
    accounts = request.app[ACCOUNTS]
    if accounts.user(request.match_info["id"]) is None:
        return api_error(404, f"no user {request.match_info['id']!r}")
    return json_response({"appids": [c.appid for c in accounts.consents_of(request.match_info["id"])]})


@routes.delete("/_sandbox/api/users/{id}/consents")
async def forget_consents(request: web.Request) -> web.Response:
    """Every app asks this user for consent again (snsapi_userinfo); the appids that had it."""
    accounts = request.app[ACCOUNTS]
    if accounts.user(request.match_info["id"]) is None:
        return api_error(404, f"no user {request.match_info['id']!r}")
    return json_response({"forgotten": accounts.forget_consents(request.match_info["id"])})
