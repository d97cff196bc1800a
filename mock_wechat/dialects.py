"""Render successes and errors once per wire dialect: api JSON, the authorize pages, v2 XML and v3 JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

import jinja2
from aiohttp import web

from mock_wechat import errors
from mock_wechat.keys import BODY_FIELDS, CLOCK, IDS, KEYRING, RID, TEMPLATES, V2_SIGNER, V3_MERCHANT, current_config
from mock_wechat.pay import v2_xml, v3_dialect
from mock_wechat.pay.v2_dialect import Signer
from mock_wechat.trust import Refused


class Wire(StrEnum):
    """The wire dialects: each route speaks one, and its errors are rendered in it."""

    API = "api"
    PAGE = "page"
    V2 = "v2"
    V3 = "v3"


WIRE_ATTR = "__wechat_wire__"
H = TypeVar("H", bound=Callable[..., Any])


def speaks(wire: Wire) -> Callable[[H], H]:
    """Declare the dialect of a route's handler (the route picks it once; errors are rendered in it)."""

    def mark(handler: H) -> H:
        setattr(handler, WIRE_ATTR, wire)
        return handler

    return mark


def wire_of_path(path: str) -> Wire:
    """The dialect of a request no route claimed (an unknown path, a wrong method, a refusal): by WeChat's host."""
    if path.startswith(("/connect/", "/_sandbox/oauth/")):
        return Wire.PAGE
    if path.startswith(("/pay/", "/secapi/", "/sandboxnew/", "/xdc/")):
        return Wire.V2
    if path.startswith("/v3/"):
        return Wire.V3
    return Wire.API


def wire_of(request: web.Request) -> Wire:
    """The dialect the matched route declared, else the one of its path."""
    declared = getattr(request.match_info.handler, WIRE_ATTR, None)
    return declared if isinstance(declared, Wire) else wire_of_path(request.path)


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
    if isinstance(error, errors.UnknownPath | errors.Forbidden):
        body["hint"] = error.diagnostic
    return json_body(body, error.status)


def render_page_error(templates: jinja2.Environment, error: errors.WeChatError, rid: str) -> web.Response:
    if isinstance(error, errors.PageError):
        code, text, title = error.code, error.text, error.title
    else:
        code, text, title = None, "系统错误，请稍后再试", errors.PageError.title
    html = templates.get_template("error.html").render(
        code=code, text=text, diagnostic=error.diagnostic, rid=rid, title=title
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def is_v2_path(path: str) -> bool:
    """Paths of WeChat Pay API v2 (api.mch.weixin.qq.com), answered in `<xml>` (for what no route claimed)."""
    return wire_of_path(path) is Wire.V2


def v2_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/xml", charset="utf-8")


def signed_v2(fields: dict[str, str | int], signer: Signer) -> str:
    """A v2 answer signed with the key and sign type of the request it answers."""
    return v2_xml.render_signed(fields, signer.key, signer.sign_type)


def render_v2_error(
    error: errors.WeChatError, signer: Signer | None, fields: dict[str, str], nonce: str
) -> web.Response:
    """`return_code=FAIL` unsigned for faults of the request; signed `result_code=FAIL` for business ones."""
    if not isinstance(error, errors.PayV2Error):
        error = errors.PaySystemBusy(error.diagnostic)
    if error.protocol or signer is None:
        body: dict[str, str | int] = {"return_code": "FAIL", "return_msg": error.des}
        if isinstance(error, errors.BillUnavailable) and error.error_code:
            body["error_code"] = error.error_code
        return v2_response(v2_xml.render(body), error.status)
    answer: dict[str, str | int] = {"return_code": "SUCCESS", "return_msg": "OK"}
    if fields.get("appid"):
        answer["appid"] = fields["appid"]
    answer.update(
        mch_id=signer.merchant.mch_id,
        nonce_str=nonce,
        result_code="FAIL",
        err_code=error.err_code,
        err_code_des=error.des,
    )
    return v2_response(signed_v2(answer, signer), error.status)


def render_refusal(request: web.Request, error: Refused, rid: str) -> web.Response:
    """The guard's 403: the sandbox's own endpoints say why; WeChat's paths answer their generic failure."""
    wire = wire_of(request)
    if wire is Wire.PAGE:
        page = render_page_error(request.app[TEMPLATES], errors.LinkUnavailable(error.diagnostic), rid)
        page.set_status(Refused.status)
        return page
    if request.path.startswith("/_sandbox/"):
        return json_body({"error": error.diagnostic}, Refused.status)  # read by people: UTF-8, unescaped
    if wire is Wire.V2:
        return v2_response(v2_xml.render({"return_code": "FAIL", "return_msg": error.diagnostic}), Refused.status)
    if wire is Wire.V3:
        return render_v3_error(request, errors.V3InvalidRequest(error.diagnostic, message=error.diagnostic))
    return render_api_error(errors.Forbidden(error.diagnostic), rid)


def v3_response(request: web.Request, mch_id: str | None, status: int, body: dict[str, Any] | None) -> web.Response:
    """A v3 answer: compact JSON (nothing for a 204), signed for `mch_id` as the merchant's answers are."""
    text = "" if body is None else v3_dialect.dumps(body)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if mch_id is not None and current_config(request.app).merchant(mch_id) is not None:
        signer = request.app[KEYRING].response_signer(mch_id)
        wall = request.app[CLOCK].wall()
        headers.update(v3_dialect.signed_headers(signer, request.app[IDS], wall, text, request[RID]))
    return web.Response(body=text.encode(), status=status, headers=headers)


def render_v3_error(request: web.Request, error: errors.WeChatError) -> web.Response:
    """`{"code","message"[,"detail"]}` with the HTTP status, signed for the merchant the request named."""
    v3 = v3_dialect.as_v3(error)
    mch_id = request.get(V3_MERCHANT) or v3_dialect.named_merchant(request.headers.get("Authorization", ""))
    return v3_response(request, mch_id, v3.status, v3_dialect.error_body(v3))


def render_error(request: web.Request, error: errors.WeChatError, rid: str) -> web.Response:
    wire = wire_of(request)
    if isinstance(error, Refused):
        return render_refusal(request, error, rid)
    if wire is Wire.PAGE:
        return render_page_error(request.app[TEMPLATES], error, rid)
    if wire is Wire.V3:
        return render_v3_error(request, error)
    if wire is Wire.V2 and not isinstance(error, errors.UnknownPath):
        nonce = request.app[IDS].nonce()
        return render_v2_error(error, request.get(V2_SIGNER), request.get(BODY_FIELDS, {}), nonce)
    if isinstance(error, errors.ApiError):
        return render_api_error(error, rid)
    return render_api_error(errors.SystemError_(error.diagnostic), rid)
