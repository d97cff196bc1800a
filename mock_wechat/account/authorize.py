"""Rules of the authorize URL (open.weixin.qq.com/connect/oauth2/authorize) before any user is involved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlencode

from mock_wechat import errors
from mock_wechat.account.oauth import Scope, parse_scopes
from mock_wechat.config import Account, AccountKind
from mock_wechat.domains import BrowserUrl, NotNavigable, allowed, browser_url, looks_double_encoded, parse_origin


@dataclass(frozen=True)
class AuthorizeRequest:
    account: Account
    redirect_uri: str
    scopes: tuple[Scope, ...]
    state: str
    force_popup: bool

    @property
    def wants_userinfo(self) -> bool:
        return Scope.USERINFO in self.scopes


def validate(params: Mapping[str, str], lookup: Mapping[str, Account]) -> AuthorizeRequest:
    """The authorize parameters, or the error page WeChat shows for them."""
    appid = params.get("appid", "")
    if not appid:
        raise errors.AppidEmpty("the appid parameter is missing or empty")
    account = lookup.get(appid)
    if account is None:
        known = ", ".join(lookup)
        raise errors.LinkUnavailable(f"appid {appid!r} is not configured in the sandbox; configured: {known}")
    if account.kind != AccountKind.OFFICIAL:
        raise errors.OpenPlatformAppid(
            f"{appid} is an open-platform {account.kind.value} app; use an Official Account appid"
        )
    if account.banned:
        raise errors.AccountBanned(f"{appid} is configured as banned")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise errors.RedirectUriEmpty("the redirect_uri parameter is missing or empty")
    scopes = parse_scopes(params.get("scope", ""))
    if params.get("response_type", "") != "code":
        raise errors.LinkUnavailable(f"response_type must be 'code', got {params.get('response_type', '')!r}")
    check_redirect_uri(account, redirect_uri)
    return AuthorizeRequest(
        account=account,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=params.get("state", ""),
        force_popup=params.get("forcePopup", "") == "true",
    )


def check_redirect_uri(account: Account, redirect_uri: str) -> None:
    """10003 unless the host a browser would go to is one of the account's OAuth domains; the diagnostic says why.

    The host is read the way browsers read it (`domains.browser_url`); a URL that Python's urlsplit reads
    differently, one with userinfo (`user@`), or one with control characters is refused whatever its host.
    """
    controls = sorted({c for c in redirect_uri if c < " " or c == "\x7f"})
    if controls:
        names = ", ".join(_CONTROL_NAMES.get(c, f"U+{ord(c):04X}") for c in controls)
        _refuse(
            account,
            redirect_uri,
            f"It contains control characters ({names}): WeChat refuses them, and no Location header may carry them.",
        )
    try:
        browser: BrowserUrl | None = browser_url(redirect_uri)
        why = ""
    except NotNavigable as exc:
        browser, why = None, str(exc)
    python = parse_origin(redirect_uri)
    if browser is not None:
        goes_to = browser.origin.host_port
        if browser.userinfo:
            _refuse(
                account,
                redirect_uri,
                f"It carries userinfo ({_masked(browser.userinfo)}@) before its host: WeChat refuses any URL with "
                f"userinfo, which only serves to disguise where it leads. A browser would go to host {goes_to}.",
            )
        if python != browser.origin:
            read = python.host_port if python else "no host"
            _refuse(
                account,
                redirect_uri,
                f"A browser would go to host {goes_to}, but Python's urlsplit reads {read}: the two disagree "
                "(browsers read '\\' as '/', decode '%xx' in hosts and expand IPv4 shorthands), so it is refused.",
            )
        if allowed(browser.origin, account.oauth_domains, account.trust_loopback):
            return
    configured = ", ".join(account.oauth_domains) or "(none)"
    if account.trust_loopback:
        configured += " (and any loopback origin)"
    parsed = browser.origin.host_port if browser else "(none: not an absolute http(s) URL)"
    lines = [
        f"redirect_uri {_shown(redirect_uri)} is outside the OAuth domains of {account.appid}.",
        f"Configured OAuth domains: {configured}.",
        f"Host parsed from redirect_uri: {parsed}.",
    ]
    if why:
        lines.append(f"A browser would not follow it as an absolute http(s) URL: {why}.")
    if looks_double_encoded(redirect_uri):
        lines.append("redirect_uri looks double-encoded (still '%3A%2F%2F' after one decoding): encode it once.")
    else:
        lines.append("The domain must match exactly: no subdomains, and a non-default port must be configured too.")
    raise errors.RedirectUriMismatch(" ".join(lines))


_CONTROL_NAMES = {"\t": "TAB", "\n": "LF", "\r": "CR", "\x00": "NUL", "\x7f": "DEL"}


def _shown(redirect_uri: str) -> str:
    return (
        repr(redirect_uri) if len(redirect_uri) <= 300 else f"{redirect_uri[:300]!r}… ({len(redirect_uri)} characters)"
    )


def _masked(userinfo: str) -> str:
    user, colon, _ = userinfo.partition(":")
    return f"{user}:***" if colon else user


def _refuse(account: Account, redirect_uri: str, reason: str) -> NoReturn:
    raise errors.RedirectUriMismatch(f"redirect_uri {_shown(redirect_uri)} is refused for {account.appid}. {reason}")


def redirect_with(url: str, params: Mapping[str, str]) -> str:
    """Append `code`/`state` to redirect_uri, before any `#fragment` (as WeChat does for SPA routes).

    Never a Location with CR or LF in it (aiohttp would drop the connection): that is the 10003 page instead.
    """
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
    location = f"{base}{separator}{urlencode(params)}{hash_mark}{fragment}"
    if "\r" in location or "\n" in location:
        raise errors.RedirectUriMismatch(f"redirect_uri {_shown(url)} contains CR or LF; no Location header may.")
    return location
