"""Scenarios over the control API: `GET /_sandbox/api/state` exports the world, `POST` imports one."""

from __future__ import annotations

from aiohttp import web

from mock_wechat import json_input
from sandbox.control import api_error
from sandbox.json_text import json_response
from sandbox.scenario import ScenarioError, export_state, import_state

routes = web.RouteTableDef()

MAX_STATE = 256 * 1024 * 1024
"""A state document may be far larger than a WeChat request (the 1 MiB body limit): 256 MiB."""


@routes.get("/_sandbox/api/state")
async def get_state(request: web.Request) -> web.Response:
    try:
        document = export_state(request.app)
    except ScenarioError as exc:
        return api_error(500, str(exc))
    return json_response(document)


@routes.post("/_sandbox/api/state")
async def post_state(request: web.Request) -> web.Response:
    """Replace the world with the posted document (all of it checked first: a refused one changes nothing)."""
    if request.content_length is not None and request.content_length > MAX_STATE:
        return api_error(413, f"a state document is at most {MAX_STATE} bytes")
    raw = await request.content.read(MAX_STATE + 1)
    if len(raw) > MAX_STATE:
        return api_error(413, f"a state document is at most {MAX_STATE} bytes")
    try:
        document = json_input.loads(raw)
    except json_input.BadJson as exc:
        return api_error(400, f"the body is not a JSON state document: {exc}")
    try:
        counts = import_state(request.app, document)
    except ScenarioError as exc:
        return api_error(400, str(exc))
    return json_response({"status": "ok", "imported": counts})
