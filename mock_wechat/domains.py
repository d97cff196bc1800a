"""Domain rules shared by OAuth domains, JS-safe domains and pay directories."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_port(self) -> str:
        """The URL authority without userinfo: `host` on the default port, else `host:port` (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS.get(self.scheme)
        return host if self.port == default else f"{host}:{self.port}"


def parse_origin(url: str) -> Origin | None:
    """The scheme, host and port of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme])


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def domain_matches(origin: Origin, domain: str) -> bool:
    """A configured domain is `host` (default port only) or `host:port`; no subdomains, as in WeChat."""
    entry = domain.strip().lower()
    if "://" in entry:
        parsed = parse_origin(entry)
        return parsed is not None and (parsed.host, parsed.port) == (origin.host, origin.port)
    return entry == origin.host_port


def allowed(origin: Origin, domains: tuple[str, ...], trust_loopback: bool) -> bool:
    return (trust_loopback and is_loopback(origin.host)) or any(domain_matches(origin, d) for d in domains)


def looks_double_encoded(url: str) -> bool:
    """`http%3A%2F%2F...` left after one decoding: the caller encoded redirect_uri twice."""
    lowered = url.lower()
    return lowered.startswith(("http%3a", "https%3a")) or "%253a" in lowered or "%3a%2f%2f" in lowered
