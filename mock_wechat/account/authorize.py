"""Rules of the authorize URL (open.weixin.qq.com/connect/oauth2/authorize) before any user is involved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from mock_wechat import errors
from mock_wechat.account.oauth import Scope, parse_scopes
from mock_wechat.config import Account, AccountKind
from mock_wechat.domains import allowed, looks_double_encoded, parse_origin


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
    if account.kind == AccountKind.WEBSITE:
        raise errors.OpenPlatformAppid(f"{appid} is an open-platform website app; use an Official Account appid")
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
    """10003 unless redirect_uri's host is one of the account's OAuth domains; the diagnostic says why."""
    origin = parse_origin(redirect_uri)
    if origin is not None and allowed(origin, account.oauth_domains, account.trust_loopback):
        return
    configured = ", ".join(account.oauth_domains) or "(none)"
    if account.trust_loopback:
        configured += " (and any loopback origin)"
    parsed = origin.host_port if origin else "(none: not an absolute http(s) URL)"
    lines = [
        f"redirect_uri {redirect_uri!r} is outside the OAuth domains of {account.appid}.",
        f"Configured OAuth domains: {configured}.",
        f"Host parsed from redirect_uri: {parsed}.",
    ]
    if looks_double_encoded(redirect_uri):
        lines.append("redirect_uri looks double-encoded (still '%3A%2F%2F' after one decoding): encode it once.")
    else:
        lines.append("The domain must match exactly: no subdomains, and a non-default port must be configured too.")
    raise errors.RedirectUriMismatch(" ".join(lines))


def redirect_with(url: str, params: Mapping[str, str]) -> str:
    """Append `code`/`state` to redirect_uri, before any `#fragment` (as WeChat does for SPA routes)."""
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
    return f"{base}{separator}{urlencode(params)}{hash_mark}{fragment}"
