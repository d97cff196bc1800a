"""Rules of web authorization (网页授权): codes, web access tokens, refresh tokens, consent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from mock_wechat import errors

CODE_TTL = 300
WEB_TOKEN_TTL = 7200
REFRESH_TTL = 30 * 86_400


class Scope(StrEnum):
    BASE = "snsapi_base"
    USERINFO = "snsapi_userinfo"


@dataclass(frozen=True)
class OAuthCode:
    code: str
    appid: str
    user_id: str
    openid: str
    scope: str
    issued_at: float
    used_at: float | None = None


@dataclass(frozen=True)
class WebToken:
    """A web-authorization access_token (not the base one)."""

    access_token: str
    appid: str
    user_id: str
    openid: str
    scope: str
    expires_at: float
    refresh_token: str


@dataclass(frozen=True)
class RefreshToken:
    refresh_token: str
    appid: str
    user_id: str
    openid: str
    scope: str
    expires_at: float


@dataclass(frozen=True)
class Consent:
    """A user's remembered "allow" for an account's snsapi_userinfo."""

    appid: str
    user_id: str
    granted_at: float


def parse_scopes(value: str) -> tuple[Scope, ...]:
    """`scope` may list several comma-separated scopes; any unknown one is 10005."""
    names = [s.strip() for s in value.split(",") if s.strip()]
    if not names:
        raise errors.ScopeEmpty("the scope parameter is empty")
    try:
        return tuple(Scope(n) for n in names)
    except ValueError:
        raise errors.ScopeUnauthorized(
            f"scope {value!r}: an Official Account may ask for snsapi_base or snsapi_userinfo "
            "(snsapi_login is for website apps on open.weixin.qq.com/connect/qrconnect)"
        ) from None


def redeem(record: OAuthCode | None, appid: str, now: float) -> OAuthCode:
    """A code exchanged once, within 5 minutes, by the account it was issued for."""
    if record is None:
        raise errors.InvalidCode("this code was never issued by the sandbox")
    if record.appid != appid:
        raise errors.InvalidCode(f"this code was issued for appid {record.appid}, not {appid}")
    if record.used_at is not None:
        raise errors.CodeBeenUsed(
            f"this code was already exchanged {int(now - record.used_at)} s ago; a code is single-use"
            " (a page reload or a double redirect often exchanges it twice)"
        )
    if now - record.issued_at >= CODE_TTL:
        raise errors.InvalidCode(f"this code expired: issued {int(now - record.issued_at)} s ago, codes live 300 s")
    return replace(record, used_at=now)


def check_web_token(record: WebToken | None, now: float) -> WebToken:
    if record is None:
        raise errors.InvalidCredential(
            "unknown web access_token (note: the web-authorization token is not the base /cgi-bin/token one)"
        )
    if now >= record.expires_at:
        raise errors.AccessTokenExpired(
            f"web access_token expired {int(now - record.expires_at)} s ago; refresh it with refresh_token"
        )
    return record


def check_openid(token: WebToken, openid: str) -> None:
    if openid != token.openid:
        raise errors.InvalidOpenid(f"this access_token belongs to openid {token.openid}, not {openid!r}")


def check_userinfo_scope(token: WebToken) -> None:
    if Scope.USERINFO.value not in token.scope.split(","):
        raise errors.ApiUnauthorized(
            "this access_token was granted with scope snsapi_base; /sns/userinfo needs snsapi_userinfo"
        )


def check_refresh(record: RefreshToken | None, appid: str, now: float) -> RefreshToken:
    if record is None:
        raise errors.InvalidRefreshToken("this refresh_token was never issued by the sandbox")
    if record.appid != appid:
        raise errors.InvalidRefreshToken(f"this refresh_token belongs to appid {record.appid}, not {appid}")
    if now >= record.expires_at:
        raise errors.RefreshTokenExpired("refresh_token is valid 30 days; the user must authorize again")
    return record
