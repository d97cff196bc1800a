"""The one middleware that renders every error in its dialect and reports each exchange."""

from __future__ import annotations

import contextlib
import difflib
import logging
import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from mock_wechat import errors, trust
from mock_wechat.dialects import Wire, render_error, wire_of
from mock_wechat.keys import (
    BODY_FIELDS,
    CLOCK,
    COMPARISON,
    IDS,
    NOTES,
    OBSERVERS,
    RID,
    STORE,
    Exchange,
    current_config,
)

log = logging.getLogger("mock_wechat")

MAX_BODY = 1024 * 1024
"""Bodies over 1 MiB are refused before a handler sees them."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _known_paths(app: web.Application) -> list[str]:
    paths = []
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if isinstance(path, str) and not path.startswith("/_sandbox/static"):
            paths.append(path)
    return sorted(set(paths))


def _translate(request: web.Request, exc: web.HTTPException) -> errors.WeChatError:
    """aiohttp's own refusals (no route, wrong method, body too large) in WeChat's words."""
    if isinstance(exc, web.HTTPNotFound):
        known = _known_paths(request.app)
        close = difflib.get_close_matches(request.path, known, n=3, cutoff=0.6)
        hint = f"wechat-sandbox emulates no endpoint at {request.method} {request.path}."
        if close:
            hint += " Did you mean " + " or ".join(close) + "?"
        hint += " The emulated paths are listed by GET /_sandbox/api/health; see the README."
        return errors.UnknownPath(hint)
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        why = f"{request.method} {request.path}: this endpoint accepts {allowed}"
        if wire_of(request) is Wire.V2:
            return errors.RequirePostMethodV2(why)
        if "POST" in exc.allowed_methods:
            return errors.RequirePostMethod(why)
        return errors.RequireGetMethod(why)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        if wire_of(request) is Wire.V2:
            return errors.BodyTooLarge(f"the request body is over {MAX_BODY} bytes (1 MiB)")
        return errors.ContentSizeOutOfLimit(f"the request body is over {MAX_BODY} bytes (1 MiB)")
    return errors.SystemError_(f"{exc.status} {exc.reason}")


@web.middleware
async def wechat_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render WeChat errors in the path's dialect, turn surprises into `system error`, report the exchange."""
    app = request.app
    started = time.perf_counter()
    now = app[CLOCK].now()
    rid = app[IDS].rid(now if math.isfinite(now) else time.time())
    request[RID] = rid
    request[NOTES] = []
    error: errors.WeChatError | None = None
    response: web.StreamResponse
    headers = request.headers
    refused = trust.refusal(
        request.method, request.path, headers.get("Host"), headers.get("Origin"), current_config(app)
    )
    if not request.raw_path.startswith("/"):  # absolute-form: the client takes the sandbox for its proxy
        refused = trust.proxy_refusal(request.method, request.raw_path, _local_port(request)) or refused
    try:
        if refused is not None:
            log.warning("refused %s %s, rid %s: %s", request.method, request.path, rid, refused.diagnostic)
            raise refused
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            response = exc
        else:
            error = _translate(request, exc)
    except errors.WeChatError as exc:
        error = exc
    except (web.RequestPayloadError, HttpProcessingError, ConnectionResetError) as exc:
        # A body the parser gave up on mid-way (a bad chunk) or a client gone: the client's fault, one line.
        why = "the request body could not be read: " + " ".join(str(exc).split())
        log.warning("refused a malformed body on %s %s, rid %s: %s", request.method, request.path, rid, why)
        error = errors.MalformedRequestV2(why) if wire_of(request) is Wire.V2 else errors.MalformedRequest(why)
    except Exception as exc:
        log.exception("unexpected error, rid %s", rid)
        why = f"unexpected {type(exc).__name__}: {exc} (logged with rid {rid})"
        error = errors.PaySystemBusy(why) if wire_of(request) is Wire.V2 else errors.SystemError_(why)
    if error is not None:
        error.diagnostic = trust.printable(error.diagnostic)  # a header's undecodable bytes must not break a page
        if isinstance(error, trust.Refused) and error.proxy:  # a proxy's refusal, not WeChat's
            response = proxy_refusal(error.diagnostic)
        else:
            response = render_error(request, error, rid)
        if isinstance(error, errors.MalformedRequest | errors.MalformedRequestV2) and request.protocol is not None:
            # Answer, then close: aiohttp would otherwise read on through the broken body and log it again.
            with contextlib.suppress(ConnectionError):  # the client may be gone already
                await response.prepare(request)
                await response.write_eof()
            request.protocol.force_close()
    exchange = Exchange(
        time=now,
        method=request.method,
        path=request.path,
        query=dict(request.query),
        status=response.status,
        rid=rid,
        wire_code=None if error is None else error.wire_code,
        error=None if error is None else type(error).__name__.rstrip("_"),
        diagnostic="" if error is None else error.diagnostic,
        notes=request[NOTES],
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        fields=request.get(BODY_FIELDS, {}),
        answer=answer_text(response),
        comparison=request.get(COMPARISON) or (None if error is None else error.comparison),
    )
    report(app, exchange)
    try:
        await app[STORE].committed()  # what this answer says happened (and its journal entry) is on disk first
    except Exception:
        log.exception("the store could not commit, rid %s", rid)
        why = f"the sandbox's store could not save this request's changes (logged with rid {rid})"
        failed = errors.PaySystemBusy(why) if wire_of(request) is Wire.V2 else errors.SystemError_(why)
        response = render_error(request, failed, rid)
    return response


ANSWER_KEPT = 8192
"""How much of an answer's text the journal keeps."""
TEXT_TYPES = ("application/json", "text/xml", "application/xml", "text/plain")


def answer_text(response: web.StreamResponse) -> str:
    """The answer as the journal shows it: JSON, XML or text as sent (cut at ANSWER_KEPT), anything else named."""
    if not isinstance(response, web.Response) or response.body is None:
        return ""
    body = response.body
    size = len(body) if isinstance(body, bytes | bytearray) else 0
    if not isinstance(body, bytes | bytearray) or response.content_type not in TEXT_TYPES:
        return f"({response.content_type}, {size} bytes)" if size else ""
    text = bytes(body[:ANSWER_KEPT]).decode(response.charset or "utf-8", "replace")
    return text if size <= ANSWER_KEPT else f"{text}… ({size} bytes in all)"


def proxy_refusal(why: str) -> web.Response:
    """What the sandbox answers, as a proxy, for a host it does not serve: 403 and why, in plain text."""
    return web.Response(status=403, text=f"wechat-sandbox: {why}\n", content_type="text/plain", charset="utf-8")


def _local_port(request: web.Request) -> int | None:
    sockname = None if request.transport is None else request.transport.get_extra_info("sockname")
    return int(sockname[1]) if isinstance(sockname, tuple) and len(sockname) >= 2 else None


def report(app: web.Application, exchange: Exchange) -> None:
    """Hand an exchange to every observer (the journal); one failing observer is logged, not raised."""
    for observer in app[OBSERVERS]:
        try:
            observer(exchange)
        except Exception:
            log.exception("observer failed, rid %s", exchange.rid)
