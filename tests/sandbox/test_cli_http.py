"""The real `wechat-sandbox` with aiohttp's C and pure-Python parsers: malformed HTTP gets an answer and one line."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import Server, ServerFactory, start_server

REFUSED = "refused a malformed request from 127.0.0.1 ("
CLEAN = b"Host: 127.0.0.1\r\n"
MALFORMED = {
    "a URL over 8 KiB": (414, b"GET /sns/userinfo?" + b"a" * 9000 + b" HTTP/1.1\r\n" + CLEAN + b"\r\n"),
    "a header over 8 KiB": (400, b"GET / HTTP/1.1\r\n" + CLEAN + b"X-A: " + b"a" * 9000 + b"\r\n\r\n"),
    "Content-Length and Transfer-Encoding": (
        400,
        b"POST /pay/unifiedorder HTTP/1.1\r\n" + CLEAN + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
    ),
    "duplicate Content-Length": (
        400,
        b"POST /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
    ),
    "a bad chunk size": (
        400,
        b"POST /sns/userinfo HTTP/1.1\r\n" + CLEAN + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ),
    "an invalid header name": (400, b"GET / HTTP/1.1\r\n" + CLEAN + b"Bad Name: 1\r\n\r\n"),
    "obs-fold": (400, b"GET / HTTP/1.1\r\n" + CLEAN + b"X-A: 1\r\n  folded\r\n\r\n"),
    "a bad method token": (400, b"G(T / HTTP/1.1\r\n" + CLEAN + b"\r\n"),
    "a bad HTTP version": (400, b"GET / HTTP/9.Z\r\n" + CLEAN + b"\r\n"),
    "a NUL byte": (400, b"GET / HTTP/1.1\r\n" + CLEAN + b"X-A: a\x00b\r\n\r\n"),
}


@pytest.fixture(scope="module", params=["C parser", "Python parser"])
def served(request: pytest.FixtureRequest) -> Iterator[Server]:
    """One in-memory sandbox per aiohttp parser (AIOHTTP_NO_EXTENSIONS picks the pure-Python one)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIOHTTP_NO_EXTENSIONS", "1" if request.param == "Python parser" else "")
        server = start_server("--in-memory")
    try:
        yield server
    finally:
        server.stop()


def status_of(port: int, data: bytes) -> int:
    """Send raw bytes, read the answer until the server closes; its HTTP status."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    return int(raw.split(b" ", 2)[1])


def new_stderr(server: Server, seen: int, wanted: int) -> list[str]:
    """The lines the server printed on stderr after the first `seen`, once there are `wanted` (or after 5 s)."""
    deadline = time.monotonic() + 5
    while len(server.stderr) < seen + wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # anything printed beyond the wanted lines (a traceback) has arrived by now
    return server.stderr[seen:]


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_a_malformed_request_gets_its_status_and_one_log_line(served: Server, case: str) -> None:
    status, data = MALFORMED[case]
    seen = len(served.stderr)
    assert status_of(served.port, data) == status
    lines = new_stderr(served, seen, 1)
    assert len(lines) == 1, lines
    assert lines[0].startswith(REFUSED + str(status)), lines


def test_no_malformed_request_prints_a_traceback(served: Server) -> None:
    for _, data in MALFORMED.values():
        status_of(served.port, data)
    assert not [line for line in served.stderr if "Traceback" in line], served.text("stderr")


def test_the_demo_shop_answers_a_malformed_request_400_with_one_log_line(launch: ServerFactory) -> None:
    server = launch("--in-memory", "--shop-port", "0", subcommand="up")
    line = server.read_line()
    assert line is not None
    assert line.startswith("Demo shop listening on http://127.0.0.1:")
    seen = len(server.stderr)
    assert status_of(int(line.rsplit(":", 1)[1]), MALFORMED["obs-fold"][1]) == 400
    lines = new_stderr(server, seen, 1)
    assert len(lines) == 1, lines
    assert lines[0].startswith("refused a malformed request from 127.0.0.1 (400): "), lines


def test_a_bad_chunk_after_the_body_began_gets_400_and_no_traceback(served: Server) -> None:
    """The handler is already reading the body when the bad chunk arrives (the middleware answers, not the parser)."""
    head = b"POST /pay/unifiedorder HTTP/1.1\r\n" + CLEAN + b"Transfer-Encoding: chunked\r\n\r\n"
    seen = len(served.stderr)
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(head + b"5\r\n<xml>\r\n")
        time.sleep(0.2)  # the handler is reading the body now
        sock.sendall(b"zz\r\nbroken\r\n0\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    lines = new_stderr(served, seen, 1)
    assert not any("Traceback" in line for line in lines), lines
    assert len(lines) == 1, lines
    if raw:  # the C parser never fails the read: the client going away ends the request instead
        assert int(raw.split(b" ", 2)[1]) == 400, raw


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (b"Origin: http://\xe9vil.test", 403),
        (b"Expect: 1\xe9", 417),
        (b"Expect: \xff\r\nX-A: \xff", 417),
        (b"Host: \xe9vil.test", 403),
    ],
)
def test_a_header_that_is_not_utf8_gets_an_answer_and_no_traceback(served: Server, header: bytes, status: int) -> None:
    """Undecodable header bytes reach the sandbox as surrogates: every answer that quotes them must still render."""
    head = b"POST /pay/unifiedorder HTTP/1.1\r\n" + (b"" if header.startswith(b"Host") else CLEAN)
    seen = len(served.stderr)
    assert status_of(served.port, head + header + b"\r\nContent-Length: 5\r\nConnection: close\r\n\r\n<xml>") == status
    lines = new_stderr(served, seen, 0)  # the answer came: anything logged for it is there by now
    assert not any("Traceback" in line for line in lines), lines
