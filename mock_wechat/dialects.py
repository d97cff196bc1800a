"""Render successes and errors once per wire dialect: api JSON and the authorize pages."""

from __future__ import annotations

import json
from typing import Any

import jinja2
from aiohttp import web

from mock_wechat import errors


def json_body(body: dict[str, Any], status: int = 200) -> web.Response:
    """JSON the way api.weixin.qq.com writes it: UTF-8, no ASCII escaping, numbers as numbers."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def render_api_error(error: errors.ApiError, rid: str) -> web.Response:
    body: dict[str, Any] = {"errcode": error.errcode, "errmsg": f"{error.errmsg}, rid: {rid}"}
    if isinstance(error, errors.UnknownPath):
        body["hint"] = error.diagnostic
    return json_body(body, error.status)


def render_page_error(templates: jinja2.Environment, error: errors.WeChatError, rid: str) -> web.Response:
    if isinstance(error, errors.PageError):
        code, text = error.code, error.text
    else:
        code, text = None, "系统错误，请稍后再试"
    html = templates.get_template("error.html").render(
        code=code, text=text, diagnostic=error.diagnostic, rid=rid, title="微信网页授权"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def is_page_path(path: str) -> bool:
    """Paths answered with HTML pages (open.weixin.qq.com authorize and its sandbox helpers)."""
    return path.startswith(("/connect/", "/_sandbox/oauth/"))


def render_error(templates: jinja2.Environment, path: str, error: errors.WeChatError, rid: str) -> web.Response:
    if is_page_path(path):
        return render_page_error(templates, error, rid)
    if isinstance(error, errors.ApiError):
        return render_api_error(error, rid)
    return render_api_error(errors.SystemError_(error.diagnostic), rid)
