"""Domain rules: origins, configured-domain matching, loopback trust and double-encoding detection."""

from __future__ import annotations

import pytest

from mock_wechat.domains import (
    NotNavigable,
    Origin,
    allowed,
    browser_url,
    callback_url_problem,
    domain_matches,
    h5_allowed,
    h5_domain_matches,
    is_loopback,
    looks_double_encoded,
    parse_origin,
)


def origin(url: str) -> Origin:
    parsed = parse_origin(url)
    assert parsed is not None, url
    return parsed


# -- parse_origin ------------------------------------------------------------------------------------


def test_parse_origin_of_http_url_has_default_port_80() -> None:
    assert parse_origin("http://shop.example.com/cb?x=1#frag") == Origin("http", "shop.example.com", 80)


def test_parse_origin_of_https_url_has_default_port_443() -> None:
    assert parse_origin("https://shop.example.com/cb") == Origin("https", "shop.example.com", 443)


def test_parse_origin_keeps_an_explicit_port() -> None:
    assert parse_origin("http://127.0.0.1:9000/cb") == Origin("http", "127.0.0.1", 9000)


def test_parse_origin_lowercases_scheme_and_host() -> None:
    assert parse_origin("HTTPS://Shop.Example.COM/Cb") == Origin("https", "shop.example.com", 443)


def test_parse_origin_ignores_userinfo() -> None:
    assert parse_origin("http://user:pw@shop.example.com/") == Origin("http", "shop.example.com", 80)


def test_parse_origin_of_ipv6_literal_drops_brackets() -> None:
    assert parse_origin("http://[::1]:8080/") == Origin("http", "::1", 8080)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/cb",
        "shop.example.com/cb",
        "ftp://shop.example.com/",
        "javascript:alert(1)",
        "http:///cb",
        "http://shop.example.com:notaport/",
        "http://shop.example.com:99999/",
        "http%3A%2F%2Fshop.example.com%2Fcb",
    ],
)
def test_parse_origin_of_non_absolute_http_url_is_none(url: str) -> None:
    assert parse_origin(url) is None


def test_host_port_omits_the_default_port() -> None:
    assert Origin("https", "shop.example.com", 443).host_port == "shop.example.com"


def test_host_port_shows_a_non_default_port() -> None:
    assert Origin("http", "shop.example.com", 443).host_port == "shop.example.com:443"


def test_host_port_brackets_an_ipv6_host_with_a_port() -> None:
    assert origin("http://[::1]:8080/").host_port == "[::1]:8080"


def test_host_port_brackets_an_ipv6_host_on_the_default_port() -> None:
    assert origin("https://[2001:db8::1]/").host_port == "[2001:db8::1]"


# -- browser_url: where a browser goes (WHATWG URL rules) -------------------------------------------------


def browser_origin(url: str) -> Origin:
    return browser_url(url).origin


def test_browser_url_of_a_plain_url_is_its_origin() -> None:
    assert browser_url("https://shop.example.com:8443/cb?x=1#y").origin == Origin("https", "shop.example.com", 8443)


def test_browser_reads_a_backslash_as_the_end_of_the_host() -> None:
    assert browser_origin("http://evil.invalid\\@127.0.0.1/cb") == Origin("http", "evil.invalid", 80)


def test_browser_skips_any_slashes_and_backslashes_after_the_scheme() -> None:
    assert browser_origin("http:\\\\/evil.example.com/cb") == Origin("http", "evil.example.com", 80)


def test_browser_reads_three_slashes_as_two() -> None:
    assert browser_origin("http:///cb/x") == Origin("http", "cb", 80)


def test_browser_takes_the_host_after_the_last_at_sign() -> None:
    parsed = browser_url("http://a@b:c@shop.example.com/cb")
    assert parsed.origin.host == "shop.example.com"
    assert parsed.userinfo == "a@b:c"


def test_browser_url_without_userinfo_has_empty_userinfo() -> None:
    assert browser_url("http://shop.example.com/cb").userinfo == ""


def test_browser_strips_leading_and_trailing_controls_and_spaces() -> None:
    assert browser_origin("\x00 \x1f http://shop.example.com/cb \x0b") == Origin("http", "shop.example.com", 80)


def test_browser_removes_tabs_and_newlines_anywhere() -> None:
    assert browser_origin("ht\ttp://ev\ril.exa\nmple.com/") == Origin("http", "evil.example.com", 80)


def test_browser_percent_decodes_and_lowercases_the_host() -> None:
    assert browser_origin("http://SHOP%2Eexample%2ECOM/") == Origin("http", "shop.example.com", 80)


def test_browser_maps_fullwidth_characters_to_ascii() -> None:
    assert browser_origin("http://ｓｈｏｐ．example.com/") == Origin("http", "shop.example.com", 80)


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "127.1", "127.0.1", "0x7f.0.0.1", "127.0.0.1."]
)
def test_browser_expands_ipv4_shorthands(host: str) -> None:
    assert browser_origin(f"http://{host}/cb") == Origin("http", "127.0.0.1", 80)


def test_browser_reads_a_port_with_leading_zeros() -> None:
    assert browser_origin("http://shop.example.com:0080/") == Origin("http", "shop.example.com", 80)


def test_browser_serialises_an_ipv6_host_compressed() -> None:
    assert browser_origin("http://[0:0:0::1]:9000/") == Origin("http", "::1", 9000)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("/cb", "no scheme"),
        ("shop.example.com/cb", "no scheme"),
        ("http%3A%2F%2Fshop.example.com%2Fcb", "no scheme"),
        ("javascript:alert(1)", "the scheme 'javascript' is not http or https"),
        ("ftp://shop.example.com/", "the scheme 'ftp' is not http or https"),
        ("http://?x=1", "an empty host"),
        ("http://user@/cb", "an empty host"),
        ("http://shop.example.com:99999/", "the port '99999' is not a port number"),
        ("http://shop.example.com:x/", "the port 'x' is not a port number"),
        ("http://a%2Fb.example.com/", "contains '/'"),
        ("http://a%00b.example.com/", "contains '\\x00'"),
        ("http://1.2.3.4.5/", "not an IPv4 address"),
        ("http://256.256.256.256/", "out of the IPv4 range"),
        ("http://0x1g.1/", "not a number in an IPv4 address"),
        ("http://[::1%25eth0]/", "not an IPv6 address a browser accepts"),
        ("http://[::1/", "without its closing ']'"),
    ],
)
def test_browser_url_refuses_what_a_browser_would_not_navigate_to(url: str, why: str) -> None:
    with pytest.raises(NotNavigable) as caught:
        browser_url(url)
    assert why in str(caught.value)


# -- domain_matches ----------------------------------------------------------------------------------


def test_bare_host_matches_the_default_http_port() -> None:
    assert domain_matches(origin("http://shop.example.com/cb"), "shop.example.com")


def test_bare_host_matches_the_default_https_port() -> None:
    assert domain_matches(origin("https://shop.example.com/cb"), "shop.example.com")


def test_bare_host_does_not_match_another_port() -> None:
    assert not domain_matches(origin("http://shop.example.com:8080/cb"), "shop.example.com")


def test_host_with_port_matches_that_port() -> None:
    assert domain_matches(origin("http://shop.example.com:8080/cb"), "shop.example.com:8080")


def test_host_with_port_does_not_match_the_default_port() -> None:
    assert not domain_matches(origin("http://shop.example.com/cb"), "shop.example.com:8080")


def test_host_with_port_does_not_match_another_port() -> None:
    assert not domain_matches(origin("http://shop.example.com:8081/cb"), "shop.example.com:8080")


def test_ip_with_port_matches() -> None:
    assert domain_matches(origin("http://192.168.1.10:8000/cb"), "192.168.1.10:8000")


def test_domain_does_not_match_a_subdomain() -> None:
    assert not domain_matches(origin("http://m.shop.example.com/cb"), "shop.example.com")


def test_domain_does_not_match_a_parent_domain() -> None:
    assert not domain_matches(origin("http://example.com/cb"), "shop.example.com")


def test_domain_does_not_match_a_lookalike_suffix() -> None:
    assert not domain_matches(origin("http://evilshop.example.com/cb"), "shop.example.com")


def test_domain_match_ignores_case_and_surrounding_spaces() -> None:
    assert domain_matches(origin("http://shop.example.com/cb"), "  Shop.Example.COM ")


def test_domain_with_scheme_matches_host_and_port() -> None:
    assert domain_matches(origin("https://shop.example.com/cb"), "https://shop.example.com")


def test_domain_with_scheme_and_explicit_default_port_matches() -> None:
    assert domain_matches(origin("https://shop.example.com/cb"), "https://shop.example.com:443/")


def test_domain_with_scheme_does_not_match_another_port() -> None:
    assert not domain_matches(origin("https://shop.example.com:8443/cb"), "https://shop.example.com")


def test_ipv6_domain_with_port_matches() -> None:
    assert domain_matches(origin("http://[2001:db8::1]:8080/cb"), "[2001:db8::1]:8080")


def test_ipv6_domain_matches_the_default_port() -> None:
    assert domain_matches(origin("http://[2001:db8::1]/cb"), "[2001:db8::1]")


# -- loopback trust ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "app.localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"])
def test_loopback_hosts_are_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost.example.com", "10.0.0.1", "0.0.0.0", "::", "192.168.1.1"],  # noqa: S104 - not a bind
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_trusted_loopback_allows_any_loopback_port_without_domains() -> None:
    assert allowed(origin("http://127.0.0.1:9000/cb"), (), trust_loopback=True)


def test_trusted_loopback_allows_localhost_subdomain() -> None:
    assert allowed(origin("http://shop.localhost:5173/cb"), (), trust_loopback=True)


def test_untrusted_loopback_needs_a_configured_domain() -> None:
    assert not allowed(origin("http://127.0.0.1:9000/cb"), ("127.0.0.1",), trust_loopback=False)


def test_untrusted_loopback_with_configured_port_is_allowed() -> None:
    assert allowed(origin("http://127.0.0.1:9000/cb"), ("127.0.0.1:9000",), trust_loopback=False)


def test_trusted_loopback_does_not_allow_other_hosts() -> None:
    assert not allowed(origin("http://shop.example.com/cb"), (), trust_loopback=True)


def test_allowed_when_any_configured_domain_matches() -> None:
    domains = ("a.example.com", "shop.example.com")
    assert allowed(origin("https://shop.example.com/cb"), domains, trust_loopback=False)


# -- looks_double_encoded ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http%3A%2F%2Fshop.example.com%2Fcb",
        "https%3a%2f%2fshop.example.com%2fcb",
        "HTTP%3A%2F%2Fshop.example.com",
        "http%253A%252F%252Fshop.example.com",
    ],
)
def test_encoded_redirect_uri_looks_double_encoded(url: str) -> None:
    assert looks_double_encoded(url)


@pytest.mark.parametrize(
    "url",
    ["http://shop.example.com/cb", "https://shop.example.com/cb?state=a%20b", "http://127.0.0.1:9000/cb?x=%2F"],
)
def test_plain_redirect_uri_does_not_look_double_encoded(url: str) -> None:
    assert not looks_double_encoded(url)


# -- H5 pay domains and the scan-pay callback URL ---------------------------------------------------------------


def test_an_h5_pay_domain_covers_its_own_host() -> None:
    assert h5_domain_matches(origin("https://shop.example.com/pay"), "shop.example.com")


def test_an_h5_pay_domain_covers_its_subdomains() -> None:
    assert h5_domain_matches(origin("https://m.shop.example.com/pay"), "shop.example.com")


def test_an_h5_pay_domain_does_not_cover_a_host_that_only_ends_like_it() -> None:
    assert not h5_domain_matches(origin("https://evilshop.example.com/"), "shop.example.com")


def test_an_h5_pay_domain_without_a_port_is_the_default_port_only() -> None:
    assert not h5_domain_matches(origin("http://shop.example.com:8080/"), "shop.example.com")


def test_an_h5_pay_domain_with_a_port_is_that_port() -> None:
    assert h5_domain_matches(origin("http://127.0.0.1:8700/checkout"), "127.0.0.1:8700")


def test_an_h5_pay_domain_may_be_written_as_a_url() -> None:
    assert h5_domain_matches(origin("https://shop.example.com/x"), "https://shop.example.com/")


def test_h5_allowed_trusts_loopback_only_when_asked() -> None:
    page = origin("http://127.0.0.1:9000/")
    assert h5_allowed(page, (), trust_loopback=True)
    assert not h5_allowed(page, (), trust_loopback=False)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("shop.example.com/native", "'shop.example.com/native' is not an absolute http(s) URL"),
        (
            "https://shop.example.com/native#x",
            "'https://shop.example.com/native#x' has a #fragment, which is never sent to a server",
        ),
    ],
)
def test_a_callback_url_must_be_absolute_without_fragment(url: str, problem: str) -> None:
    assert callback_url_problem(url) == problem


def test_an_absolute_callback_url_is_fine() -> None:
    assert callback_url_problem("https://shop.example.com/native/callback") is None
