"""Which origins and hosts may use what the sandbox adds under `/_sandbox/` (pages of other sites may not)."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from mock_wechat.config import WeChatConfig
from mock_wechat.domains import is_loopback, parse_origin

GUARDED = ("/_sandbox/api/", "/_sandbox/bridge/")
"""The OAuth helper forms check their own origin (and answer with WeChat's error page)."""
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


@functools.lru_cache(maxsize=16)
def trusted_origins(config: WeChatConfig) -> frozenset[str]:
    """Origins (scheme://host:port) named by any domain setting; loopback origins are always trusted."""
    found: set[str] = set()
    for account in config.accounts:
        for domain in (*account.js_domains, *account.oauth_domains):
            found.update({f"http://{domain}", f"https://{domain}"})
    for merchant in config.merchants:
        for directory in merchant.pay_directories:
            origin = parse_origin(directory)
            if origin is not None:
                found.add(f"{origin.scheme}://{origin.host_port}")
    return frozenset(found)


def origin_allowed(origin: str, config: WeChatConfig) -> bool:
    parsed = parse_origin(origin)
    return parsed is not None and (
        is_loopback(parsed.host) or f"{parsed.scheme}://{parsed.host_port}" in trusted_origins(config)
    )


@functools.lru_cache(maxsize=16)
def trusted_hosts(config: WeChatConfig) -> frozenset[str]:
    return frozenset(o.host for o in map(parse_origin, trusted_origins(config)) if o is not None)


def _host_allowed(host: str, config: WeChatConfig) -> bool:
    """An IP literal, localhost, or a configured domain: a DNS-rebinding name is none of these."""
    name = urlsplit(f"//{host}").hostname or ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return is_loopback(name) or name in trusted_hosts(config)
    return True


def refusal(request: web.Request, config: WeChatConfig) -> str | None:
    """Why a request to the sandbox's own endpoints is refused, or None.

    A page of another site must not change the sandbox (reset it, pay, widen the notify allowlist), and a
    rebinding DNS name must not read it."""
    if not request.path.startswith(GUARDED):
        return None
    origin = request.headers.get("Origin")
    if request.method not in READ_ONLY and origin and origin != "null" and not origin_allowed(origin, config):
        return f"a page from {origin} may not call {request.path}; trusted: loopback and the configured domains"
    if request.path.startswith("/_sandbox/api/") and not _host_allowed(request.host, config):
        return f"Host {request.host!r} is not this machine nor a configured domain (DNS rebinding?)"
    return None
