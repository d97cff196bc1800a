"""`/_sandbox/bridge/`: the JSON endpoints `wechat-bridge.js` calls, with CORS for trusted merchant origins."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mock_wechat import json_input
from mock_wechat.bridge import scanner
from mock_wechat.bridge.jsapi import Verdict
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.bridge.service import SheetNotOpen
from mock_wechat.keys import BODY_FIELDS, BRIDGE, COMPARISON, NOTES, current_config
from mock_wechat.pay.orders import Outcome
from mock_wechat.trust import origin_allowed

routes = web.RouteTableDef()
PREFIX = "/_sandbox/bridge/"

Handler = Callable[[web.Request], Awaitable[web.Response]]


class BadBody(Exception):
    """A request body wechat-bridge.js never sends: the caller's bug, answered 400 with the reason."""


def bridge_errors(handler: Handler) -> Handler:
    """A bad body answers 400 with its reason; a sheet that is not open answers the page's payment `fail`."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except BadBody as exc:
            request[NOTES].append(f"bad request body: {exc}")
            return web.json_response({"error": str(exc)}, status=400)
        except SheetNotOpen as exc:  # the page's sheet outlived it: the payment fails, never looks paid
            request[NOTES].append(exc.diagnostic)
            body = {"result": {"err_msg": "get_brand_wcpay_request:fail"}, "diagnostics": [exc.diagnostic]}
            return web.json_response(body, status=404)

    return wrapped


async def add_cors(request: web.Request, response: web.StreamResponse) -> None:
    """Let merchant pages (another origin) read the bridge's answers, and nothing else."""
    if not request.path.startswith(PREFIX):
        return
    origin = request.headers.get("Origin", "")
    if origin and origin_allowed(origin, current_config(request.app)):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"


@routes.route("OPTIONS", PREFIX + "{tail:.*}")
async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json_input.loads(await request.read() or b"{}")
    except json_input.BadJson as exc:
        raise BadBody(f"expected a JSON object, got a body {exc}") from None
    if not isinstance(body, dict):
        raise BadBody(f"expected a JSON object, got {type(body).__name__}")
    return body


def _args(body: dict[str, Any]) -> dict[str, Any]:
    args = body.get("args")
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise BadBody(f"args must be a JSON object (the bridge call's arguments), got {type(args).__name__}")
    return args


def _config_answers(body: dict[str, Any]) -> int | None:
    """How many wx.config answers the page had when it called (sent by wechat-bridge.js), or None."""
    value = body.get("config_answers")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _answer(request: web.Request, payload: dict[str, Any], diagnostics: list[str]) -> web.Response:
    request[NOTES].extend(diagnostics)
    return web.json_response({**payload, "diagnostics": diagnostics})


def _verdict(request: web.Request, verdict: Verdict) -> web.Response:
    if verdict.comparison is not None:
        request[COMPARISON] = verdict.comparison
    return _answer(request, {"result": verdict.result}, verdict.diagnostics)


def journal_fields(args: dict[str, Any]) -> dict[str, str]:
    """A bridge call's arguments as the journal records them (its secrets are masked there): text, 64 at most."""
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)[:200] for k, v in list(args.items())[:64]
    }


@routes.post(PREFIX + "invoke")
@bridge_errors
async def invoke(request: web.Request) -> web.Response:
    body = await _body(request)
    name, args = str(body.get("name", "")), _args(body)
    page_id, href = str(body.get("page_id", "")), str(body.get("href", ""))
    bridge = request.app[BRIDGE]
    request[NOTES].append(f"{name} from {href}")
    request[BODY_FIELDS] = journal_fields(args)
    if name == "preVerifyJSAPI":
        return _verdict(request, bridge.preverify(page_id, href, args))
    return _verdict(request, bridge.invoke(page_id, href, name, args, _config_answers(body)))


@routes.post(PREFIX + "sheet/open")
@bridge_errors
async def open_sheet(request: web.Request) -> web.Response:
    body = await _body(request)
    args = _args(body)
    bridge = request.app[BRIDGE]
    page_id, href = str(body.get("page_id", "")), str(body.get("href", ""))
    request[BODY_FIELDS] = journal_fields(args)
    refusal = bridge.invoke(page_id, href, "getBrandWCPayRequest", args, _config_answers(body))
    if not refusal.ok:
        return _verdict(request, refusal)
    try:
        _, info, notes = bridge.open_sheet(page_id, href, args)
    except SheetRefused as refused:
        return _answer(request, {"result": {"err_msg": refused.err_msg}, "alert": refused.text}, refused.diagnostics)
    return _answer(request, {"sheet": info}, notes)


@routes.post(PREFIX + "scan")
@bridge_errors
async def scan(request: web.Request) -> web.Response:
    """The payer's WeChat scans `code_url` (`{"code_url", "user"}`): the pay sheet of its order, or WeChat's
    refusal. A mode 1 code calls the merchant's scan-pay callback first."""
    body = await _body(request)
    text, user = str(body.get("code_url", "")), str(body.get("user", ""))
    request[BODY_FIELDS] = {"code_url": text, "user": user}
    bridge, notes = request.app[BRIDGE], list[str]()
    try:
        order = await scanner.order_of_scan(bridge, text, user, notes)
        _, info = bridge.open_order_sheet(order, user, f"phone:{user}", "weixin://wxpay")
    except SheetRefused as refused:
        payload = {"result": {"err_msg": refused.err_msg}, "alert": refused.text}
        return _answer(request, payload, [*notes, *refused.diagnostics])
    return _answer(request, {"sheet": info, "out_trade_no": order.out_trade_no, "mch_id": order.mch_id}, notes)


@routes.post(PREFIX + "sheet/{sheet_id}/confirm")
@bridge_errors
async def confirm(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        outcome = Outcome(str(body.get("outcome", "success")))
    except ValueError:
        outcome = Outcome.SUCCESS
    sheet = request.app[BRIDGE].sheets.get(request.match_info["sheet_id"])
    request[BODY_FIELDS] = {"outcome": outcome.value, "prepay_id": "" if sheet is None else sheet.prepay_id}
    answer = request.app[BRIDGE].confirm(request.match_info["sheet_id"], str(body.get("pin", "")), outcome)
    diagnostics = answer.pop("diagnostics", [])
    return _answer(request, answer, diagnostics)


@routes.post(PREFIX + "sheet/{sheet_id}/cancel")
@bridge_errors
async def cancel(request: web.Request) -> web.Response:
    await _body(request)
    return _answer(request, request.app[BRIDGE].cancel(request.match_info["sheet_id"]), [])


@routes.get("/sdk/report")
async def report(request: web.Request) -> web.Response:
    """jweixin's report beacon (open.weixin.qq.com/sdk/report): accepted and dropped."""
    return web.Response(status=204)
