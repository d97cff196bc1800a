"""The authorize URL's rules, without a server: `validate`, `check_redirect_uri` and `redirect_with`."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from mock_wechat import errors
from mock_wechat.account.authorize import check_redirect_uri, redirect_with, validate
from mock_wechat.account.oauth import Scope
from mock_wechat.config import Account, AccountKind

APPID = "wx00000000000000a1"
SHOP = Account(appid=APPID, secret="s" * 32, name="Shop", oauth_domains=("shop.example.com",), trust_loopback=False)
LOOPBACK = Account(appid="wx00000000000000a2", secret="s" * 32, name="Loopback")
BANNED = Account(appid="wx00000000000000a3", secret="s" * 32, name="Banned", banned=True)
WEBSITE = Account(appid="wx00000000000000a4", secret="s" * 32, name="Site", kind=AccountKind.WEBSITE)
LOOKUP = {a.appid: a for a in (SHOP, LOOPBACK, BANNED, WEBSITE)}

REDIRECT = "https://shop.example.com/oauth/callback"


def params(**overrides: str | None) -> dict[str, str]:
    """Valid authorize parameters for SHOP; an override of None drops the parameter."""
    values: dict[str, str | None] = {
        "appid": APPID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "xyz",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def diagnostic_of(account: Account, redirect_uri: str) -> str:
    with pytest.raises(errors.RedirectUriMismatch) as caught:
        check_redirect_uri(account, redirect_uri)
    return caught.value.diagnostic


# -- validate ------------------------------------------------------------------------------------------


def test_validate_returns_the_parsed_request() -> None:
    req = validate(params(), LOOKUP)
    assert req.account == SHOP
    assert req.redirect_uri == REDIRECT
    assert req.scopes == (Scope.BASE,)
    assert req.state == "xyz"
    assert req.force_popup is False
    assert req.wants_userinfo is False


def test_validate_snsapi_userinfo_wants_userinfo() -> None:
    assert validate(params(scope="snsapi_userinfo"), LOOKUP).wants_userinfo is True


def test_validate_accepts_several_comma_separated_scopes() -> None:
    req = validate(params(scope="snsapi_base,snsapi_userinfo"), LOOKUP)
    assert req.scopes == (Scope.BASE, Scope.USERINFO)
    assert req.wants_userinfo is True


def test_validate_state_is_optional_and_defaults_to_empty() -> None:
    assert validate(params(state=None), LOOKUP).state == ""


def test_validate_force_popup_true_is_recognised() -> None:
    assert validate(params(forcePopup="true"), LOOKUP).force_popup is True


def test_validate_force_popup_other_values_are_ignored() -> None:
    assert validate(params(forcePopup="1"), LOOKUP).force_popup is False


def test_validate_missing_appid_is_10012() -> None:
    with pytest.raises(errors.AppidEmpty) as caught:
        validate(params(appid=None), LOOKUP)
    assert caught.value.code == 10012


def test_validate_empty_appid_is_10012() -> None:
    with pytest.raises(errors.AppidEmpty):
        validate(params(appid=""), LOOKUP)


def test_validate_unknown_appid_is_link_unavailable_naming_configured_appids() -> None:
    with pytest.raises(errors.LinkUnavailable) as caught:
        validate(params(appid="wx_unknown"), LOOKUP)
    assert caught.value.code is None
    assert "wx_unknown" in caught.value.diagnostic
    assert APPID in caught.value.diagnostic


def test_validate_website_app_is_10016() -> None:
    with pytest.raises(errors.OpenPlatformAppid) as caught:
        validate(params(appid=WEBSITE.appid), LOOKUP)
    assert caught.value.code == 10016


def test_validate_banned_account_is_10004() -> None:
    with pytest.raises(errors.AccountBanned) as caught:
        validate(params(appid=BANNED.appid), LOOKUP)
    assert caught.value.code == 10004


def test_validate_missing_redirect_uri_is_10011() -> None:
    with pytest.raises(errors.RedirectUriEmpty) as caught:
        validate(params(redirect_uri=None), LOOKUP)
    assert caught.value.code == 10011


def test_validate_empty_scope_is_10010() -> None:
    with pytest.raises(errors.ScopeEmpty) as caught:
        validate(params(scope=""), LOOKUP)
    assert caught.value.code == 10010


def test_validate_missing_scope_is_10010() -> None:
    with pytest.raises(errors.ScopeEmpty):
        validate(params(scope=None), LOOKUP)


def test_validate_snsapi_login_is_10005_pointing_at_qrconnect() -> None:
    with pytest.raises(errors.ScopeUnauthorized) as caught:
        validate(params(scope="snsapi_login"), LOOKUP)
    assert caught.value.code == 10005
    assert "qrconnect" in caught.value.diagnostic


def test_validate_response_type_other_than_code_is_link_unavailable() -> None:
    with pytest.raises(errors.LinkUnavailable) as caught:
        validate(params(response_type="token"), LOOKUP)
    assert "response_type" in caught.value.diagnostic


def test_validate_redirect_uri_outside_domains_is_10003() -> None:
    with pytest.raises(errors.RedirectUriMismatch) as caught:
        validate(params(redirect_uri="https://evil.example.com/cb"), LOOKUP)
    assert caught.value.code == 10003


def test_validate_checks_banned_before_the_redirect_uri() -> None:
    with pytest.raises(errors.AccountBanned):
        validate(params(appid=BANNED.appid, redirect_uri=None), LOOKUP)


# -- check_redirect_uri --------------------------------------------------------------------------------


def test_configured_domain_is_allowed() -> None:
    check_redirect_uri(SHOP, "https://shop.example.com/a/b?c=1#frag")


def test_configured_domain_is_allowed_over_http_default_port() -> None:
    check_redirect_uri(SHOP, "http://shop.example.com/cb")


def test_domain_match_ignores_host_case() -> None:
    check_redirect_uri(SHOP, "https://SHOP.Example.COM/cb")


def test_outside_domain_diagnostic_names_configured_domains_and_parsed_host() -> None:
    diagnostic = diagnostic_of(SHOP, "https://evil.example.com/cb")
    assert "Configured OAuth domains: shop.example.com." in diagnostic
    assert "Host parsed from redirect_uri: evil.example.com." in diagnostic
    assert "https://evil.example.com/cb" in diagnostic
    assert APPID in diagnostic


def test_subdomain_of_a_configured_domain_is_refused() -> None:
    diagnostic = diagnostic_of(SHOP, "https://m.shop.example.com/cb")
    assert "Host parsed from redirect_uri: m.shop.example.com." in diagnostic
    assert "no subdomains" in diagnostic


def test_non_default_port_not_configured_is_refused_naming_the_port() -> None:
    diagnostic = diagnostic_of(SHOP, "https://shop.example.com:8443/cb")
    assert "Host parsed from redirect_uri: shop.example.com:8443." in diagnostic
    assert "non-default port must be configured" in diagnostic


def test_configured_host_with_port_matches_that_port() -> None:
    account = Account(
        appid=APPID, secret="s", name="Port", oauth_domains=("shop.example.com:8443",), trust_loopback=False
    )
    check_redirect_uri(account, "https://shop.example.com:8443/cb")


def test_configured_host_with_port_does_not_match_the_default_port() -> None:
    account = Account(
        appid=APPID, secret="s", name="Port", oauth_domains=("shop.example.com:8443",), trust_loopback=False
    )
    diagnostic = diagnostic_of(account, "https://shop.example.com/cb")
    assert "Configured OAuth domains: shop.example.com:8443." in diagnostic


def test_double_encoded_redirect_uri_gets_the_double_encoded_sentence() -> None:
    diagnostic = diagnostic_of(SHOP, quote(REDIRECT, safe=""))
    assert "double-encoded" in diagnostic
    assert "encode it once" in diagnostic
    assert "not an absolute http(s) URL" in diagnostic


def test_relative_redirect_uri_is_refused_as_not_absolute() -> None:
    diagnostic = diagnostic_of(SHOP, "/oauth/callback")
    assert "Host parsed from redirect_uri: (none: not an absolute http(s) URL)." in diagnostic


def test_non_http_scheme_is_refused() -> None:
    diagnostic_of(SHOP, "ftp://shop.example.com/cb")


def test_no_domains_configured_says_none() -> None:
    account = Account(appid=APPID, secret="s", name="Bare", trust_loopback=False)
    assert "Configured OAuth domains: (none)." in diagnostic_of(account, "https://shop.example.com/cb")


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://127.0.0.1:5000/cb", "http://localhost:8080/cb", "http://[::1]:9000/cb", "http://app.localhost/cb"],
)
def test_trust_loopback_allows_any_loopback_origin(redirect_uri: str) -> None:
    check_redirect_uri(LOOPBACK, redirect_uri)


def test_without_trust_loopback_loopback_is_refused() -> None:
    diagnostic_of(SHOP, "http://127.0.0.1:5000/cb")


def test_trust_loopback_is_mentioned_in_the_diagnostic() -> None:
    diagnostic = diagnostic_of(LOOPBACK, "https://evil.example.com/cb")
    assert "(and any loopback origin)" in diagnostic


# -- check_redirect_uri: the host a browser goes to ------------------------------------------------------


def test_backslash_before_at_is_refused_on_a_loopback_account() -> None:
    diagnostic = diagnostic_of(LOOPBACK, "http://evil.invalid\\@127.0.0.1/cb")
    assert "A browser would go to host evil.invalid, but Python's urlsplit reads 127.0.0.1" in diagnostic


def test_backslash_before_at_is_refused_on_a_strict_account() -> None:
    diagnostic = diagnostic_of(SHOP, "https://evil.invalid\\@shop.example.com/cb")
    assert "A browser would go to host evil.invalid, but Python's urlsplit reads shop.example.com" in diagnostic


def test_backslashes_instead_of_slashes_are_refused_naming_the_browsers_host() -> None:
    diagnostic = diagnostic_of(SHOP, "https:\\\\evil.example.com\\@shop.example.com/cb")
    assert "A browser would go to host evil.example.com, but Python's urlsplit reads no host" in diagnostic


def test_a_backslash_in_the_path_is_allowed() -> None:
    check_redirect_uri(SHOP, "https://shop.example.com/a\\b")


def test_userinfo_is_refused_even_before_an_allowed_host() -> None:
    diagnostic = diagnostic_of(SHOP, "https://user:secret@shop.example.com/cb")
    assert "It carries userinfo (user:***@) before its host" in diagnostic
    assert "A browser would go to host shop.example.com." in diagnostic
    assert "secret" not in diagnostic.replace("user:secret@", "")


def test_an_empty_userinfo_is_refused_too() -> None:
    assert "It carries userinfo" in diagnostic_of(SHOP, "https://:@shop.example.com/cb")


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1"])
def test_ipv4_shorthand_is_refused_naming_the_address_a_browser_goes_to(host: str) -> None:
    diagnostic = diagnostic_of(LOOPBACK, f"http://{host}:5000/cb")
    assert f"A browser would go to host 127.0.0.1:5000, but Python's urlsplit reads {host}:5000" in diagnostic


def test_a_percent_encoded_host_is_refused_naming_the_decoded_host() -> None:
    diagnostic = diagnostic_of(SHOP, "https://shop%2Eexample.com/cb")
    assert "A browser would go to host shop.example.com, but Python's urlsplit reads shop%2eexample.com" in diagnostic


@pytest.mark.parametrize(
    ("redirect_uri", "named"),
    [
        ("https://shop.example.com/cb\r\nSet-Cookie: a=b", "LF, CR"),
        ("https://shop.example.com/cb\n", "LF"),
        ("https://shop.exa\tmple.com/cb", "TAB"),
        ("https://shop.example.com/\x00", "NUL"),
        ("https://shop.example.com/\x1b", "U+001B"),
    ],
)
def test_control_characters_are_refused_by_name(redirect_uri: str, named: str) -> None:
    diagnostic = diagnostic_of(SHOP, redirect_uri)
    assert f"It contains control characters ({named}): WeChat refuses them" in diagnostic


def test_a_url_a_browser_would_not_follow_says_why() -> None:
    diagnostic = diagnostic_of(SHOP, "https://shop.example.com:99999/cb")
    assert "Host parsed from redirect_uri: (none: not an absolute http(s) URL)." in diagnostic
    assert "A browser would not follow it as an absolute http(s) URL: the port '99999' is not a port number." in (
        diagnostic
    )


def test_a_huge_redirect_uri_is_cut_short_in_the_diagnostic() -> None:
    diagnostic = diagnostic_of(SHOP, "https://evil.example.com/" + "a" * 100_000)
    assert "(100025 characters)" in diagnostic
    assert len(diagnostic) < 1000


# -- redirect_with -------------------------------------------------------------------------------------


def test_redirect_with_appends_a_query() -> None:
    assert redirect_with("https://shop.example.com/cb", {"code": "C", "state": "S"}) == (
        "https://shop.example.com/cb?code=C&state=S"
    )


def test_redirect_with_existing_query_appends_with_ampersand() -> None:
    assert redirect_with("https://shop.example.com/cb?from=menu", {"code": "C", "state": "S"}) == (
        "https://shop.example.com/cb?from=menu&code=C&state=S"
    )


def test_redirect_with_trailing_question_mark_adds_no_separator() -> None:
    assert redirect_with("https://shop.example.com/cb?", {"code": "C"}) == "https://shop.example.com/cb?code=C"


def test_redirect_with_trailing_ampersand_adds_no_separator() -> None:
    assert redirect_with("https://shop.example.com/cb?a=1&", {"code": "C"}) == (
        "https://shop.example.com/cb?a=1&code=C"
    )


def test_redirect_with_inserts_the_query_before_the_fragment() -> None:
    assert redirect_with("https://shop.example.com/#/orders/1", {"code": "C", "state": "S"}) == (
        "https://shop.example.com/?code=C&state=S#/orders/1"
    )


def test_redirect_with_query_and_fragment_keeps_both() -> None:
    assert redirect_with("https://shop.example.com/app?x=1#/pay?y=2", {"code": "C"}) == (
        "https://shop.example.com/app?x=1&code=C#/pay?y=2"
    )


def test_redirect_with_state_only_has_no_code() -> None:
    assert redirect_with("https://shop.example.com/cb", {"state": "S"}) == "https://shop.example.com/cb?state=S"


def test_redirect_with_encodes_state_verbatim() -> None:
    assert redirect_with("https://shop.example.com/cb", {"state": "a b&c=d/中"}) == (
        "https://shop.example.com/cb?state=a+b%26c%3Dd%2F%E4%B8%AD"
    )


@pytest.mark.parametrize("url", ["https://shop.example.com/cb\r\nX: 1", "https://shop.example.com/#\n"])
def test_redirect_with_never_answers_a_location_with_cr_or_lf(url: str) -> None:
    with pytest.raises(errors.RedirectUriMismatch) as caught:
        redirect_with(url, {"code": "C"})
    assert caught.value.code == 10003
    assert "contains CR or LF" in caught.value.diagnostic


def test_redirect_with_empty_state_keeps_the_parameter() -> None:
    assert redirect_with("https://shop.example.com/cb", {"code": "C", "state": ""}) == (
        "https://shop.example.com/cb?code=C&state="
    )
