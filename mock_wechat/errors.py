"""Errors as data: one class per WeChat wire code, each carrying an optional diagnostic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Comparison:
    """A signature near miss, for people: the string the sandbox signed beside the one the client's signature
    matches, both cut into parts at `separator` (secrets masked), so the parts that differ can be marked."""

    expected: str
    received: str
    how: str
    separator: str


class WeChatError(Exception):
    """Base of every emulated WeChat error; `diagnostic` explains it to a human, never on the wire."""

    comparison: Comparison | None = None
    """When the sandbox found what the client signed instead (the journal shows the two side by side)."""

    def __init__(self, diagnostic: str = "", *, comparison: Comparison | None = None) -> None:
        super().__init__(diagnostic or type(self).__name__)
        self.diagnostic = diagnostic
        self.comparison = comparison

    @property
    def wire_code(self) -> int | str:
        """The code the journal records for this error."""
        raise NotImplementedError  # pragma: no cover - every concrete family overrides it


# -- JSON dialect of api.weixin.qq.com: {"errcode": N, "errmsg": "..."} ------------------------------


class ApiError(WeChatError):
    """An `{"errcode","errmsg"}` error of api.weixin.qq.com (always HTTP 200, like WeChat)."""

    errcode: ClassVar[int]
    errmsg: ClassVar[str]
    status: ClassVar[int] = 200

    @property
    def wire_code(self) -> int | str:
        return self.errcode


class SystemError_(ApiError):  # noqa: N801 - the underscore keeps the builtin SystemError visible
    errcode, errmsg = -1, "system error"


class InvalidCredential(ApiError):
    errcode, errmsg = 40001, "invalid credential, access_token is invalid or not latest"


class InvalidGrantType(ApiError):
    errcode, errmsg = 40002, "invalid grant_type"


class InvalidOpenid(ApiError):
    errcode, errmsg = 40003, "invalid openid"


class InvalidAppid(ApiError):
    errcode, errmsg = 40013, "invalid appid"


class InvalidCode(ApiError):
    errcode, errmsg = 40029, "invalid code"


class InvalidRefreshToken(ApiError):
    errcode, errmsg = 40030, "invalid refresh_token"


class InvalidArgs(ApiError):
    errcode, errmsg = 40097, "invalid args"


class InvalidAppsecret(ApiError):
    errcode, errmsg = 40125, "invalid appsecret"


class CodeBeenUsed(ApiError):
    errcode, errmsg = 40163, "code been used"


class AccessTokenMissing(ApiError):
    errcode, errmsg = 41001, "access_token missing"


class AppidMissing(ApiError):
    errcode, errmsg = 41002, "appid missing"


class RefreshTokenMissing(ApiError):
    errcode, errmsg = 41003, "refresh_token missing"


class AppsecretMissing(ApiError):
    errcode, errmsg = 41004, "appsecret missing"


class CodeMissing(ApiError):
    errcode, errmsg = 41008, "missing code"


class OpenidMissing(ApiError):
    errcode, errmsg = 41009, "missing openid"


class AccessTokenExpired(ApiError):
    errcode, errmsg = 42001, "access_token expired"


class RefreshTokenExpired(ApiError):
    errcode, errmsg = 42002, "refresh_token expired"


class RequireGetMethod(ApiError):
    errcode, errmsg = 43001, "require GET method"


class RequirePostMethod(ApiError):
    errcode, errmsg = 43002, "require POST method"


class EmptyPostData(ApiError):
    errcode, errmsg = 44002, "empty post data"


class ContentSizeOutOfLimit(ApiError):
    """A body over 1 MiB, refused with HTTP 413 before any handler reads it."""

    errcode, errmsg = 45002, "content size out of limit"
    status = 413


class DailyQuotaLimit(ApiError):
    errcode, errmsg = 45009, "reach max api daily quota limit"


class MinuteQuotaLimit(ApiError):
    errcode, errmsg = 45011, "api minute-quota reach limit  mustslower  retry next minute"


class DataFormatError(ApiError):
    errcode, errmsg = 47001, "data format error"


class ApiUnauthorized(ApiError):
    errcode, errmsg = 48001, "api unauthorized"


class UnknownPath(ApiError):
    """No emulated endpoint at this path (HTTP 404; the body carries a hint, as stripe-mock does)."""

    errcode, errmsg = -1, "system error"
    status = 404


class RequestUriTooLong(ApiError):
    """A request line over 8 KiB, refused by the HTTP server before any handler (HTTP 414)."""

    errcode, errmsg = -1, "system error"
    status = 414


class MalformedRequest(ApiError):
    """A request the HTTP parser cannot read (a bad header, a smuggling shape, a bad chunk…): HTTP 400."""

    errcode, errmsg = -1, "system error"
    status = 400


class Forbidden(ApiError):
    """Refused by the request guard (HTTP 403, with a hint): real WeChat never sees such a request."""

    errcode, errmsg = -1, "system error"
    status = 403


# -- Authorize-page errors of open.weixin.qq.com (rendered as WeChat's error page) -------------------


class PageError(WeChatError):
    """An error page of the authorize endpoint (PROTOCOL.md §1.3)."""

    code: ClassVar[int | None]
    text: ClassVar[str]
    title: ClassVar[str] = "微信网页授权"

    @property
    def wire_code(self) -> int | str:
        return self.code if self.code is not None else "page"


class RedirectUriMismatch(PageError):
    code, text = 10003, "redirect_uri域名与后台配置不一致"


class AccountBanned(PageError):
    code, text = 10004, "此公众号被封禁"


class ScopeUnauthorized(PageError):
    code, text = 10005, "此公众号并没有这些scope的权限"


class ScopeEmpty(PageError):
    code, text = 10010, "scope不能为空"


class RedirectUriEmpty(PageError):
    code, text = 10011, "redirect_uri不能为空"


class AppidEmpty(PageError):
    code, text = 10012, "appid不能为空"


class OpenPlatformAppid(PageError):
    code, text = 10016, "不支持微信开放平台的Appid，请使用公众号Appid"


class LinkUnavailable(PageError):
    """WeChat's generic "该链接无法访问" page (unknown appid, bad response_type)."""

    code, text = None, "该链接无法访问"


# -- The H5 cashier of wx.tenpay.com (MWEB's mweb_url / h5_url): WeChat Pay's own error page ----------------------


class CashierError(PageError):
    """An H5 pay refusal, as WeChat's page at `mweb_url` shows it (texts from WeChat Pay's H5 FAQ)."""

    code = None
    title = "微信支付"


class MwebInsideWeChat(CashierError):
    text = "请在微信外打开订单，进行支付"


class MwebParamsWrong(CashierError):
    """No Referer (the link was typed or opened by a script), or a link that is not one unifiedorder gave."""

    text = "商家参数格式有误，请联系商家解决"


class MwebDomainUnconfigured(CashierError):
    """The page that sent the browser is not under an H5 pay domain (H5支付域名) of the merchant."""

    text = "商家存在未配置的参数，请联系商家解决"


class MwebExpired(CashierError):
    text = "支付请求已失效，请重新发起支付"


class MwebNetworkCheck(CashierError):
    """The browser's IP is not the spbill_create_ip (v3: scene_info.payer_client_ip) the order was placed with."""

    text = "网络环境未能通过安全验证，请稍后再试"


class MwebRedirectUrl(CashierError):
    """`redirect_url` outside the H5 pay domains: the seed's note 7 ("提示redirectUrl不正确"; its text is the
    seed's words, UNCONFIRMED as WeChat's)."""

    text = "redirectUrl不正确"


class MwebOrderPaid(CashierError):
    text = "该订单已支付"


class MwebOrderClosed(CashierError):
    text = "该订单已关闭"


# -- WeChat Pay API v2 (XML): two levels, PROTOCOL.md §5.3 ---------------------------------------------


class PayV2Error(WeChatError):
    """A v2 error: `protocol` ones answer `return_code=FAIL` unsigned; the others a signed `result_code=FAIL`."""

    err_code: ClassVar[str]
    err_code_des: ClassVar[str]
    protocol: ClassVar[bool] = False
    status: ClassVar[int] = 200

    def __init__(self, diagnostic: str = "", *, err_code_des: str | None = None) -> None:
        super().__init__(diagnostic)
        self.des = err_code_des or self.err_code_des

    @property
    def wire_code(self) -> int | str:
        return self.err_code


class SignError(PayV2Error):
    err_code, err_code_des, protocol = "SIGNERROR", "签名错误", True


class XmlFormatError(PayV2Error):
    err_code, err_code_des, protocol = "XML_FORMAT_ERROR", "XML格式错误", True


class PostDataEmpty(PayV2Error):
    err_code, err_code_des, protocol = "POST_DATA_EMPTY", "post数据为空", True


class NotUtf8(PayV2Error):
    err_code, err_code_des, protocol = "NOT_UTF8", "编码格式错误", True


class RequirePostMethodV2(PayV2Error):
    err_code, err_code_des, protocol = "REQUIRE_POST_METHOD", "请使用post方法", True


class MchidNotExist(PayV2Error):
    """Unknown or missing mch_id: nothing to sign an answer with, so it is protocol-level."""

    err_code, err_code_des, protocol = "MCHID_NOT_EXIST", "MCHID不存在", True


class BodyTooLarge(PayV2Error):
    """A body over 1 MiB: HTTP 413 with a `return_code=FAIL` body, before any parsing."""

    err_code, err_code_des, protocol = "XML_FORMAT_ERROR", "XML格式错误", True
    status = 413


class RequestUriTooLongV2(PayV2Error):
    """A v2 request line over 8 KiB: HTTP 414 with a `return_code=FAIL` body (the body was never read)."""

    err_code, err_code_des, protocol = "XML_FORMAT_ERROR", "XML格式错误", True
    status = 414


class MalformedRequestV2(PayV2Error):
    """A v2 request the HTTP parser cannot read: HTTP 400 with a `return_code=FAIL` body, as for a body too large."""

    err_code, err_code_des, protocol = "XML_FORMAT_ERROR", "XML格式错误", True
    status = 400


class PaySystemBusy(PayV2Error):
    """An unexpected failure inside the sandbox, answered as WeChat's protocol-level system error."""

    err_code, err_code_des, protocol = "SYSTEMERROR", "系统繁忙,请稍后再试", True


class LackParams(PayV2Error):
    err_code, err_code_des = "LACK_PARAMS", "缺少参数"


class AppidNotExist(PayV2Error):
    err_code, err_code_des = "APPID_NOT_EXIST", "APPID不存在"


class AppidMchidNotMatch(PayV2Error):
    err_code, err_code_des = "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"


class InvalidRequest(PayV2Error):
    err_code, err_code_des = "INVALID_REQUEST", "参数错误"


class OutTradeNoUsed(PayV2Error):
    err_code, err_code_des = "OUT_TRADE_NO_USED", "商户订单号重复"


class OrderPaid(PayV2Error):
    err_code, err_code_des = "ORDERPAID", "商户订单已支付"


class OrderClosed(PayV2Error):
    err_code, err_code_des = "ORDERCLOSED", "订单已关闭"


class OrderNotExist(PayV2Error):
    err_code, err_code_des = "ORDERNOTEXIST", "订单不存在"


class NotEnough(PayV2Error):
    err_code, err_code_des = "NOTENOUGH", "余额不足"


class RefundNotExist(PayV2Error):
    err_code, err_code_des = "REFUNDNOTEXIST", "退款订单查询失败"


class ParamError(PayV2Error):
    err_code, err_code_des = "PARAM_ERROR", "参数错误"


class TradeStateError(PayV2Error):
    err_code, err_code_des = "TRADE_STATE_ERROR", "订单状态错误"


class InvalidTransactionid(PayV2Error):
    err_code, err_code_des = "INVALID_TRANSACTIONID", "无效transaction_id"


class FrequencyLimited(PayV2Error):
    err_code, err_code_des = "FREQUENCY_LIMITED", "频率超限"


class PaySystemError(PayV2Error):
    err_code, err_code_des = "SYSTEMERROR", "系统错误"


class NoAuth(PayV2Error):
    err_code, err_code_des = "NOAUTH", "商户无此接口权限"


class BillUnavailable(PayV2Error):
    """downloadbill's own failures: `return_code=FAIL`, a `return_msg` such as `No Bill Exist`, an `error_code`."""

    err_code, err_code_des, protocol = "BILL_UNAVAILABLE", "No Bill Exist", True

    def __init__(self, diagnostic: str = "", *, return_msg: str, error_code: str = "") -> None:
        super().__init__(diagnostic, err_code_des=return_msg)
        self.error_code = error_code


# -- WeChat Pay API v3 (JSON): HTTP status + {"code", "message", "detail"}, PROTOCOL.md §7.9 -----------------


class PayV3Error(WeChatError):
    """A v3 error: the HTTP status and `{"code","message"}` (with `detail` when WeChat gives one), signed."""

    status: ClassVar[int]
    code: ClassVar[str]
    message: ClassVar[str]

    def __init__(
        self, diagnostic: str = "", *, message: str | None = None, detail: dict[str, object] | None = None
    ) -> None:
        super().__init__(diagnostic)
        self.text = message or self.message
        self.detail = detail

    @property
    def wire_code(self) -> int | str:
        return self.code


class V3SignError(PayV3Error):
    status, code, message = 401, "SIGN_ERROR", "错误的签名，验签失败"


class V3ParamError(PayV3Error):
    status, code, message = 400, "PARAM_ERROR", "参数错误"


class V3InvalidRequest(PayV3Error):
    status, code, message = 400, "INVALID_REQUEST", "无效请求"


class V3AppidMchidNotMatch(PayV3Error):
    status, code, message = 400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配"


class V3MchNotExists(PayV3Error):
    status, code, message = 400, "MCH_NOT_EXISTS", "商户号不存在"


class V3OrderClosed(PayV3Error):
    status, code, message = 400, "ORDER_CLOSED", "订单已关闭"


class V3OrderPaid(PayV3Error):
    status, code, message = 400, "ORDERPAID", "订单已支付"


class V3OutTradeNoUsed(PayV3Error):
    status, code, message = 403, "OUT_TRADE_NO_USED", "商户订单号重复"


class V3NotEnough(PayV3Error):
    status, code, message = 403, "NOT_ENOUGH", "余额不足"


class V3OrderNotExist(PayV3Error):
    status, code, message = 404, "ORDER_NOT_EXIST", "订单不存在"


class V3ResourceNotExists(PayV3Error):
    status, code, message = 404, "RESOURCE_NOT_EXISTS", "资源不存在"


class V3NotFound(PayV3Error):
    """No v3 endpoint at this path (or not with this method): what api.mch.weixin.qq.com answers."""

    status, code, message = 404, "NOT_FOUND", "Not Found"


class V3FrequencyLimited(PayV3Error):
    status, code, message = 429, "FREQUENCY_LIMITED", "频率超限"


class V3SystemError(PayV3Error):
    status, code, message = 500, "SYSTEM_ERROR", "系统异常，请稍后重试"


class V3StatementCreating(PayV3Error):
    status, code, message = 400, "STATEMENT_CREATING", "账单生成中"


class V3NoStatementExist(PayV3Error):
    status, code, message = 400, "NO_STATEMENT_EXIST", "账单文件不存在"


class V3MethodNotAllowed(PayV3Error):
    """A v3 path asked with another method than its own."""

    status, code, message = 405, "INVALID_REQUEST", "HTTP 请求不符合微信支付 APIv3 接口规则"
