"""Proxy mode: `CONNECT` to one of WeChat's hosts on the sandbox's HTTP port is answered over TLS by the sandbox.

No tunnel ever leads anywhere else: any other target is refused (403, a journal line), and nothing is connected.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from mock_wechat.http_server import HEADER_TIMEOUT, Front
from mock_wechat.keys import CLOCK, IDS, Exchange
from mock_wechat.middleware import report
from mock_wechat.trust import WECHAT_HOSTS, printable
from sandbox.keys import TLS
from sandbox.tls import MUTUAL_TLS_HOSTS, CAError, ServerTLS

log = logging.getLogger("sandbox.proxy")

CONNECT = b"CONNECT "
MAX_HEAD = 8192
TUNNEL_PORT = 443
ESTABLISHED = b"HTTP/1.1 200 Connection Established\r\n\r\n"
NO_PROXY_HINT = "leave other hosts out of the proxy (NO_PROXY=localhost,127.0.0.1,… or a proxy per host)"

Report = Callable[[str, str, int, str, str], None]
"""(peer, target, status, why, method): a tunnel refused or a handshake failed, for the log and the journal."""


def target_refusal(target: str) -> str | None:
    """Why a `CONNECT` to `target` (authority-form, `host:port`) is not served, or None for WeChat's hosts on 443."""
    try:
        parts = urlsplit(f"//{target}")
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        host, port = "", None
    if not host or parts.netloc != target or parts.username is not None:
        return f"CONNECT {printable(target)!r}: not a host:port"
    if host not in WECHAT_HOSTS:
        return (
            f"CONNECT {printable(target)}: the sandbox is a proxy for WeChat's hosts only ({', '.join(WECHAT_HOSTS)}) "
            f"and never connects anywhere; {NO_PROXY_HINT}"
        )
    if port != TUNNEL_PORT:
        return f"CONNECT {printable(target)}: WeChat's hosts are served on port {TUNNEL_PORT} only"
    return None


class _Pending(asyncio.Protocol):
    """Holds what arrives between the end of the TLS handshake and the HTTP handler taking the connection."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.eof = False

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return True


class Tunnel:
    """Answers `CONNECT` requests on a plain HTTP listener; every other request goes on to the HTTP handler."""

    def __init__(self, tls: ServerTLS, refused: Report) -> None:
        self.tls = tls
        self._refused = refused

    def front(self, make_http: Callable[[], asyncio.Protocol]) -> asyncio.Protocol:
        """The protocol of one accepted connection (`mock_wechat.http_server.Runner`'s `front`)."""
        return _TunnelFront(self, make_http)

    def refuse(self, peer: str, target: str, status: int, why: str, method: str = "CONNECT") -> None:
        self._refused(peer, target, status, why, method)


class _TunnelFront(Front):
    """One connection: the first bytes say whether it asks for a tunnel."""

    def __init__(self, tunnel: Tunnel, make_http: Callable[[], asyncio.Protocol]) -> None:
        super().__init__(make_http)
        self._tunnel = tunnel
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sockname = transport.get_extra_info("sockname")
        if isinstance(sockname, tuple) and len(sockname) >= 2 and sockname[1] in self._tunnel.tls.ports:
            # The TLS listener: the same handshake as a tunnel's, so a failed one is journaled the same way.
            self._decide()
            self.transport.pause_reading()
            where = f"{sockname[0]}:{sockname[1]}"
            self._task = asyncio.get_running_loop().create_task(self._secure(self._tunnel.tls.context(), where, "TLS"))

    def wants(self, start: bytes) -> bool | None:
        if start.startswith(CONNECT):
            return True
        return None if CONNECT.startswith(start) else False

    def take(self, buffer: bytes) -> bool:
        head, found, tail = buffer.partition(b"\r\n\r\n")
        if not found:
            if len(buffer) > MAX_HEAD:
                self._answer(431, "the CONNECT request's head is over 8 KiB", "")
            return False
        line = head.split(b"\r\n", 1)[0].split(b" ")
        target = line[1].decode("latin-1") if len(line) == 3 else ""
        if len(line) != 3 or not line[2].startswith(b"HTTP/1."):
            self._answer(400, f"not a CONNECT request line: {head[:80]!r}", target)
        elif tail:
            self._answer(400, "the client sent data before the tunnel was established", target)
        elif why := target_refusal(target):
            self._answer(403, why, target)
        else:
            try:
                host = (urlsplit(f"//{target}").hostname or "").rstrip(".")
                context = self._tunnel.tls.context(ask=host in MUTUAL_TLS_HOSTS)
            except CAError as exc:
                self._answer(500, str(exc), target)
            else:
                self.transport.write(ESTABLISHED)
                self.transport.pause_reading()  # the client's first TLS bytes wait for the handshake to start
                self._task = asyncio.get_running_loop().create_task(self._secure(context, target))
        return True

    def _answer(self, status: int, why: str, target: str) -> None:
        reason = {400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large"}.get(status, "Error")
        body = f"wechat-sandbox: {why}\n".encode("utf-8", "backslashreplace")
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
            + body
        )
        self.transport.close()
        self._tunnel.refuse(self.peer, target, status, why)

    async def _secure(self, context: ssl.SSLContext, target: str, method: str = "CONNECT") -> None:
        """TLS on the accepted connection, as `target`'s server; then the HTTP handler takes it."""
        loop = asyncio.get_running_loop()
        pending = _Pending()
        try:
            secured = await loop.start_tls(
                self.transport, pending, context, server_side=True, ssl_handshake_timeout=HEADER_TIMEOUT
            )
        except ssl.SSLError as exc:
            self.transport.abort()  # the handshake is over: close now, not after a flush a stopping loop may not see
            self.handed_over()
            self._tunnel.refuse(self.peer, target, 502, self._handshake_failure(target, exc), method)
            return
        except (OSError, TimeoutError) as exc:  # the client went away mid-handshake (a browser retrying): no fault
            self.transport.abort()
            self.handed_over()
            log.debug("a TLS handshake for %s from %s ended: %r", target, self.peer, exc)
            return
        if secured is None:  # the connection closed during the handshake
            self.transport.abort()
            self.handed_over()
            return
        http = self.make_http()
        secured.set_protocol(http)
        http.connection_made(secured)
        self.handed_over()
        for data in pending.received:
            http.data_received(data)
        if pending.eof:
            http.eof_received()

    def _handshake_failure(self, target: str, exc: BaseException) -> str:
        why = f"the TLS handshake for {target} failed: {exc or type(exc).__name__}"
        text = str(exc).lower()
        if "certificate unknown" in text or "unknown ca" in text or "bad certificate" in text:
            why += f" (the client does not trust the sandbox's CA: {self._tunnel.tls.ca.certificate_path})"
        elif "certificate verify failed" in text:
            why += (
                " (the client presented a certificate of no merchant of this sandbox; WeChat's mutual TLS takes the "
                "merchant's API certificate, apiclient_cert.pem, from the console)"
            )
        return why


def reporter(app: web.Application) -> Report:
    """Log a refused or failed tunnel as one warning line and journal it (method CONNECT, path the target)."""

    def refused(peer: str, target: str, status: int, why: str, method: str) -> None:
        now = app[CLOCK].now()
        rid = app[IDS].rid(now)
        log.warning("refused %s %s from %s (%d), rid %s: %s", method, printable(target), peer, status, rid, why)
        exchange = Exchange(
            time=now,
            method=method,
            path=printable(target) or "(none)",
            query={},
            status=status,
            rid=rid,
            wire_code="refused",
            error="Refused",
            diagnostic=why,
        )
        report(app, exchange)

    return refused


def tunnel_for(app: web.Application) -> Tunnel | None:
    """The tunnel of a sandbox app (one with TLS material), None for any other app."""
    return Tunnel(app[TLS], reporter(app)) if TLS in app else None


def front_for(app: web.Application) -> Callable[[Callable[[], asyncio.Protocol]], Any] | None:
    tunnel = tunnel_for(app)
    return None if tunnel is None else tunnel.front
