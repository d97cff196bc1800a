"""The control API's configuration calls: set an account's domains or a merchant's pay directories at run time."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any, TypeVar

from aiohttp import web

from mock_wechat.app import reconfigure
from mock_wechat.config import ResponseSigning
from mock_wechat.domains import callback_url_problem
from mock_wechat.keys import KEYRING, current_config
from sandbox.control import account_json, api_error, merchant_json, read_json
from sandbox.json_text import json_response

routes = web.RouteTableDef()
T = TypeVar("T")

ACCOUNT_FIELDS = {"name": str, "oauth_domains": list, "js_domains": list, "trust_loopback": bool, "unionid": bool}
MERCHANT_FIELDS = {
    "name": str,
    "appids": list,
    "pay_directories": list,
    "notify_hosts": list,
    "h5_domains": list,
    "native_callback_url": str,
    "trust_loopback": bool,
    "response_signing": ResponseSigning,
}


def field_changes(body: dict[str, Any], allowed: dict[str, type], domains: tuple[str, ...]) -> dict[str, Any] | str:
    """Validated field changes; setting domains without `trust_loopback` turns WeChat's real rules on."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return f"unknown fields {unknown}; allowed: {sorted(allowed)}"
    changes: dict[str, Any] = {}
    for name, value in body.items():
        kind = allowed[name]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"{name} must be a list of strings"
            value = tuple(value)
        elif issubclass(kind, StrEnum):
            values = [member.value for member in kind]
            if not isinstance(value, str) or value not in values:
                return f"{name} must be one of {values}"
            value = kind(value)
        elif not isinstance(value, kind):
            return f"{name} must be {kind.__name__}"
        changes[name] = value
    if any(d in body for d in domains) and "trust_loopback" not in body:
        changes["trust_loopback"] = False
    return changes


@routes.post("/_sandbox/api/accounts/{appid}")
async def configure_account(request: web.Request) -> web.Response:
    """e.g. `{"oauth_domains": ["127.0.0.1:5000"], "js_domains": ["127.0.0.1:5000"]}` for the app under test."""
    config = current_config(request.app)
    account = config.account(request.match_info["appid"])
    if account is None:
        return api_error(404, f"no account {request.match_info['appid']!r}")
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    changes = field_changes(body, ACCOUNT_FIELDS, ("oauth_domains", "js_domains"))
    if isinstance(changes, str):
        return api_error(400, changes)
    updated = replace(account, **changes)
    reconfigure(request.app, replace(config, accounts=_swap(config.accounts, account, updated)))
    return json_response(account_json(updated))


@routes.post("/_sandbox/api/merchants/{mch_id}")
async def configure_merchant(request: web.Request) -> web.Response:
    """e.g. `{"pay_directories": ["http://127.0.0.1:5000/pay/"], "notify_hosts": ["127.0.0.1:5000"]}`,
    `{"h5_domains": ["127.0.0.1:5000"], "native_callback_url": "http://127.0.0.1:5000/native/callback"}`, or
    `{"response_signing": "platform_certificate"}` to sign v3 answers with the platform certificate."""
    config = current_config(request.app)
    merchant = config.merchant(request.match_info["mch_id"])
    if merchant is None:
        return api_error(404, f"no merchant {request.match_info['mch_id']!r}")
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    changes = field_changes(body, MERCHANT_FIELDS, ("pay_directories", "notify_hosts", "h5_domains"))
    if isinstance(changes, str):
        return api_error(400, changes)
    problem = callback_url_problem(changes["native_callback_url"]) if changes.get("native_callback_url") else None
    if problem is not None:
        return api_error(400, f"native_callback_url: {problem}")
    updated = replace(merchant, **changes)
    reconfigure(request.app, replace(config, merchants=_swap(config.merchants, merchant, updated)))
    return json_response(merchant_json(updated, request.app[KEYRING].keys(updated.mch_id)))


def _swap(items: tuple[T, ...], old: T, new: T) -> tuple[T, ...]:
    return tuple(new if item is old else item for item in items)
