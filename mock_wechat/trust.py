"""The request guard: which Host names and which page origins may use what the sandbox serves."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from mock_wechat.config import WeChatConfig
from mock_wechat.domains import ip_literal, is_loopback, parse_origin
from mock_wechat.errors import WeChatError

WECHAT_HOSTS = (
    "api.weixin.qq.com",
    "api.mch.weixin.qq.com",
    "api2.mch.weixin.qq.com",
    "open.weixin.qq.com",
    "res.wx.qq.com",
    "res2.wx.qq.com",
    "wx.tenpay.com",
)
"""WeChat's own hosts: the sandbox answers for them (an /etc/hosts entry, a proxy), so their names are ours."""

READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ASSETS = ("/_sandbox/static/", "/open/js/")
"""Browser assets hold no secret and change nothing: any Host may load them."""


class Refused(WeChatError):
    """A request the guard refuses (HTTP 403): not a WeChat error, so each dialect answers its generic refusal."""

    status = 403

    def __init__(self, diagnostic: str, *, host: bool = False, proxy: bool = False) -> None:
        super().__init__(diagnostic)
        self.host = host
        self.proxy = proxy
        """Refused as a proxy (an absolute-form request for another host): answered as a proxy, not as WeChat."""

    @property
    def wire_code(self) -> int | str:
        return "refused"


@functools.lru_cache(maxsize=16)
def trusted_origins(config: WeChatConfig) -> frozenset[str]:
    """Origins (scheme://host:port) named by any domain setting or WeChat's hosts; loopback is always trusted."""
    found: set[str] = {f"https://{host}" for host in WECHAT_HOSTS}
    for name in config.allowed_hosts:
        found.update({f"http://{name}", f"https://{name}"})
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
    """A loopback origin or one the configuration names; `null` (sandboxed frames, file pages) never is."""
    parsed = parse_origin(origin)
    return parsed is not None and (
        is_loopback(parsed.host) or f"{parsed.scheme}://{parsed.host_port}" in trusted_origins(config)
    )


@functools.lru_cache(maxsize=16)
def trusted_hosts(config: WeChatConfig) -> frozenset[str]:
    """Host names (without port) a request may be addressed to besides IP literals and localhost."""
    names = {o.host for o in map(parse_origin, trusted_origins(config)) if o is not None}
    return frozenset(names | {name.lower() for name in config.allowed_hosts})


def host_name(host: str) -> str | None:
    """The name in a Host header (lowercase, no port, no trailing dot), or None when it is not a host at all."""
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def host_allowed(host: str, config: WeChatConfig) -> bool:
    """An IP literal, localhost, WeChat's hosts or a configured name: a DNS-rebinding name is none of these."""
    name = host_name(host)
    if name is None:
        return False
    return ip_literal(name) is not None or is_loopback(name) or name in trusted_hosts(config)


def _same_origin(origin: str, host: str) -> bool:
    """The page is the sandbox's own (its forms post to it under the name the browser used)."""
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    try:
        port = urlsplit(f"//{host}").port
    except ValueError:
        return False
    return parsed.host == host_name(host) and parsed.port == (port or (443 if parsed.scheme == "https" else 80))


def printable(value: str) -> str:
    """A header value as text that renders anywhere: bytes that were not UTF-8 (kept as surrogates) escaped."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


PROXY_PORTS = {"http": 80, "https": 443}


def proxy_refusal(method: str, target: str, local_port: int | None) -> Refused | None:
    """Why an absolute-form request (`GET http://host/path`: a client using the sandbox as its HTTP proxy) is
    refused, or None. Only WeChat's hosts (on their standard port) and the sandbox's own loopback address are
    served; the sandbox never forwards anything anywhere."""
    try:
        parts = urlsplit(target)
        host, port = (parts.hostname or "").rstrip("."), parts.port or PROXY_PORTS.get(parts.scheme.lower())
    except ValueError:
        host, port = "", None
    if host in WECHAT_HOSTS and port == PROXY_PORTS.get(parts.scheme.lower()):
        return None
    if host and is_loopback(host) and port == local_port:
        return None
    return Refused(
        f"{method} {printable(target)}: the sandbox is a proxy for WeChat's hosts only ({', '.join(WECHAT_HOSTS)}) "
        "and never connects anywhere; leave other hosts out of the proxy (NO_PROXY=localhost,127.0.0.1,…)",
        host=True,
        proxy=True,
    )


def refusal(method: str, path: str, host: str | None, origin: str | None, config: WeChatConfig) -> Refused | None:
    """Why the sandbox refuses this request, or None.

    Pages of other sites must not change anything (reset, pay, widen the notify allowlist, place an order that
    makes the sandbox POST to a local service): a browser always sends `Origin` on a cross-site POST, a server
    SDK never does. A rebinding DNS name must not read anything (the console shows the secrets)."""
    if host is not None and not path.startswith(PUBLIC_ASSETS) and not host_allowed(host, config):
        return Refused(
            f"Host {printable(host)!r} is neither this machine nor a configured name (a DNS-rebinding page?); "
            "to serve it under that name, add it to [sandbox] allowed_hosts in the config file",
            host=True,
        )
    if method in READ_ONLY or origin is None:
        return None
    origin = printable(origin)
    if origin != "null" and (origin_allowed(origin, config) or (host is not None and _same_origin(origin, host))):
        return None
    shown = "Origin null (a sandboxed frame or a file page)" if origin == "null" else f"a page from {origin}"
    return Refused(
        f"{shown} may not {method} {path}; trusted: loopback pages, the configured domains and the sandbox's own "
        "pages (server SDKs send no Origin)"
    )
