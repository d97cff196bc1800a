"""The control API's configuration calls: set an account's domains or a merchant's pay directories at run time."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from mock_wechat.domains import callback_url_problem
from mock_wechat.keys import KEYRING, current_config
from sandbox.control import account_json, api_error, merchant_json, read_json
from sandbox.json_text import json_response
from sandbox.shared import ACCOUNT_FIELDS, MERCHANT_FIELDS, field_changes, save_changes

routes = web.RouteTableDef()


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
    save_changes(request.app, "accounts", account.appid, changes)
    return json_response(account_json(replace(account, **changes)))


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
    save_changes(request.app, "merchants", merchant.mch_id, changes)
    updated = replace(merchant, **changes)
    return json_response(merchant_json(updated, request.app[KEYRING].keys(updated.mch_id)))
