"""open.weixin.qq.com `/connect/oauth2/authorize`: the user picker, the consent page and the redirect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from mock_wechat import errors
from mock_wechat.account import authorize
from mock_wechat.account.authorize import AuthorizeRequest
from mock_wechat.config import User
from mock_wechat.dialects import Wire, speaks
from mock_wechat.keys import ACCOUNTS, NOTES, TEMPLATES, current_config

routes = web.RouteTableDef()

USER_COOKIE = "wxsandbox_user"
USER_HEADER = "X-WeChat-Sandbox-User"
CONSENT_HEADER = "X-WeChat-Sandbox-Consent"
AUTHORIZE_PATH = "/connect/oauth2/authorize"


def _page(request: web.Request, template: str, **context: Any) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


def _known_user(request: web.Request, user_id: str, source: str) -> User:
    user = request.app[ACCOUNTS].user(user_id)
    if user is None:
        known = ", ".join(u.id for u in request.app[ACCOUNTS].all_users())
        raise errors.LinkUnavailable(f"{source} names user {user_id!r}, who is not a sandbox user; users: {known}")
    return user


def current_user(request: web.Request) -> User | None:
    """Who holds the phone: the header for scripts, then `--auto-user`, then the picker's cookie."""
    header = request.headers.get(USER_HEADER)
    if header:
        request[NOTES].append(f"user {header} chosen by the {USER_HEADER} header")
        return _known_user(request, header, f"the {USER_HEADER} header")
    auto = current_config(request.app).auto_user
    if auto:
        request[NOTES].append(f"user {auto} chosen by --auto-user")
        return _known_user(request, auto, "--auto-user")
    cookie = request.cookies.get(USER_COOKIE)
    if cookie:
        user = request.app[ACCOUNTS].user(cookie)
        if user is not None:
            request[NOTES].append(f"user {cookie} chosen in the picker (cookie {USER_COOKIE})")
        return user
    return None


def _grant(request: web.Request, req: AuthorizeRequest, user: User) -> web.Response:
    code = request.app[ACCOUNTS].issue_code(req.account, user, req.scopes)
    request[NOTES].append(f"code issued to {user.id} ({code.openid}) for {code.scope}")
    return redirect(authorize.redirect_with(req.redirect_uri, {"code": code.code, "state": req.state}))


def _deny(request: web.Request, req: AuthorizeRequest, user: User) -> web.Response:
    request[NOTES].append(f"user {user.id} denied snsapi_userinfo; redirected with state only")
    return redirect(authorize.redirect_with(req.redirect_uri, {"state": req.state}))


def _decide(request: web.Request, req: AuthorizeRequest, user: User, decision: str) -> web.Response:
    if decision == "allow":
        request.app[ACCOUNTS].grant_consent(req.account.appid, user.id)
        return _grant(request, req, user)
    if decision == "deny":
        return _deny(request, req, user)
    raise errors.LinkUnavailable(f"consent decision must be 'allow' or 'deny', got {decision!r}")


@routes.get(AUTHORIZE_PATH)
@speaks(Wire.PAGE)
async def authorize_page(request: web.Request) -> web.StreamResponse:
    req = authorize.validate(request.query, current_config(request.app).by_appid)
    user = current_user(request)
    if user is None:
        users = request.app[ACCOUNTS].all_users()
        return _page(request, "picker.html", users=users, next=request.path_qs, account=req.account)
    if not req.wants_userinfo:
        return _grant(request, req, user)
    decision = request.headers.get(CONSENT_HEADER, "").lower()
    if decision:
        return _decide(request, req, user, decision)
    if request.app[ACCOUNTS].has_consent(req.account.appid, user.id) and not req.force_popup:
        request[NOTES].append(f"{user.id} consented to {req.account.appid} before; no consent page")
        return _grant(request, req, user)
    return _page(request, "consent.html", user=user, account=req.account, next=request.path_qs)


def _next(value: str) -> str:
    """The authorize URL a form returns to; only that path, never an open redirect."""
    url = URL(value)
    # A scheme alone ("http:/connect/...") is refused too: yarl writes it back as "http:///connect/...",
    # which a browser follows to the host "connect".
    if url.scheme or url.is_absolute() or url.path != AUTHORIZE_PATH:
        raise errors.LinkUnavailable(f"next must be {AUTHORIZE_PATH}?..., got {value!r}")
    return str(url)


def redirect(location: str, status: int = 302) -> web.Response:
    """A redirect; never one whose Location carries CR or LF (aiohttp would drop the connection instead)."""
    if "\r" in location or "\n" in location:
        raise errors.LinkUnavailable(f"the sandbox will not redirect to {location!r}: it contains CR or LF")
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


async def _form(request: web.Request) -> Mapping[str, Any]:
    """The picker's or consent page's form; one that is not UTF-8 (a browser never sends one) is a bad link."""
    try:
        return await request.post()
    except ValueError as exc:  # UnicodeDecodeError among them
        raise errors.LinkUnavailable(f"the form body is not UTF-8 form data ({exc}); the sandbox refuses it") from None


@routes.post("/_sandbox/oauth/user")
@speaks(Wire.PAGE)
async def choose_user(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    target = _next(str(form.get("next", "")))
    user = _known_user(request, str(form.get("user", "")), "the picker")
    response = redirect(target, 303)
    response.set_cookie(USER_COOKIE, user.id, path="/", httponly=True, samesite="Lax", max_age=365 * 86_400)
    request[NOTES].append(f"this browser is now user {user.id}")
    return response


@routes.get("/_sandbox/oauth/switch")
@speaks(Wire.PAGE)
async def switch_user(request: web.Request) -> web.StreamResponse:
    target = _next(request.query.get("next", ""))
    response = redirect(target, 303)
    response.del_cookie(USER_COOKIE, path="/")
    return response


@routes.post("/_sandbox/oauth/consent")
@speaks(Wire.PAGE)
async def consent(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    target = _next(str(form.get("next", "")))
    req = authorize.validate(URL(target).query, current_config(request.app).by_appid)
    user = current_user(request)
    if user is None:
        raise errors.LinkUnavailable("no sandbox user chosen in this browser (cookie missing); open the link again")
    return _decide(request, req, user, str(form.get("decision", "")))
