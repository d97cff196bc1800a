"""The control API's phone: scan a code_url and pay it as a user would, in one call (`POST /_sandbox/api/scan`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_wechat.bridge import scanner
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.keys import ACCOUNTS, BRIDGE, PAY, current_config
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
