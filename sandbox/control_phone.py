"""The control API's phone: scan a code_url (`POST /_sandbox/api/scan`) or take an app's pay parameters as WeChat's
SDK would (`POST /_sandbox/api/app-pay`), and pay as the user, in one call."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat.bridge import app_sdk, scanner
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.keys import ACCOUNTS, BRIDGE, KEYRING, PAY, current_config
from mock_wechat.pay import v2_dialect
from mock_wechat.pay.orders import Outcome
from sandbox.control import api_error, read_json
from sandbox.control_pay import order_json
from sandbox.json_text import json_response

routes = web.RouteTableDef()


def _user(request: web.Request, body: dict[str, Any]) -> str | web.Response:
    """The payer: `user`, else `--auto-user`, else the first user."""
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        return api_error(400, "user must be a user id")
    config = current_config(request.app)
    chosen = user or config.auto_user or (request.app[ACCOUNTS].all_users()[0].id)
    if request.app[ACCOUNTS].user(chosen) is None:
        return api_error(404, f"no user {chosen!r}")
    return chosen


def _outcome(body: dict[str, Any]) -> Outcome | web.Response:
    try:
        return Outcome(body.get("outcome", "success"))
    except ValueError:
        return api_error(400, "outcome must be one of: " + ", ".join(o.value for o in Outcome))


def refused(answer: SheetRefused, notes: list[str]) -> web.Response:
    """What the phone shows (`error`) and why (`diagnostics`): 409, nothing was paid."""
    return json_response({"error": answer.text, "diagnostics": [*notes, *answer.diagnostics]}, status=409)


def pay_on_sheet(request: web.Request, sheet_id: str, user: str, outcome: Outcome) -> dict[str, Any]:
    """The payer types their PIN on the sheet and confirms: the sheet's answer and the order afterwards."""
    bridge = request.app[BRIDGE]
    pin = request.app[ACCOUNTS].user(user)
    answer = bridge.confirm(sheet_id, pin.pin if pin is not None else "", outcome)
    sheet = bridge.sheets.get(sheet_id)
    assert sheet is not None
    order = request.app[PAY].order(sheet.mch_id, sheet.out_trade_no)
    assert order is not None
    return {
        "result": answer.get("result", {}),
        "alert": answer.get("alert"),
        "diagnostics": answer.get("diagnostics", []),
        "order": order_json(order),
    }


@routes.post("/_sandbox/api/scan")
async def scan(request: web.Request) -> web.Response:
    """`{"code_url": "weixin://wxpay/bizpayurl?…", "user": "alice", "outcome": "success"}`: the user scans the code
    (mode 2, or mode 1 through the merchant's scan-pay callback) and pays on the sheet with their PIN."""
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    code_url = body.get("code_url")
    if not isinstance(code_url, str) or not code_url:
        return api_error(400, "code_url must be the scanned text (weixin://wxpay/bizpayurl?…)")
    user, outcome = _user(request, body), _outcome(body)
    if isinstance(user, web.Response):
        return user
    if isinstance(outcome, web.Response):
        return outcome
    bridge, notes = request.app[BRIDGE], list[str]()
    try:
        order = await scanner.order_of_scan(bridge, code_url, user, notes)
        sheet, _ = bridge.open_order_sheet(order, user, f"api:{user}", "weixin://wxpay")
    except SheetRefused as answer:
        return refused(answer, notes)
    paid = pay_on_sheet(request, sheet.sheet_id, user, outcome)
    return json_response({**paid, "diagnostics": [*notes, *paid["diagnostics"]]})


@routes.post("/_sandbox/api/app-pay")
async def app_pay(request: web.Request) -> web.Response:
    """`{"params": {appid, partnerid, prepayid, package, noncestr, timestamp, sign}, "user", "outcome"}`: what the
    merchant's server gave its app, checked as WeChat's SDK would, then paid with the user's PIN. The answer is
    the SDK's `errCode` (0 paid, -1 refused or failed, -2 cancelled) and the sandbox's `diagnostics`; with
    `"sheet": true` the pay sheet is opened instead (the /_sandbox/app page shows it)."""
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    params = body.get("params")
    if not isinstance(params, dict):
        return api_error(400, "params must be the JSON object the merchant's server gave the app")
    user, outcome = _user(request, body), _outcome(body)
    if isinstance(user, web.Response):
        return user
    if isinstance(outcome, web.Response):
        return outcome
    pay, bridge = request.app[PAY], request.app[BRIDGE]
    order = pay.by_prepay_id(str(params.get("prepayid", ""))) if params.get("prepayid") else None
    account = current_config(request.app).account(str(params.get("appid", "")))
    v3_keys = request.app[KEYRING].keys(order.mch_id) if order is not None and order.api == "v3" else None
    try:
        order = app_sdk.check(
            params,
            order,
            account,
            v2_dialect.order_key(pay, order) if order is not None else "",
            v3_keys,
            pay.answer_sign(order) if order is not None else "",
        )
        sheet, info = bridge.open_order_sheet(order, user, f"app:{user}", "weixin://app")
    except app_sdk.AppPayRefused as refused:
        return json_response({"errCode": app_sdk.ERR_COMM, "errStr": "", "diagnostics": refused.diagnostics})
    except SheetRefused as answer:
        return json_response({"errCode": app_sdk.ERR_COMM, "errStr": answer.text, "diagnostics": answer.diagnostics})
    if body.get("sheet") is True:
        return json_response({"sheet": info, "diagnostics": []})
    paid = pay_on_sheet(request, sheet.sheet_id, user, outcome)
    ok = paid["result"].get("err_msg") == "get_brand_wcpay_request:ok"
    return json_response(
        {
            "errCode": app_sdk.ERR_OK if ok else app_sdk.ERR_COMM,
            "errStr": "" if ok else str(paid["alert"] or ""),
            "order": paid["order"],
            "diagnostics": paid["diagnostics"],
        }
    )
