"""Rules of web authorization (scopes, codes, web tokens, refresh tokens), without HTTP."""

from __future__ import annotations

import pytest

from mock_wechat import errors
from mock_wechat.account import oauth
from mock_wechat.account.oauth import OAuthCode, RefreshToken, Scope, WebToken

T0 = 1_700_000_000.0


def code(issued_at: float = T0, used_at: float | None = None, appid: str = "wxA") -> OAuthCode:
    return OAuthCode("081code", appid, "alice", "oAlice", "snsapi_userinfo", issued_at, used_at)


def web_token(scope: str = "snsapi_userinfo", expires_at: float = T0 + 7200) -> WebToken:
    return WebToken("web", "wxA", "alice", "oAlice", scope, expires_at, "refresh")


def refresh_token(appid: str = "wxA") -> RefreshToken:
    return RefreshToken("refresh", appid, "alice", "oAlice", "snsapi_userinfo", T0 + oauth.REFRESH_TTL)


# -- constants ---------------------------------------------------------------------------------------


def test_lifetimes_match_the_protocol() -> None:
    assert (oauth.CODE_TTL, oauth.WEB_TOKEN_TTL, oauth.REFRESH_TTL) == (300, 7200, 30 * 86_400)


# -- parse_scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "scope"), [("snsapi_base", Scope.BASE), ("snsapi_userinfo", Scope.USERINFO)])
def test_parse_scopes_accepts_one_scope(value: str, scope: Scope) -> None:
    assert oauth.parse_scopes(value) == (scope,)


def test_parse_scopes_accepts_a_comma_separated_list() -> None:
    assert oauth.parse_scopes("snsapi_base, snsapi_userinfo") == (Scope.BASE, Scope.USERINFO)


def test_parse_scopes_ignores_empty_items() -> None:
    assert oauth.parse_scopes(",snsapi_base,,") == (Scope.BASE,)


@pytest.mark.parametrize("value", ["", "   ", ",,"])
def test_parse_scopes_of_nothing_is_scope_empty(value: str) -> None:
    with pytest.raises(errors.ScopeEmpty):
        oauth.parse_scopes(value)


@pytest.mark.parametrize("value", ["snsapi_login", "SNSAPI_BASE", "snsapi_base,snsapi_privateinfo"])
def test_parse_scopes_of_unknown_scope_is_scope_unauthorized(value: str) -> None:
    with pytest.raises(errors.ScopeUnauthorized):
        oauth.parse_scopes(value)


def test_snsapi_login_diagnostic_points_to_qrconnect() -> None:
    with pytest.raises(errors.ScopeUnauthorized) as caught:
        oauth.parse_scopes("snsapi_login")
    assert "qrconnect" in caught.value.diagnostic


# -- redeem ------------------------------------------------------------------------------------------


def test_redeem_marks_the_code_used_now() -> None:
    assert oauth.redeem(code(), "wxA", T0 + 10) == code(used_at=T0 + 10)


def test_redeem_accepts_a_code_until_300_seconds() -> None:
    assert oauth.redeem(code(), "wxA", T0 + 299.9).used_at == T0 + 299.9


def test_redeem_of_unknown_code_is_invalid_code() -> None:
    with pytest.raises(errors.InvalidCode):
        oauth.redeem(None, "wxA", T0)


def test_redeem_of_another_appids_code_is_invalid_code() -> None:
    with pytest.raises(errors.InvalidCode) as caught:
        oauth.redeem(code(appid="wxB"), "wxA", T0)
    assert "wxB" in caught.value.diagnostic


def test_redeem_of_used_code_is_code_been_used() -> None:
    with pytest.raises(errors.CodeBeenUsed) as caught:
        oauth.redeem(code(used_at=T0 + 5), "wxA", T0 + 12)
    assert "7 s ago" in caught.value.diagnostic


def test_redeem_after_300_seconds_is_invalid_code() -> None:
    with pytest.raises(errors.InvalidCode) as caught:
        oauth.redeem(code(), "wxA", T0 + 300)
    assert "expired" in caught.value.diagnostic


# -- check_web_token ---------------------------------------------------------------------------------


def test_check_web_token_returns_a_valid_token() -> None:
    assert oauth.check_web_token(web_token(), T0 + 7199) == web_token()


def test_check_web_token_of_unknown_token_is_invalid_credential() -> None:
    with pytest.raises(errors.InvalidCredential):
        oauth.check_web_token(None, T0)


def test_check_web_token_at_expiry_is_access_token_expired() -> None:
    with pytest.raises(errors.AccessTokenExpired):
        oauth.check_web_token(web_token(), T0 + 7200)


# -- check_openid ------------------------------------------------------------------------------------


def test_check_openid_accepts_the_tokens_openid() -> None:
    oauth.check_openid(web_token(), "oAlice")


@pytest.mark.parametrize("openid", ["oBob", "oalice", ""])
def test_check_openid_of_other_openid_is_invalid_openid(openid: str) -> None:
    with pytest.raises(errors.InvalidOpenid):
        oauth.check_openid(web_token(), openid)


# -- check_userinfo_scope ----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["snsapi_userinfo", "snsapi_base,snsapi_userinfo"])
def test_userinfo_scope_is_allowed_with_snsapi_userinfo(scope: str) -> None:
    oauth.check_userinfo_scope(web_token(scope=scope))


def test_userinfo_scope_with_snsapi_base_only_is_api_unauthorized() -> None:
    with pytest.raises(errors.ApiUnauthorized):
        oauth.check_userinfo_scope(web_token(scope="snsapi_base"))


# -- check_refresh -----------------------------------------------------------------------------------


def test_check_refresh_returns_a_valid_refresh_token() -> None:
    assert oauth.check_refresh(refresh_token(), "wxA", T0 + oauth.REFRESH_TTL - 1) == refresh_token()


def test_check_refresh_of_unknown_token_is_invalid_refresh_token() -> None:
    with pytest.raises(errors.InvalidRefreshToken):
        oauth.check_refresh(None, "wxA", T0)


def test_check_refresh_of_another_appids_token_is_invalid_refresh_token() -> None:
    with pytest.raises(errors.InvalidRefreshToken):
        oauth.check_refresh(refresh_token(appid="wxB"), "wxA", T0)


def test_check_refresh_after_30_days_is_refresh_token_expired() -> None:
    with pytest.raises(errors.RefreshTokenExpired):
        oauth.check_refresh(refresh_token(), "wxA", T0 + oauth.REFRESH_TTL)


def test_check_refresh_of_another_appids_expired_token_is_invalid_refresh_token() -> None:
    with pytest.raises(errors.InvalidRefreshToken):
        oauth.check_refresh(refresh_token(appid="wxB"), "wxA", T0 + oauth.REFRESH_TTL)
