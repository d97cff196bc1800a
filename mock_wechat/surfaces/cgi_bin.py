"""api.weixin.qq.com `/cgi-bin/`: base access_token, stable_token and jsapi_ticket."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat import errors, json_input
from mock_wechat.dialects import json_body
from mock_wechat.keys import ACCOUNTS, CLOCK

routes = web.RouteTableDef()


@routes.get("/cgi-bin/token")
async def token(request: web.Request) -> web.Response:
    q = request.query
    issued = request.app[ACCOUNTS].token(q.get("grant_type", ""), q.get("appid", ""), q.get("secret", ""))
    return json_body({"access_token": issued.access_token, "expires_in": issued.expires_in(issued.issued_at)})


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        raise errors.EmptyPostData("stable_token needs a JSON body")
    try:
        body = json_input.loads(raw)
    except json_input.BadJson as exc:
        raise errors.DataFormatError(f"the body is {exc}") from None
    if not isinstance(body, dict):
        raise errors.DataFormatError("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise errors.DataFormatError(f"{name} must be a string, got {type(value).__name__}")
    return value


@routes.post("/cgi-bin/stable_token")
async def stable_token(request: web.Request) -> web.Response:
    body = await _json_object(request)
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        raise errors.DataFormatError("force_refresh must be true or false")
    issued = request.app[ACCOUNTS].stable_token(
        _text(body, "grant_type"), _text(body, "appid"), _text(body, "secret"), force
    )
    return json_body({"access_token": issued.access_token, "expires_in": issued.expires_in(request.app[CLOCK].now())})


@routes.get("/cgi-bin/ticket/getticket")
async def getticket(request: web.Request) -> web.Response:
    q = request.query
    ticket = request.app[ACCOUNTS].getticket(q.get("access_token", ""), q.get("type", ""))
    expires_in = ticket.expires_in(request.app[CLOCK].now())
    return json_body({"errcode": 0, "errmsg": "ok", "ticket": ticket.ticket, "expires_in": expires_in})
