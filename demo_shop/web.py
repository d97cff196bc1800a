"""Small helpers every handler uses: the session cookie, rendering with the training panel, readable JSON."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from demo_shop.keys import SETTINGS, STATE, TEMPLATES, WECHAT
from demo_shop.state import Session
from demo_shop.trace import Trace
from demo_shop.wechat import WeChatError

COOKIE = "shop_session"
SESSION = web.RequestKey("session", Session)


def session_of(request: web.Request) -> Session:
    """The visitor's session (created on first sight; the cookie is set by `render`/`redirect`)."""
    if SESSION in request:
        return request[SESSION]
    state = request.app[STATE]
    found = state.sessions.get(request.cookies.get(COOKIE, ""))
    request[SESSION] = found if found is not None else state.new_session()
    return request[SESSION]


def _cookie(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    session = session_of(request)
    if request.cookies.get(COOKIE) != session.id:
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="Lax", path="/")
    return response


def keep(session: Session, trace: Trace) -> None:
    """Remember the steps for /flow (the last 60)."""
    session.trace.extend(trace)
    del session.trace[:-60]


def render(request: web.Request, template: str, trace: Trace | None = None, **context: Any) -> web.StreamResponse:
    """The page, its training panel showing `trace` after the steps of the redirect that led here, if any."""
    session = session_of(request)
    if trace:
        keep(session, trace)
    shown, session.carried = [*session.carried, *(trace or [])], []
    settings = request.app[SETTINGS]
    html = (
        request.app[TEMPLATES].get_template(template).render(session=session, trace=shown, settings=settings, **context)
    )
    return _cookie(request, web.Response(text=html, content_type="text/html", charset="utf-8"))


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON as people read it: Chinese and `…` as themselves (UTF-8), not `\\u68a7\\u5dde`."""
    return json.dumps(data, ensure_ascii=False, indent=indent)


def json_response(data: Any, status: int = 200) -> web.Response:
    """`web.json_response`, readable: `Content-Type: application/json; charset=utf-8`, no ASCII escapes."""
    return web.json_response(data, status=status, dumps=json_text)


def redirect(request: web.Request, location: str, trace: Trace | None = None, status: int = 302) -> web.StreamResponse:
    """Server-side redirects (seed note 4): the back end sees, and logs, every URL parameter.

    The steps in `trace` are kept for /flow and shown on the page the browser lands on."""
    if trace:
        session = session_of(request)
        keep(session, trace)
        session.carried.extend(trace)
        del session.carried[:-20]
    return _cookie(request, web.Response(status=status, headers={"Location": location}))


async def signed_in(request: web.Request, trace: Trace) -> Session | None:
    """The signed-in visitor, with the web access_token refreshed when it has expired (seed step 6)."""
    session = session_of(request)
    if not session.signed_in:
        return None
    if time.time() >= session.expires_at - 60:
        try:
            token = await request.app[WECHAT].refresh_web_token(session.refresh_token, trace)
        except WeChatError:
            session.openid = ""  # refresh_token expired (30 days) or revoked: sign in again
            return None
        session.access_token, session.expires_at = token["access_token"], time.time() + int(token["expires_in"])
    return session
