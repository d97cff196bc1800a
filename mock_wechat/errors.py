"""Errors as data: one class per WeChat wire code, each carrying an optional diagnostic."""

from __future__ import annotations

from typing import ClassVar


class WeChatError(Exception):
    """Base of every emulated WeChat error; `diagnostic` explains it to a human, never on the wire."""

    def __init__(self, diagnostic: str = "") -> None:
        super().__init__(diagnostic or type(self).__name__)
        self.diagnostic = diagnostic

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
    errcode, errmsg = 45002, "content size out of limit"


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


# -- Authorize-page errors of open.weixin.qq.com (rendered as WeChat's error page) -------------------


class PageError(WeChatError):
    """An error page of the authorize endpoint (PROTOCOL.md §1.3)."""

    code: ClassVar[int | None]
    text: ClassVar[str]

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
