"""`sandbox.testing.AppThread`, the plugin's threaded server, serves with the project's hardened HTTP server."""

from __future__ import annotations

import socket

from aiohttp import web

from sandbox.testing import AppThread


def test_the_plugins_threaded_server_answers_a_url_over_8_kib_with_414() -> None:
    server = AppThread(web.Application).start()
    try:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
    finally:
        server.stop()
    assert raw.startswith(b"HTTP/1.0 414 ")
    assert raw.endswith(b"\r\n\r\n414 Request-URI Too Long\n")
