"""The project's HTTP server (`http_server.Runner`) over raw sockets: unreadable requests refused, slow heads closed."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from mock_wechat import http_server
from tests.pay_helpers import assert_protocol_fail
from tests.wire import assert_api_error

Serve = Callable[..., Awaitable[int]]

CLEAN = b"Host: 127.0.0.1\r\n"
MALFORMED = {
    "a header over 8 KiB": b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"X-A: " + b"a" * 9000 + b"\r\n\r\n",
    "Content-Length and Transfer-Encoding": b"POST /sns/userinfo HTTP/1.1\r\n"
    + CLEAN
    + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "duplicate Content-Length": b"POST /sns/userinfo HTTP/1.1\r\n"
    + CLEAN
    + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
    "a bad chunk size": b"POST /sns/userinfo HTTP/1.1\r\n"
    + CLEAN
    + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "an invalid header name": b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"Bad Name: 1\r\n\r\n",
    "obs-fold": b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"X-A: 1\r\n  folded\r\n\r\n",
    "a bad method token": b"G(T /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"\r\n",
    "a bad HTTP version": b"GET /sns/userinfo HTTP/9.Z\r\n" + CLEAN + b"\r\n",
    "a NUL byte in a header": b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"X-A: a\x00b\r\n\r\n",
}
LONG_URL = b"GET /sns/userinfo?" + b"a" * 9000 + b" HTTP/1.1\r\n" + CLEAN + b"\r\n"


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an app with `http_server.Runner` on a free loopback port; the port."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, header_timeout: float = http_server.HEADER_TIMEOUT) -> int:
        runner = http_server.Runner(app, header_timeout=header_timeout)
        runners.append(runner)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return int(runner.addresses[0][1])

    yield start
    for runner in runners:
        await runner.cleanup()


async def exchange(port: int, *parts: bytes) -> tuple[int, bytes]:
    """Send raw bytes, read until the server closes; the status and body of the last answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for part in parts:
        writer.write(part)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.rpartition(b"HTTP/1.")[2].partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_a_url_over_8_kib_is_answered_414_in_wechats_json(serve: Serve, wechat_app: web.Application) -> None:
    status, body = await exchange(await serve(wechat_app), LONG_URL)
    assert status == 414
    assert_api_error(json.loads(body), -1, "system error")


async def test_a_v2_url_over_8_kib_is_answered_414_in_xml(serve: Serve, wechat_app: web.Application) -> None:
    request = b"POST /pay/unifiedorder?" + b"a" * 9000 + b" HTTP/1.1\r\n" + CLEAN + b"\r\n"
    status, body = await exchange(await serve(wechat_app), request)
    assert status == 414
    assert_protocol_fail(body.decode(), "XML格式错误")


async def test_a_url_over_8_kib_on_a_kept_alive_connection_is_answered_414(
    serve: Serve, wechat_app: web.Application
) -> None:
    first = b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"\r\n"
    status, body = await exchange(await serve(wechat_app), first, LONG_URL)
    assert status == 414
    assert_api_error(json.loads(body), -1, "system error")


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_request_is_answered_400_in_wechats_json(
    serve: Serve, wechat_app: web.Application, request_bytes: bytes
) -> None:
    status, body = await exchange(await serve(wechat_app), request_bytes)
    assert status == 400
    assert_api_error(json.loads(body), -1, "system error")


async def test_a_malformed_v2_request_is_answered_400_in_xml(serve: Serve, wechat_app: web.Application) -> None:
    request = (
        b"POST /pay/unifiedorder HTTP/1.1\r\n" + CLEAN + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, body = await exchange(await serve(wechat_app), request)
    assert status == 400
    assert_protocol_fail(body.decode(), "XML格式错误")


@pytest.mark.parametrize("request_bytes", [LONG_URL, *MALFORMED.values()], ids=["a long URL", *MALFORMED.keys()])
async def test_a_refusal_logs_one_line_and_no_traceback(
    serve: Serve, wechat_app: web.Application, request_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    port = await serve(wechat_app)
    caplog.set_level(logging.DEBUG)
    await exchange(port, request_bytes)
    logged = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [(r.name, r.levelname, r.exc_info) for r in logged] == [("mock_wechat.http", "WARNING", None)]
    assert "\n" not in logged[0].getMessage()
    assert logged[0].getMessage().startswith("refused a malformed request from 127.0.0.1 (")


async def test_an_app_that_is_not_wechat_gets_a_plain_400(serve: Serve) -> None:
    status, body = await exchange(await serve(web.Application()), MALFORMED["obs-fold"])
    assert (status, body) == (400, b"400 Bad Request\n")


async def test_a_well_formed_request_is_still_served(serve: Serve, wechat_app: web.Application) -> None:
    request = b"GET /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"Connection: close\r\n\r\n"
    status, body = await exchange(await serve(wechat_app), request)
    assert status == 200
    assert_api_error(json.loads(body), 41001, "access_token missing")


async def test_a_request_head_not_complete_in_time_is_closed(serve: Serve, wechat_app: web.Application) -> None:
    port = await serve(wechat_app, header_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /sns/userinfo HTTP/1.1\r\n")
    closed_after = None
    for _ in range(40):  # a slowloris: one header byte every 0.05 s, never the blank line
        writer.write(b"X")
        try:
            if await asyncio.wait_for(reader.read(), 0.05) == b"":
                closed_after = time.monotonic() - started
                break
        except TimeoutError:
            continue
    writer.close()
    assert closed_after is not None, "still open after 2 s"
    assert 0.45 <= closed_after < 1.5


def test_the_request_head_deadline_is_10_s_by_default() -> None:
    assert http_server.HEADER_TIMEOUT == 10.0
    assert http_server.Runner(web.Application()).header_timeout == 10.0
