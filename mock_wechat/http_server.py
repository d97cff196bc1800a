"""Serve an aiohttp app the sandbox's way: unreadable HTTP refused in WeChat's words, slow request heads closed."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from multidict import CIMultiDict

from mock_wechat import errors
from mock_wechat.dialects import is_v2_path, render_api_error, render_v2_error
from mock_wechat.keys import CLOCK, IDS

log = logging.getLogger("mock_wechat.http")

HEADER_TIMEOUT = 10.0
"""Seconds a connection may wait for a complete request head (headers), idle keep-alive included, before closing."""
MAX_LINE = 8192
"""A request line (URL) over 8 KiB is answered 414."""
MAX_FIELD = 8190
"""A header over this (aiohttp's own limit) is answered 400; it differs from MAX_LINE so the error tells which."""
HEAD_BYTES = 512
"""How much of a connection's first bytes is kept to tell the path of a request the parser refused."""

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_HEADER_LINE = re.compile(_TOKEN + rb":(?!//)")
_REQUEST_TARGET = re.compile(rb"(?:" + _TOKEN + rb" +)?(?:https?://[^/\s]*)?(/[^\s?#]*)")


@dataclass(frozen=True)
class Refusal:
    """A request aiohttp's parser could not read: the status to answer, why (one line), and its path if known."""

    status: int
    reason: str
    path: str | None
    peer: str


def _one_line(text: str) -> str:
    """aiohttp's multi-line parser messages (message, offending bytes, a caret) as one line."""
    parts = [part.strip() for part in text.splitlines()]
    return " ".join(part for part in parts if part and set(part) != {"^"})[:300]


def _path_in(line: bytes) -> str | None:
    """The path of a request line (or of a bare request target), if it reads as one."""
    match = _REQUEST_TARGET.match(line)
    return None if match is None else match[1].decode("latin-1")


def classify(exc: HttpProcessingError, head: bytes, peer: str) -> Refusal:
    """414 for a request line over the limit, 400 for anything else the parser refused.

    `head` is the start of the connection when the refused request is its first one (else empty): it gives the path.
    """
    path = _path_in(head.split(b"\n", 1)[0]) if head else None
    if isinstance(exc, LineTooLong):
        line, limit = bytes(exc.args[0]), exc.args[1]
        # The C parser reports the URL alone; the Python one the request line, or a header line it is still reading.
        if limit == MAX_LINE and not _HEADER_LINE.match(line):
            return Refusal(414, f"the request line is over {MAX_LINE} bytes: {line[:60]!r}…", _path_in(line), peer)
        return Refusal(400, f"a header is over {MAX_FIELD} bytes: {line[:60]!r}…", path, peer)
    return Refusal(400, _one_line(exc.message or str(exc)) or type(exc).__name__, path, peer)


def renderer(app: web.Application) -> Callable[[Refusal], web.Response]:
    """WeChat's dialect for a WeChat app (one with ids and a clock); a plain-text status for any other app."""

    def render(refusal: Refusal) -> web.Response:
        if IDS not in app or CLOCK not in app:
            status = HTTPStatus(refusal.status)
            log.warning("refused a malformed request from %s (%d): %s", refusal.peer, status, refusal.reason)
            return web.Response(status=status, text=f"{status.value} {status.phrase}\n")
        now = app[CLOCK].now()
        rid = app[IDS].rid(now if math.isfinite(now) else time.time())
        log.warning(
            "refused a malformed request from %s (%d, rid %s): %s", refusal.peer, refusal.status, rid, refusal.reason
        )
        if refusal.path is not None and is_v2_path(refusal.path):
            v2 = errors.RequestUriTooLongV2 if refusal.status == 414 else errors.MalformedRequestV2
            return render_v2_error(v2(refusal.reason), None, {}, "")
        api = errors.RequestUriTooLong if refusal.status == 414 else errors.MalformedRequest
        return render_api_error(api(refusal.reason), rid)

    return render


class _Handler(RequestHandler):
    """aiohttp's connection handler, answering what its parser refuses with `render` and one log line."""

    def __init__(self, manager: web.Server, *, render: Callable[[Refusal], web.Response], **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._render = render
        self._head = b""

    def data_received(self, data: bytes) -> None:
        if len(self._head) < HEAD_BYTES:
            self._head += data[: HEAD_BYTES - len(self._head)]
        super().data_received(data)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError | web.RequestPayloadError):  # a bad body read after the answer
            peer = self.peername[0] if isinstance(self.peername, tuple) else "?"
            text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
            log.warning("dropped the rest of a malformed request from %s: %s", peer, _one_line(text))
            return
        super().log_exception(*args, **kw)

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        peer = request.remote or "?"
        first = self._request_count == 1  # the refused request is the connection's first: its head is ours
        response = self._render(classify(exc, self._head if first else b"", peer))
        response.force_close()
        return response


def _readable_expect(handler: Callable[[BaseRequest], Awaitable[web.StreamResponse]]) -> Any:
    """aiohttp answers an unknown `Expect` (417) before any middleware, quoting it: a value that is not ASCII
    (kept as surrogates) would make that answer a traceback, so it reaches aiohttp escaped."""

    async def handle(request: BaseRequest) -> web.StreamResponse:
        expect = request.headers.get("Expect")
        if expect is not None and not expect.isascii():
            # clone() re-encodes every header as UTF-8: each undecodable one must be escaped, not just Expect.
            escaped = ((k, v.encode("utf-8", "backslashreplace").decode("utf-8")) for k, v in request.headers.items())
            request = request.clone(headers=CIMultiDict(escaped))
        return await handler(request)

    return handle


class Front(asyncio.Protocol):
    """A connection's first protocol: its first bytes decide whether it keeps the connection (`wants`, `take`:
    a proxy's `CONNECT`) or hands it to the HTTP handler, which then sees everything from the first byte on."""

    def __init__(self, make_http: Callable[[], asyncio.Protocol]) -> None:
        self.make_http = make_http
        self.transport: asyncio.Transport
        self.peer = "?"
        self.registry: set[Front] | None = None
        """The server's fronts not yet handed to HTTP (set by the server), closed when it stops."""
        self.sockets: weakref.WeakSet[asyncio.BaseTransport] | None = None
        """Every accepted connection's own transport while it lives (set by the server), aborted when it stops:
        a TLS connection's transport is wrapped, and its HTTP handler no longer names the socket's."""
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self._decided = False

    def wants(self, start: bytes) -> bool | None:
        """Whether a connection starting with `start` is this front's (None: too few bytes yet to tell)."""
        return False

    def take(self, buffer: bytes) -> bool:
        """Handle the bytes so far of a connection this front wants; True once it needs no more of them."""
        return True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.sockets is not None:
            self.sockets.add(transport)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else "?"
        self._timer = asyncio.get_running_loop().call_later(HEADER_TIMEOUT, transport.close)

    def data_received(self, data: bytes) -> None:
        if self._decided:
            return
        self._buffer += data
        wants = self.wants(self._buffer[:16])
        if wants is None:
            return
        if not wants:
            self._decide()
            http = self.make_http()
            self.transport.set_protocol(http)
            http.connection_made(self.transport)
            self.handed_over()
            http.data_received(self._buffer)
            self._buffer = b""
        elif self.take(self._buffer):
            self._decide()
            self._buffer = b""

    def _decide(self) -> None:
        self._decided = True
        if self._timer is not None:
            self._timer.cancel()

    def handed_over(self) -> None:
        """The connection is the HTTP handler's now (aiohttp closes it on stop) or gone."""
        if self.registry is not None:
            self.registry.discard(self)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.handed_over()


FrontFactory = Callable[[Callable[[], asyncio.Protocol]], asyncio.Protocol]
"""Makes a connection's first protocol from the factory of its HTTP handler."""


class _Server(web.Server):
    """aiohttp's low-level server, making `_Handler`s."""

    def __init__(
        self,
        made: web.Server,
        *,
        render: Callable[[Refusal], web.Response],
        loop: asyncio.AbstractEventLoop,
        front: FrontFactory | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            _readable_expect(made.request_handler),
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=loop,
            **kwargs,
        )
        self._handler_loop, self._handler_kwargs, self._handler_render = loop, kwargs, render
        self._front = front
        self.fronts: set[Front] = set()
        self.sockets: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    def _http(self) -> RequestHandler:
        return _Handler(self, loop=self._handler_loop, render=self._handler_render, **self._handler_kwargs)

    def __call__(self) -> asyncio.Protocol:  # type: ignore[override]
        if self._front is None:
            return self._http()
        made = self._front(self._http)
        if isinstance(made, Front):
            made.registry, made.sockets = self.fronts, self.sockets
            self.fronts.add(made)
        return made


class Runner(web.AppRunner):
    """`web.AppRunner` for every server the project starts: URL over 8 KiB → 414, other unreadable requests → 400
    (in the app's dialect, one log line, no traceback), and a request head not complete within `header_timeout`
    seconds closes the connection (slowloris). Bodies keep their own limits. `front` (optional) sees each connection's
    first bytes before HTTP does (the sandbox's proxy mode).
    """

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        front: FrontFactory | None = None,
        **kwargs: Any,
    ) -> None:
        # aiohttp's keep-alive timer runs from the connection's start (and from each answer) until a whole request
        # head has arrived: it is the head deadline. It does not run while a handler reads a body or answers.
        options: dict[str, Any] = {
            "access_log": None,
            "keepalive_timeout": header_timeout,
            "max_line_size": MAX_LINE,
            "max_field_size": MAX_FIELD,
            **kwargs,
        }
        super().__init__(app, **options)
        self.header_timeout = header_timeout
        self._options = options
        self._render = renderer(app)
        self._front = front

    async def cleanup(self) -> None:
        """aiohttp's cleanup, then close at once what is still open: a TLS connection's close waits for the
        client's answer, and a loop stopped meanwhile would leave its socket open."""
        transports: list[asyncio.BaseTransport | None] = []
        if self.server is not None:
            transports += [h.transport for h in self.server.connections]
        if isinstance(self.server, _Server):  # connections no HTTP handler has yet (silent, or in a TLS handshake)
            transports += [front.transport for front in self.server.fronts if hasattr(front, "transport")]
            transports += list(self.server.sockets)  # and the sockets under TLS connections
        await super().cleanup()
        for transport in transports:
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        await asyncio.sleep(0)  # an abort closes its socket on the loop's next turn: let it come

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # starts the app up and freezes it
        handler_options = {k: v for k, v in self._options.items() if k not in ("handle_signals", "shutdown_timeout")}
        return _Server(made, render=self._render, loop=asyncio.get_running_loop(), front=self._front, **handler_options)
