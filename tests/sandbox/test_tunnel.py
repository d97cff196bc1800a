"""Proxy mode on the HTTP port: CONNECT to WeChat's hosts is served over TLS; nothing else is, and nothing connects."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from mock_wechat import http_server
from mock_wechat.trust import WECHAT_HOSTS
from sandbox import defaults
from sandbox.testing import SandboxThread, WeChatSandbox
from sandbox.tunnel import target_refusal

TOKEN_QUERY = f"grant_type=client_credential&appid={defaults.DEFAULT_APPID}&secret={defaults.DEFAULT_SECRET}"
ONLY_WECHAT = (
    "the sandbox is a proxy for WeChat's hosts only (api.weixin.qq.com, api.mch.weixin.qq.com, "
    "api2.mch.weixin.qq.com, open.weixin.qq.com, res.wx.qq.com, res2.wx.qq.com, wx.tenpay.com) and never connects "
    "anywhere; "
)


def port_of(server: SandboxThread) -> int:
    return int(server.url.rsplit(":", 1)[1])


def read_head(sock: socket.socket | ssl.SSLSocket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return head


def read_all(sock: socket.socket) -> bytes:
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    return raw


def connect(server: SandboxThread, target: str) -> socket.socket:
    """A connection to the proxy that asked for a tunnel to `target`."""
    sock = socket.create_connection(("127.0.0.1", port_of(server)), timeout=5)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    return sock


def tunnel(server: SandboxThread, host: str) -> ssl.SSLSocket:
    """TLS through a tunnel to `host`, trusting the sandbox's CA as a client would."""
    sock = connect(server, f"{host}:443")
    assert read_head(sock) == b"HTTP/1.1 200 Connection Established\r\n\r\n"
    context = ssl.create_default_context(cafile=str(server.ca_certificate))
    return context.wrap_socket(sock, server_hostname=host)


def get(sock: ssl.SSLSocket, host: str, target: str) -> tuple[int, Any]:
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = read_head(sock)
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return int(head.split(b" ")[1]), json.loads(body)


def last_entry(sandbox: WeChatSandbox) -> dict[str, Any]:
    return sandbox.journal()[-1]


@pytest.mark.parametrize("host", WECHAT_HOSTS)
def test_a_tunnel_to_each_wechat_host_is_allowed(host: str) -> None:
    assert target_refusal(f"{host}:443") is None


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("example.com:443", "CONNECT example.com:443: " + ONLY_WECHAT),
        ("127.0.0.1:8700", "CONNECT 127.0.0.1:8700: " + ONLY_WECHAT),
        ("api.weixin.qq.com.evil.com:443", "CONNECT api.weixin.qq.com.evil.com:443: " + ONLY_WECHAT),
    ],
)
def test_a_tunnel_elsewhere_is_refused(target: str, why: str) -> None:
    assert (
        target_refusal(target)
        == why + "leave other hosts out of the proxy (NO_PROXY=localhost,127.0.0.1,… or a proxy per host)"
    )


def test_a_tunnel_to_another_port_of_a_wechat_host_is_refused() -> None:
    assert target_refusal("api.weixin.qq.com:8443") == (
        "CONNECT api.weixin.qq.com:8443: WeChat's hosts are served on port 443 only"
    )


@pytest.mark.parametrize("target", ["", "user@api.weixin.qq.com:443", "[::1", "api.weixin.qq.com:443/x"])
def test_a_target_that_is_not_host_port_is_refused(target: str) -> None:
    assert target_refusal(target) == f"CONNECT {target!r}: not a host:port"


def test_a_target_without_a_port_is_refused() -> None:
    assert target_refusal("api.weixin.qq.com") == (
        "CONNECT api.weixin.qq.com: WeChat's hosts are served on port 443 only"
    )


def test_a_tunnel_to_wechat_is_served_by_the_sandbox(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    with tunnel(server, "api.weixin.qq.com") as sock:
        status, body = get(sock, "api.weixin.qq.com", f"/cgi-bin/token?{TOKEN_QUERY}")
    assert status == 200
    assert sorted(body) == ["access_token", "expires_in"]


def test_a_tunnel_keeps_its_connection_for_several_requests(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    with tunnel(server, "api.weixin.qq.com") as sock:
        first = get(sock, "api.weixin.qq.com", f"/cgi-bin/token?{TOKEN_QUERY}")
        second = get(sock, "api.weixin.qq.com", "/_sandbox/api/health")
    assert (first[0], second[0]) == (200, 200)


def test_a_tunnel_elsewhere_gets_403_and_connects_nowhere(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        target = f"127.0.0.1:{listener.getsockname()[1]}"
        with connect(server, target) as sock:
            answer = read_all(sock)
        with pytest.raises(BlockingIOError):
            listener.accept()
    why = (
        f"CONNECT {target}: {ONLY_WECHAT}leave other hosts out of the proxy (NO_PROXY=localhost,127.0.0.1,… or a "
        "proxy per host)"
    )
    body = f"wechat-sandbox: {why}\n".encode()
    assert answer == (
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    entry = last_entry(sandbox)
    assert (entry["method"], entry["path"], entry["status"], entry["error"]) == ("CONNECT", target, 403, "Refused")
    assert entry["diagnostic"] == why


def test_a_connect_head_over_8_kib_gets_431(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as sock:
        sock.sendall(b"CONNECT api.weixin.qq.com:443 HTTP/1.1\r\nX-A: " + b"a" * 9000)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert last_entry(sandbox)["diagnostic"] == "the CONNECT request's head is over 8 KiB"


def test_data_sent_before_the_tunnel_is_established_gets_400(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as sock:
        sock.sendall(b"CONNECT api.weixin.qq.com:443 HTTP/1.1\r\n\r\n\x16\x03\x01")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert last_entry(sandbox)["diagnostic"] == "the client sent data before the tunnel was established"


def test_a_client_that_does_not_trust_the_ca_is_told_in_the_journal(
    server: SandboxThread, sandbox: WeChatSandbox
) -> None:
    sock = connect(server, "api.mch.weixin.qq.com:443")
    assert read_head(sock).startswith(b"HTTP/1.1 200")
    with (
        pytest.raises(ssl.SSLCertVerificationError),
        ssl.create_default_context().wrap_socket(sock, server_hostname="api.mch.weixin.qq.com"),
    ):
        pass
    sandbox.notifications()  # a round trip: the sandbox has handled the failed handshake by now
    entry = last_entry(sandbox)
    assert (entry["method"], entry["path"], entry["status"]) == ("CONNECT", "api.mch.weixin.qq.com:443", 502)
    assert entry["diagnostic"].startswith("the TLS handshake for api.mch.weixin.qq.com:443 failed: ")
    assert entry["diagnostic"].endswith(f"(the client does not trust the sandbox's CA: {server.ca_certificate})")


def test_a_connection_that_stops_inside_connect_is_closed(
    server: SandboxThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_server, "HEADER_TIMEOUT", 0.2)
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as sock:
        sock.sendall(b"CONN")
        assert sock.recv(1) == b""


def absolute(server: SandboxThread, url: str, host: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as sock:
        sock.sendall(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return read_all(sock)


def test_an_absolute_form_request_for_wechat_is_served(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    answer = absolute(server, f"http://api.weixin.qq.com/cgi-bin/token?{TOKEN_QUERY}", "api.weixin.qq.com")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'"access_token"' in answer


def test_an_absolute_form_request_for_the_sandbox_itself_is_served(server: SandboxThread) -> None:
    host = f"127.0.0.1:{port_of(server)}"
    assert absolute(server, f"http://{host}/_sandbox/api/health", host).startswith(b"HTTP/1.1 200 OK\r\n")


def test_an_absolute_form_request_for_another_loopback_port_is_refused(
    server: SandboxThread, sandbox: WeChatSandbox
) -> None:
    answer = absolute(server, "http://127.0.0.1:8700/cgi-bin/token", "127.0.0.1:8700")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    entry = last_entry(sandbox)
    why = (
        f"GET http://127.0.0.1:8700/cgi-bin/token: {ONLY_WECHAT}leave other hosts out of the proxy "
        "(NO_PROXY=localhost,127.0.0.1,…)"
    )
    assert body == f"wechat-sandbox: {why}\n".encode()
    assert b"Content-Type: text/plain; charset=utf-8\r\n" in head
    assert (entry["path"], entry["status"], entry["diagnostic"]) == ("/cgi-bin/token", 403, why)


def test_an_absolute_form_refusal_of_the_root_is_journaled(server: SandboxThread, sandbox: WeChatSandbox) -> None:
    answer = absolute(server, "http://127.0.0.1:8700/", "127.0.0.1:8700")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    entry = last_entry(sandbox)
    assert (entry["path"], entry["status"], entry["error"]) == ("/", 403, "Refused")


def test_a_connection_that_never_speaks_is_closed_when_the_sandbox_stops(tmp_path: Path) -> None:
    import gc
    import warnings

    started = SandboxThread(ca_dir=tmp_path).start()
    silent = socket.create_connection(("127.0.0.1", port_of(started)), timeout=5)
    WeChatSandbox(started.url).health  # noqa: B018 - by this answer the silent connection has been accepted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started.stop()
        gc.collect()
    assert silent.recv(1) == b""
    silent.close()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_absolute_form_request_cannot_borrow_a_trusted_host_header(
    server: SandboxThread, sandbox: WeChatSandbox
) -> None:
    answer = absolute(server, "http://example.com/cgi-bin/token", "127.0.0.1")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")


def test_the_ca_certificate_is_downloadable(server: SandboxThread, tmp_path: Path) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/_sandbox/api/ca.pem", timeout=5) as response:
        assert response.read() == server.ca_certificate.read_bytes()
        assert response.headers["Content-Type"] == "application/x-pem-file"


def test_health_tells_the_ca_certificate(server: SandboxThread) -> None:
    server.ca_certificate  # noqa: B018 - made now
    health = WeChatSandbox(server.url).health
    assert health["ca_certificate"] == str(server.ca_certificate.resolve())
    assert health["tls_url"] is None


def tunnel_with_certificate(server: SandboxThread, host: str, tmp_path: Path) -> bytes:
    """Health through a tunnel to `host`, presenting a certificate of no merchant; what came back."""
    from sandbox.tls import LocalCA

    chain, key = LocalCA.load_or_create(tmp_path / "stranger").issue(["stranger"])
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    sock = connect(server, f"{host}:443")
    assert read_head(sock) == b"HTTP/1.1 200 Connection Established\r\n\r\n"
    context = ssl.create_default_context(cafile=str(server.ca_certificate))
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    try:
        with context.wrap_socket(sock, server_hostname=host) as secured:
            secured.sendall(f"GET /_sandbox/api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            return secured.recv(12)
    except (ssl.SSLError, ConnectionError):
        return b"refused"


def test_a_tunnel_to_a_page_host_never_asks_for_a_client_certificate(server: SandboxThread, tmp_path: Path) -> None:
    """Browsers drop a handshake that asks for a certificate and retry: only WeChat Pay's hosts ask."""
    assert tunnel_with_certificate(server, "res.wx.qq.com", tmp_path) == b"HTTP/1.1 200"


def test_a_tunnel_to_the_pay_host_asks_for_a_client_certificate(server: SandboxThread, tmp_path: Path) -> None:
    assert tunnel_with_certificate(server, "api.mch.weixin.qq.com", tmp_path) in (b"refused", b"")


def test_a_failed_handshake_leaves_no_socket_behind(tmp_path: Path) -> None:
    import gc
    import warnings

    started = SandboxThread(ca_dir=tmp_path).start()
    sock = connect(started, "res.wx.qq.com:443")
    assert read_head(sock).startswith(b"HTTP/1.1 200")
    with pytest.raises(ssl.SSLCertVerificationError):
        ssl.create_default_context().wrap_socket(sock, server_hostname="res.wx.qq.com")
    WeChatSandbox(started.url).notifications()  # the sandbox has handled the failure by now
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started.stop()
        gc.collect()
    sock.close()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
