"""Domain rules shared by OAuth domains, JS-safe domains and pay directories."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

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


class NotNavigable(ValueError):
    """A URL a browser would not navigate to as an absolute http(s) URL; the message says why."""


@dataclass(frozen=True)
class BrowserUrl:
    """Where a browser goes for a URL: its origin, and the userinfo it would strip from the authority."""

    origin: Origin
    userinfo: str


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_FORBIDDEN_IN_DOMAIN = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | {chr(c) for c in range(0x20)}


def browser_url(url: str) -> BrowserUrl:
    """The host a browser navigates to for `url`, by the WHATWG URL Standard's rules for http(s).

    Leading and trailing C0 controls and spaces are stripped and tabs and newlines removed anywhere; `\\` is `/`;
    the host follows the last `@` of the authority; it is percent-decoded, IDNA-mapped and lowercased; a host
    ending in a number is an IPv4 address in any of its shorthand forms (`2130706433`, `0x7f.1`, `0177.0.0.1`).
    """
    cleaned = url.strip("".join(map(chr, range(0x21)))).translate({9: None, 10: None, 13: None})
    scheme_match = _SCHEME.match(cleaned)
    if scheme_match is None:
        raise NotNavigable("no scheme: a relative URL, which a browser resolves against the current page")
    scheme = scheme_match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise NotNavigable(f"the scheme {scheme!r} is not http or https")
    rest = cleaned[scheme_match.end() :].lstrip("/\\")
    authority = re.split(r"[/\\?#]", rest, maxsplit=1)[0]
    userinfo, at, host_port = authority.rpartition("@")
    host_text, port_text = _split_port(host_port)
    port = _DEFAULT_PORTS[scheme]
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text.lstrip("0") or "0") > 65535:
            raise NotNavigable(f"the port {port_text!r} is not a port number")
        port = int(port_text.lstrip("0") or "0")
    return BrowserUrl(Origin(scheme, _browser_host(host_text), port), userinfo if at else "")


def _split_port(host_port: str) -> tuple[str, str]:
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0:
            raise NotNavigable("an IPv6 host without its closing ']'")
        after = host_port[end + 1 :]
        if after and not after.startswith(":"):
            raise NotNavigable(f"{after!r} after the IPv6 host")
        return host_port[: end + 1], after[1:]
    host, _, port = host_port.partition(":")
    return host, port


def _browser_host(text: str) -> str:
    if not text:
        raise NotNavigable("an empty host")
    if text.startswith("["):
        try:
            if "%" in text:  # Python takes a zone id (`%eth0`); browsers do not
                raise ValueError(text)
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            raise NotNavigable(f"{text!r} is not an IPv6 address a browser accepts") from None
    decoded = unquote_to_bytes(text).decode("utf-8", errors="replace")
    try:
        domain = decoded.lower() if decoded.isascii() else decoded.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise NotNavigable(f"the host {decoded!r} is not a valid international domain name") from None
    bad = sorted(set(domain) & _FORBIDDEN_IN_DOMAIN)
    if bad:
        raise NotNavigable(f"the host {domain!r} contains {''.join(bad)!r}, which no browser accepts in a host")
    return _ipv4(domain) if _ends_in_a_number(domain) else domain


def _ends_in_a_number(domain: str) -> bool:
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last != "" and last.isascii() and last.isdigit()) or re.fullmatch(r"0[xX][0-9A-Fa-f]*", last) is not None


def _ipv4_part(part: str) -> int:
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if len(digits) > 12 or not re.fullmatch({16: "[0-9A-Fa-f]*", 8: "[0-7]*", 10: "[0-9]+"}[base], digits):
        raise NotNavigable(f"{part!r} is not a number in an IPv4 address")
    return int(digits, base) if digits else 0


def _ipv4(domain: str) -> str:
    """The dotted form of a host a browser reads as an IPv4 address (WHATWG's IPv4 parser)."""
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4 or "" in parts:
        raise NotNavigable(f"{domain!r} ends in a number but is not an IPv4 address")
    numbers = [_ipv4_part(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise NotNavigable(f"{domain!r} is out of the IPv4 range")
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return str(ipaddress.IPv4Address(value))


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = ip_literal(host.strip("[]"))
    return address is not None and address.is_loopback


@functools.lru_cache(maxsize=1024)
def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host spells, or None (a memo: the same few hosts come with every request)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def domain_matches(origin: Origin, domain: str) -> bool:
    """A configured domain is `host` (default port only) or `host:port`; no subdomains, as in WeChat."""
    entry = domain.strip().lower()
    if "://" in entry:
        parsed = parse_origin(entry)
        return parsed is not None and (parsed.host, parsed.port) == (origin.host, origin.port)
    return entry == origin.host_port


def allowed(origin: Origin, domains: tuple[str, ...], trust_loopback: bool) -> bool:
    return (trust_loopback and is_loopback(origin.host)) or any(domain_matches(origin, d) for d in domains)


def h5_domain_matches(origin: Origin, domain: str) -> bool:
    """An H5 pay domain covers its subdomains too (`example.com` allows `m.example.com`), unlike OAuth's and the
    JS-safe domains; `host` is the default port only, `host:port` that port."""
    entry = domain.strip().lower()
    if "://" in entry:
        parsed = parse_origin(entry)
        if parsed is None:
            return False
        host, port = parsed.host, parsed.port
    else:
        as_url = parse_origin(f"{origin.scheme}://{entry}")
        if as_url is None:
            return False
        host, port = as_url.host, as_url.port
    return port == origin.port and (origin.host == host or origin.host.endswith("." + host))


def h5_allowed(origin: Origin, domains: tuple[str, ...], trust_loopback: bool) -> bool:
    return (trust_loopback and is_loopback(origin.host)) or any(h5_domain_matches(origin, d) for d in domains)


def callback_url_problem(url: str) -> str | None:
    """Why `url` cannot be a scan-pay callback URL (an absolute http(s) URL WeChat can POST to), or None."""
    if parse_origin(url) is None:
        return f"{url!r} is not an absolute http(s) URL"
    if "#" in url:
        return f"{url!r} has a #fragment, which is never sent to a server"
    return None


def looks_double_encoded(url: str) -> bool:
    """`http%3A%2F%2F...` left after one decoding: the caller encoded redirect_uri twice."""
    lowered = url.lower()
    return lowered.startswith(("http%3a", "https%3a")) or "%253a" in lowered or "%3a%2f%2f" in lowered
