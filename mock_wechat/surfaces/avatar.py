"""Avatars (`headimgurl`) drawn by the sandbox itself, so no image ever comes from outside."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from aiohttp import web

from mock_wechat import errors
from mock_wechat.keys import ACCOUNTS

routes = web.RouteTableDef()

SIZES = {"0": 640, "46": 46, "64": 64, "96": 96, "132": 132}
"""The size segments qlogo.cn accepts; 0 means 640 px."""


def svg(seed: str, label: str, size: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 100 100">'
        f'<rect width="100" height="100" fill="hsl({hue},55%,55%)"/>'
        f'<text x="50" y="50" dy=".35em" text-anchor="middle" font-size="48" fill="#fff" '
        f'font-family="sans-serif">{escape(label[:1] or "?")}</text></svg>'
    )


@routes.get("/_sandbox/avatar/{user_id}/{size}")
async def avatar(request: web.Request) -> web.Response:
    user_id, size = request.match_info["user_id"], request.match_info["size"]
    user = request.app[ACCOUNTS].user(user_id)
    if user is None or size not in SIZES:
        raise errors.UnknownPath(f"no avatar for user {user_id!r} at size {size!r} (sizes: 0, 46, 64, 96, 132)")
    return web.Response(
        text=svg(user.id, user.nickname, SIZES[size]),
        content_type="image/svg+xml",
        headers={"Cache-Control": "max-age=3600"},
    )
