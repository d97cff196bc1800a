"""Render successes and errors once per wire dialect: api JSON, the authorize pages, and v2 XML."""

from __future__ import annotations

import json
from typing import Any

import jinja2
from aiohttp import web

from mock_wechat import errors
from mock_wechat.keys import IDS, TEMPLATES, V2_FIELDS, V2_SIGNER
from mock_wechat.pay import v2_xml
from mock_wechat.pay.v2_dialect import Signer
from mock_wechat.trust import Refused


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
        code, text = error.code, error.text
    else:
        code, text = None, "系统错误，请稍后再试"
    html = templates.get_template("error.html").render(
        code=code, text=text, diagnostic=error.diagnostic, rid=rid, title="微信网页授权"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def is_v2_path(path: str) -> bool:
    """Paths of WeChat Pay API v2 (api.mch.weixin.qq.com), answered in `<xml>`."""
    return path.startswith(("/pay/", "/secapi/", "/sandboxnew/", "/xdc/"))


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


def is_page_path(path: str) -> bool:
    """Paths answered with HTML pages (open.weixin.qq.com authorize and its sandbox helpers)."""
    return path.startswith(("/connect/", "/_sandbox/oauth/"))


def render_refusal(request: web.Request, error: Refused, rid: str) -> web.Response:
    """The guard's 403: the sandbox's own endpoints say why; WeChat's paths answer their generic failure."""
    path = request.path
    if is_page_path(path):
        page = render_page_error(request.app[TEMPLATES], errors.LinkUnavailable(error.diagnostic), rid)
        page.set_status(Refused.status)
        return page
    if path.startswith("/_sandbox/"):
        return web.json_response({"error": error.diagnostic}, status=Refused.status)
    if is_v2_path(path):
        return v2_response(v2_xml.render({"return_code": "FAIL", "return_msg": error.diagnostic}), Refused.status)
    return render_api_error(errors.Forbidden(error.diagnostic), rid)


def render_error(request: web.Request, error: errors.WeChatError, rid: str) -> web.Response:
    path = request.path
    if isinstance(error, Refused):
        return render_refusal(request, error, rid)
    if is_page_path(path):
        return render_page_error(request.app[TEMPLATES], error, rid)
    if is_v2_path(path) and not isinstance(error, errors.UnknownPath):
        nonce = request.app[IDS].nonce()
        return render_v2_error(error, request.get(V2_SIGNER), request.get(V2_FIELDS, {}), nonce)
    if isinstance(error, errors.ApiError):
        return render_api_error(error, rid)
    return render_api_error(errors.SystemError_(error.diagnostic), rid)
