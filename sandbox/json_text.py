"""JSON for people: the control API's answers keep Chinese and `…` as themselves (UTF-8), never `\\u68a7`."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    """`web.json_response`, readable: `Content-Type: application/json; charset=utf-8`, no ASCII escapes."""
    return web.json_response(data, status=status, dumps=dumps, **kwargs)
