"""api.mch.weixin.qq.com API v3 (JSON, SHA256-RSA both ways): orders, refunds, certificates and bills."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mock_wechat import errors
from mock_wechat.config import Merchant
from mock_wechat.dialects import Wire, speaks, v3_response
from mock_wechat.keys import BODY_FIELDS, CLOCK, IDS, KEYRING, NOTES, PAY, RID, V3_MERCHANT
from mock_wechat.pay import bills, v3_dialect
from mock_wechat.pay.orders import TradeType
from mock_wechat.surfaces import cashier

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.Response]]

TRADE_TYPES = {"jsapi": TradeType.JSAPI, "native": TradeType.NATIVE, "h5": TradeType.MWEB, "app": TradeType.APP}
BILL_ERRORS: dict[str, type[errors.PayV3Error]] = {
    "Bill Creating": errors.V3StatementCreating,
    "No Bill Exist": errors.V3NoStatementExist,
}


async def authenticated(request: web.Request) -> tuple[Merchant, str]:
    """The merchant that signed this request, and its body as text; WeChat's 401 otherwise."""
    raw = await request.read()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.V3ParamError("the body is not UTF-8", message="请求体不是有效的UTF-8") from None
    request[BODY_FIELDS] = v3_dialect.flat_fields(body)
    app = request.app
    merchant = v3_dialect.authenticate(
        app[PAY],
        app[KEYRING],
        request.method,
        request.raw_path,
        body,
        request.headers.get("Authorization", ""),
        app[CLOCK].wall(),
    )
    request[V3_MERCHANT] = merchant.mch_id
    return merchant, body


def answer(request: web.Request, body: dict[str, Any] | None, status: int = 200) -> web.Response:
    """A signed answer for the merchant that signed the request."""
    return v3_response(request, request[V3_MERCHANT], status, body)


def query_mchid(request: web.Request, merchant: Merchant) -> None:
    """GETs name the merchant in `?mchid=` too: it must be the one that signed."""
    mchid = request.query.get("mchid", "")
    if mchid != merchant.mch_id:
        raise errors.V3ParamError(
            f"?mchid={mchid!r} is not the mchid of Authorization ({merchant.mch_id})",
            message="mchid参数错误" if mchid else "缺少参数mchid",
            detail={"field": "mchid", "location": "query"},
        )


@routes.post("/v3/pay/transactions/jsapi")
@routes.post("/v3/pay/transactions/native")
@routes.post("/v3/pay/transactions/h5")
@routes.post("/v3/pay/transactions/app")
@speaks(Wire.V3)
async def transactions(request: web.Request) -> web.Response:
    """JSAPI, Native, H5 and APP orders: `prepay_id`, `code_url` or `h5_url`."""
    merchant, body = await authenticated(request)
    pay = request.app[PAY]
    trade_type = TRADE_TYPES[request.path.rsplit("/", 1)[1]]
    order = pay.place_order(v3_dialect.order_request(pay, merchant, trade_type, v3_dialect.json_object(body)))
    request[NOTES].append(f"order {order.out_trade_no}: {order.trade_type}, {order.total_fee} fen, {order.prepay_id}")
    link = v3_dialect.payment_link(order, request.app[CLOCK].now())
    if "h5_url" in link:  # where this merchant's browsers reach the cashier
        link["h5_url"] = cashier.link_for(request, link["h5_url"])
    response = answer(request, link)
    # Remembered, so a page that passes the answer's signature off as paySign can be told.
    pay.note_answer_sign(merchant.mch_id, order.out_trade_no, response.headers["Wechatpay-Signature"])
    return response


@routes.get("/v3/pay/transactions/out-trade-no/{out_trade_no}")
@speaks(Wire.V3)
async def query_by_out_trade_no(request: web.Request) -> web.Response:
    merchant, _ = await authenticated(request)
    query_mchid(request, merchant)
    order = request.app[PAY].find(merchant.mch_id, out_trade_no=request.match_info["out_trade_no"])
    return answer(request, v3_dialect.transaction_json(order))


@routes.get("/v3/pay/transactions/id/{transaction_id}")
@speaks(Wire.V3)
async def query_by_transaction_id(request: web.Request) -> web.Response:
    merchant, _ = await authenticated(request)
    query_mchid(request, merchant)
    order = request.app[PAY].find(merchant.mch_id, transaction_id=request.match_info["transaction_id"])
    return answer(request, v3_dialect.transaction_json(order))


@routes.post("/v3/pay/transactions/out-trade-no/{out_trade_no}/close")
@speaks(Wire.V3)
async def close(request: web.Request) -> web.Response:
    """204 No Content, signed."""
    merchant, body = await authenticated(request)
    v3_dialect.check_mchid(merchant, v3_dialect.json_object(body))
    request.app[PAY].close(merchant.mch_id, request.match_info["out_trade_no"])
    return answer(request, None, 204)


@routes.post("/v3/refund/domestic/refunds")
@speaks(Wire.V3)
async def refunds(request: web.Request) -> web.Response:
    merchant, body = await authenticated(request)
    pay = request.app[PAY]
    made, _ = pay.make_refund(v3_dialect.refund_request(pay, merchant, v3_dialect.json_object(body)))
    return answer(request, v3_dialect.refund_json(made))


@routes.get("/v3/refund/domestic/refunds/{out_refund_no}")
@speaks(Wire.V3)
async def refund_query(request: web.Request) -> web.Response:
    merchant, _ = await authenticated(request)
    made = request.app[PAY].refund(merchant.mch_id, request.match_info["out_refund_no"])
    if made is None:
        raise errors.V3ResourceNotExists(
            f"merchant {merchant.mch_id} has no refund {request.match_info['out_refund_no']!r}",
            message="退款单不存在",
        )
    return answer(request, v3_dialect.refund_json(made))


@routes.get("/v3/certificates")
@speaks(Wire.V3)
async def certificates(request: web.Request) -> web.Response:
    """The platform certificate, sealed with the API v3 key; signed by that certificate (downloaders check it)."""
    merchant, _ = await authenticated(request)
    keys = request.app[KEYRING].keys(merchant.mch_id)
    text = v3_dialect.dumps(v3_dialect.certificates_json(keys, request.app[IDS]))
    signer = v3_dialect.certificates_signer(keys)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers.update(v3_dialect.signed_headers(signer, request.app[IDS], request.app[CLOCK].wall(), text, request[RID]))
    return web.Response(body=text.encode(), headers=headers)


def _bill(request: web.Request, merchant: Merchant, bill_date: str, bill_type: str) -> str:
    """The bill as CSV, or v3's own bill errors."""
    day = bill_date.replace("-", "")
    if len(bill_date) != 10 or len(day) != 8:
        raise errors.V3ParamError(f"bill_date {bill_date!r} is not yyyy-MM-dd", message="bill_date参数格式错误")
    try:
        return bills.trade_bill(request.app[PAY], merchant.mch_id, day, bill_type)
    except errors.BillUnavailable as exc:
        raise BILL_ERRORS.get(exc.des, errors.V3ParamError)(exc.diagnostic) from None


@routes.get("/v3/bill/tradebill")
@speaks(Wire.V3)
async def tradebill(request: web.Request) -> web.Response:
    """The bill's `download_url` (on this sandbox) and its SHA1."""
    merchant, _ = await authenticated(request)
    bill_date, bill_type = request.query.get("bill_date", ""), request.query.get("bill_type") or "ALL"
    csv = _bill(request, merchant, bill_date, bill_type)
    token = base64.urlsafe_b64encode(f"{merchant.mch_id}|{bill_date}|{bill_type}".encode()).decode().rstrip("=")
    return answer(
        request,
        {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(csv.encode()).hexdigest(),  # noqa: S324 - WeChat's choice
            "download_url": f"{request.scheme}://{request.host}/v3/billdownload/file?token={token}",
        },
    )


@routes.get("/v3/billdownload/file")
@speaks(Wire.V3)
async def billdownload(request: web.Request) -> web.Response:
    """The file behind a `download_url` (not signed, as WeChat's are not)."""
    merchant, _ = await authenticated(request)
    token = request.query.get("token", "")
    try:
        mch_id, bill_date, bill_type = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.V3ParamError(f"token {token[:40]!r} is not one tradebill gave", message="token参数错误") from None
    if mch_id != merchant.mch_id:
        raise errors.V3ParamError(f"token is for merchant {mch_id}, not {merchant.mch_id}", message="token参数错误")
    csv = _bill(request, merchant, bill_date, bill_type)
    return web.Response(text=csv, content_type="text/plain", charset="utf-8")
