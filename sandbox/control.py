"""The control API under `/_sandbox/api/`: health, config, reset, clock, users, journal."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from mock_wechat import json_input
from mock_wechat.app import reconfigure
from mock_wechat.config import Account, Merchant, User, WeChatConfig
from mock_wechat.ids import openid_for, unionid_for
from mock_wechat.keys import ACCOUNTS, IDS, KEYRING, STORE, current_config
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults, shared
from sandbox.journal import MAX_ID, PAGE_MAX
from sandbox.json_text import json_response
from sandbox.keys import JOURNAL, ORIGINAL_CONFIG, SANDBOX_CLOCK, STARTED, TLS
from sandbox.shared import MAX_OFFSET

routes = web.RouteTableDef()
log = logging.getLogger("sandbox.control")

VERSION = "0.1.0"
MAX_ADVANCE = 10 * 365 * 86_400
"""Ten years at a time: far enough for any expiry, finite for every date computation."""
MAX_BALANCE = 10**15
"""Fen (ten trillion yuan): more than any test needs, and exact as a JavaScript number or a float."""


def api_error(status: int, message: str) -> web.Response:
    """The control API's own error shape (it is not a WeChat endpoint); bad input also gets one log line."""
    if status == 400:
        log.warning("control API refused bad input (400): %s", message)
    return json_response({"error": message}, status=status)


async def read_json(request: web.Request) -> dict[str, Any] | web.Response:
    """The body as a JSON object (`{}` when empty), or the 400 that says what is wrong with it."""
    raw = await request.read()
    try:
        body = json_input.loads(raw) if raw else {}
    except json_input.BadJson as exc:
        return api_error(400, f"body must be a JSON object; this one is {exc}")
    if not isinstance(body, dict):
        return api_error(400, "body must be a JSON object")
    return body


def user_json(user: User, config: WeChatConfig) -> dict[str, Any]:
    return {
        "id": user.id,
        "nickname": user.nickname,
        "sex": user.sex,
        "province": user.province,
        "city": user.city,
        "country": user.country,
        "openids": {a.appid: openid_for(a.appid, user.id) for a in config.accounts},
        "unionid": unionid_for(user.id),
        "balance": user.balance,
        "pin": user.pin,
        "snapshot": user.snapshot,
    }


def account_json(a: Account) -> dict[str, Any]:
    return {
        "appid": a.appid,
        "secret": a.secret,
        "name": a.name,
        "oauth_domains": list(a.oauth_domains),
        "js_domains": list(a.js_domains),
        "trust_loopback": a.trust_loopback,
        "unionid": a.unionid,
        "kind": a.kind.value,
    }


def merchant_json(m: Merchant, keys: MerchantKeys) -> dict[str, Any]:
    """The merchant's settings and credentials, API v3 material included (the names are a contract)."""
    return {
        "mch_id": m.mch_id,
        "key": m.key,
        "name": m.name,
        "appids": list(m.appids),
        "pay_directories": list(m.pay_directories),
        "notify_hosts": list(m.notify_hosts),
        "h5_domains": list(m.h5_domains),
        "native_callback_url": m.native_callback_url,
        "trust_loopback": m.trust_loopback,
        "apiv3_key": keys.apiv3_key,
        "serial_no": keys.serial_no,
        "private_key": keys.private_key,
        "certificate": keys.certificate,
        "platform_serial_no": keys.platform_serial_no,
        "platform_certificate": keys.platform_certificate,
        "public_key_id": keys.public_key_id,
        "public_key": keys.public_key,
        "response_signing": m.response_signing.value,
    }


def emulated_paths(app: web.Application) -> list[str]:
    paths = set()
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if isinstance(path, str) and not path.startswith("/_sandbox/") and path != "/":
            paths.add(path)
    return sorted(paths)


@routes.get("/_sandbox/api/health")
async def health(request: web.Request) -> web.Response:
    ca = request.app[TLS].ca_certificate
    return json_response(
        {
            "status": "ok",
            "version": VERSION,
            "uptime": round(time.monotonic() - request.app[STARTED], 3),
            "now": request.app[SANDBOX_CLOCK].now(),
            "endpoints": emulated_paths(request.app),
            "tls_url": request.app[TLS].url,
            "ca_certificate": None if ca is None else str(ca.resolve()),
        }
    )


@routes.get("/_sandbox/api/config")
async def config(request: web.Request) -> web.Response:
    cfg = current_config(request.app)
    return json_response(
        {
            "accounts": [account_json(a) for a in cfg.accounts],
            "merchants": [merchant_json(m, request.app[KEYRING].keys(m.mch_id)) for m in cfg.merchants],
            "users": [user_json(u, cfg) for u in request.app[ACCOUNTS].all_users()],
            "auto_user": cfg.auto_user,
        }
    )


def reset_state(app: web.Application) -> None:
    """Back to the configured start: no tokens, codes, consents or journal; clock at real time.

    The merchants' API v3 keys stay: new ones would cost every test ~0.1 s a key and void downloaded key files."""
    store = app[STORE]
    boots = store.meta_get("boots")
    keys = app[KEYRING].saved()
    with store.transaction():
        store.clear()
        if boots is not None:
            store.meta_set("boots", boots)
        app[KEYRING].restore(keys)
        store.announce(shared.RESET)
    app[SANDBOX_CLOCK].offset = 0.0
    app[IDS].reseed()
    reconfigure(app, app[ORIGINAL_CONFIG])
    app[ACCOUNTS].seed_users()


@routes.post("/_sandbox/api/reset")
async def reset(request: web.Request) -> web.Response:
    reset_state(request.app)
    return json_response({"status": "ok"})


def clock_json(app: web.Application) -> dict[str, Any]:
    clock = app[SANDBOX_CLOCK]
    now = clock.now()
    return {"now": now, "iso": datetime.fromtimestamp(now, UTC).isoformat(), "offset": clock.offset}


@routes.get("/_sandbox/api/clock")
async def get_clock(request: web.Request) -> web.Response:
    return json_response(clock_json(request.app))


@routes.post("/_sandbox/api/clock")
async def advance_clock(request: web.Request) -> web.Response:
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    seconds = body.get("advance")
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 <= seconds <= MAX_ADVANCE
    ):
        return api_error(
            400, f'expected {{"advance": seconds}} with 0 <= seconds <= {MAX_ADVANCE} (the clock never goes back)'
        )
    clock = request.app[SANDBOX_CLOCK]
    if clock.offset + seconds > MAX_OFFSET:
        return api_error(
            400,
            f"advance: the clock is already {clock.offset:.0f} s ahead and may not go more than {MAX_OFFSET} s"
            " (100 years) ahead; POST /_sandbox/api/reset puts it back",
        )
    shared.advance_clock(request.app, float(seconds))  # every process on the store follows; due ones go out now
    return json_response(clock_json(request.app))


USER_FIELDS = {"id", "nickname", "sex", "province", "city", "country", "balance", "pin", "snapshot"}


@routes.get("/_sandbox/api/users")
async def list_users(request: web.Request) -> web.Response:
    """Every user as it is now (balances included), in the order they were made."""
    config = current_config(request.app)
    return json_response({"users": [user_json(u, config) for u in request.app[ACCOUNTS].all_users()]})


@routes.post("/_sandbox/api/users")
async def create_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    unknown = sorted(set(body) - USER_FIELDS)
    if unknown:
        return api_error(400, f"unknown fields {unknown}; allowed: {sorted(USER_FIELDS)}")
    accounts = request.app[ACCOUNTS]
    existing = {u.id for u in accounts.all_users()}
    user_id = body.get("id") or next(f"user{n}" for n in range(len(existing) + 1, 10**6) if f"user{n}" not in existing)
    if not valid_user_id(user_id):
        return api_error(400, "id must be 1-64 ASCII letters, digits, '-' or '_'")
    if user_id in existing:
        return api_error(409, f"user {user_id!r} exists")
    seed = current_config(request.app).seed or 0
    base = defaults.generated_user(user_id, seed + len(existing) + 1)
    profile = {**{f: getattr(base, f) for f in USER_FIELDS}, **body, "id": user_id}
    problem = profile_problem(profile)
    if problem:
        return api_error(400, problem)
    user = User(**profile)
    accounts.put_user(user)
    return json_response(user_json(user, current_config(request.app)), status=201)


def valid_user_id(user_id: object) -> bool:
    """Ids travel in cookies, headers and URLs: plain ASCII only."""
    return (
        isinstance(user_id, str)
        and 0 < len(user_id) <= 64
        and user_id.isascii()
        and user_id.replace("-", "").replace("_", "").isalnum()
    )


def profile_problem(profile: dict[str, Any]) -> str | None:
    """What is wrong with a user profile from the control API, or None."""
    pin = profile["pin"]
    if not (isinstance(pin, str) and len(pin) == 6 and pin.isdigit()):
        return "pin must be a string of 6 digits"
    for name, high in (("sex", 2), ("balance", MAX_BALANCE)):
        value = profile[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            return f"{name} must be an integer from 0 to {high}"
    if not isinstance(profile["snapshot"], bool):
        return "snapshot must be true or false"
    for name in ("nickname", "province", "city", "country"):
        if not isinstance(profile[name], str):
            return f"{name} must be a string"
    return None


@routes.patch("/_sandbox/api/users/{id}")
async def update_user(request: web.Request) -> web.Response:
    """Change a user's profile, balance or PIN (e.g. `{"balance": 0}` to test NOTENOUGH)."""
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    unknown = sorted(set(body) - (USER_FIELDS - {"id"}))
    if unknown:
        return api_error(400, f"unknown fields {unknown}; allowed: {sorted(USER_FIELDS - {'id'})}")
    accounts = request.app[ACCOUNTS]
    user = accounts.user(request.match_info["id"])
    if user is None:
        return api_error(404, f"no user {request.match_info['id']!r}")
    profile = {**{f: getattr(user, f) for f in USER_FIELDS}, **body}
    problem = profile_problem(profile)
    if problem:
        return api_error(400, problem)
    updated = User(**profile)
    accounts.put_user(updated)
    return json_response(user_json(updated, current_config(request.app)))


def query_int(request: web.Request, name: str, default: int, high: int) -> int | str:
    """The query parameter `name` as an integer from 0 to `high`, or what is wrong with it."""
    value = request.query.get(name)
    if value is None:
        return default
    problem = f"{name} must be an integer from 0 to {high}"
    # isdigit() alone lets "²" through, and int() refuses over 4,300 digits: bound the text first.
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(high)) or int(value) > high:
        return problem
    return int(value)


@routes.get("/_sandbox/api/journal")
async def journal(request: web.Request) -> web.Response:
    """`?after=ID&limit=N`: entries with ids above `after`, at most `limit`; `?last=N`: the newest N. Oldest first."""
    after = query_int(request, "after", 0, MAX_ID)
    limit = query_int(request, "limit", 1000, PAGE_MAX)
    last = query_int(request, "last", 0, PAGE_MAX)
    if isinstance(after, str) or isinstance(limit, str) or isinstance(last, str):
        return api_error(400, next(v for v in (after, limit, last) if isinstance(v, str)))
    if "last" in request.query:
        return json_response({"entries": request.app[JOURNAL].recent(last)[::-1]})
    return json_response({"entries": request.app[JOURNAL].entries(after, limit)})
