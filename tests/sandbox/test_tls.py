"""The local CA: made once per directory and kept, its server certificates, the JVM truststore, the TLS context."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from mock_wechat.trust import WECHAT_HOSTS
from sandbox import tls
from sandbox.testing import SandboxThread


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tls.LocalCA:
    return tls.LocalCA.load_or_create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxThread]:
    server = SandboxThread(tls_port=0, ca_dir=tmp_path_factory.mktemp("served-ca")).start()
    yield server
    server.stop()


def test_the_ca_is_made_with_its_files_where_asked(tmp_path: Path) -> None:
    ca = tls.LocalCA.load_or_create(tmp_path / "data")
    assert ca.certificate_path == tmp_path / "data" / tls.CA_FILE
    assert ca.certificate_path.read_bytes() == ca.certificate_pem
    assert (tmp_path / "data" / tls.CA_KEY_FILE).exists()


def test_the_ca_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    tls.LocalCA.load_or_create(tmp_path)
    assert stat.S_IMODE((tmp_path / tls.CA_KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / tls.CA_FILE).stat().st_mode) == 0o644


def test_the_ca_is_kept_across_loads(tmp_path: Path) -> None:
    first = tls.LocalCA.load_or_create(tmp_path)
    again = tls.LocalCA.load_or_create(tmp_path)
    assert again.certificate_pem == first.certificate_pem
    assert again.key_pem == first.key_pem


def test_processes_making_the_ca_at_once_agree_on_one(tmp_path: Path) -> None:
    made: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: made.append(tls.LocalCA.load_or_create(tmp_path).certificate_pem))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 1
    assert (tmp_path / tls.CA_FILE).read_bytes() == made[0]


def test_a_ca_certificate_file_missing_is_written_again_from_the_key_file(tmp_path: Path) -> None:
    first = tls.LocalCA.load_or_create(tmp_path)
    (tmp_path / tls.CA_FILE).unlink()
    assert tls.LocalCA.load_or_create(tmp_path).certificate_pem == first.certificate_pem
    assert (tmp_path / tls.CA_FILE).read_bytes() == first.certificate_pem


def test_a_damaged_ca_key_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    tls.LocalCA.load_or_create(tmp_path)
    kept = (tmp_path / tls.CA_FILE).read_bytes()
    (tmp_path / tls.CA_KEY_FILE).write_text("not a key")
    with pytest.raises(tls.CAError) as refused:
        tls.LocalCA.load_or_create(tmp_path)
    assert str(refused.value) == (
        f"the local CA in {tmp_path} cannot be used: {tls.CA_KEY_FILE} does not hold the CA's key and certificate; "
        f"delete {tls.CA_FILE} and {tls.CA_KEY_FILE} there to make a new one (and trust the new one where you "
        "trusted the old)"
    )
    assert (tmp_path / tls.CA_FILE).read_bytes() == kept


def test_a_ca_key_file_with_another_key_is_refused(tmp_path: Path) -> None:
    first = tls.LocalCA.load_or_create(tmp_path / "a")
    other = tls.LocalCA.load_or_create(tmp_path / "b")
    (tmp_path / "a" / tls.CA_KEY_FILE).write_bytes(other.key_pem + first.certificate_pem)
    with pytest.raises(tls.CAError, match=f"{tls.CA_KEY_FILE} is not the key of {tls.CA_FILE};"):
        tls.LocalCA.load_or_create(tmp_path / "a")


def test_the_ca_is_a_ca_for_server_certificates_only(ca: tls.LocalCA) -> None:
    cert = x509.load_pem_x509_certificate(ca.certificate_pem)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_two_directories_get_two_distinct_cas(tmp_path: Path) -> None:
    one = x509.load_pem_x509_certificate(tls.LocalCA.load_or_create(tmp_path / "a").certificate_pem)
    two = x509.load_pem_x509_certificate(tls.LocalCA.load_or_create(tmp_path / "b").certificate_pem)
    assert one.subject != two.subject


def test_a_server_certificate_names_what_it_was_issued_for(ca: tls.LocalCA) -> None:
    chain, _ = ca.issue(["127.0.0.1", "api.weixin.qq.com", "Shop.Example.COM."])
    leaf = x509.load_pem_x509_certificates(chain)[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["api.weixin.qq.com", "shop.example.com"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_a_server_certificate_is_sent_with_its_ca(ca: tls.LocalCA) -> None:
    chain, _ = ca.issue(["localhost"])
    certs = x509.load_pem_x509_certificates(chain)
    assert len(certs) == 2
    assert certs[1].public_bytes(Encoding.PEM) == ca.certificate_pem
    assert certs[0].issuer == certs[1].subject


def test_a_server_certificate_is_valid_no_longer_than_browsers_accept(ca: tls.LocalCA) -> None:
    leaf = x509.load_pem_x509_certificates(ca.issue(["localhost"])[0])[0]
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= tls.LEAF_DAYS + 1


def test_the_server_names_are_loopback_wechat_then_the_configured_ones() -> None:
    assert tls.server_names(["shop.example.com", "API.weixin.qq.com"]) == [
        "localhost",
        "127.0.0.1",
        "::1",
        *WECHAT_HOSTS,
        "shop.example.com",
    ]


def test_the_java_truststore_holds_the_ca(ca: tls.LocalCA) -> None:
    store = pkcs12.load_pkcs12(ca.java_truststore(), tls.JAVA_TRUSTSTORE_PASSWORD.encode())
    assert store.key is None
    assert [c.certificate for c in store.additional_certs] == [x509.load_pem_x509_certificate(ca.certificate_pem)]


def test_the_cache_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tls.cache_dir() == tmp_path / "wechat-sandbox"


def test_in_memory_runs_keep_the_ca_in_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tls.ca_dir(None) == tmp_path / "wechat-sandbox"
    assert tls.ca_dir(tmp_path / "data") == tmp_path / "data"


def handshake(server: SandboxThread, name: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.ca_certificate))
    port = int(server.tls_url.rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(raw, server_hostname=name)


@pytest.mark.parametrize("name", [*WECHAT_HOSTS, "localhost", "127.0.0.1"])
def test_the_tls_listener_is_trusted_under_each_name(served: SandboxThread, name: str) -> None:
    with handshake(served, name) as sock:
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_the_tls_listener_is_not_trusted_for_another_host(served: SandboxThread) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(served, "example.com")


def test_a_configured_domain_added_at_run_time_gets_a_certificate(served: SandboxThread) -> None:
    from sandbox.testing import WeChatSandbox

    sandbox = WeChatSandbox(served.url)
    sandbox.configure_account(oauth_domains=["shop.example.com"])
    try:
        with handshake(served, "shop.example.com") as sock:
            assert sock.version() is not None
    finally:
        sandbox.reset()


def test_the_tls_listener_negotiates_http_1_1(served: SandboxThread) -> None:
    context = ssl.create_default_context(cafile=str(served.ca_certificate))
    context.set_alpn_protocols(["h2", "http/1.1"])
    port = int(served.tls_url.rsplit(":", 1)[1])
    with context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="localhost"
    ) as sock:
        assert sock.selected_alpn_protocol() == "http/1.1"


def journal_last(server: SandboxThread) -> dict[str, object]:
    from sandbox.testing import WeChatSandbox

    sandbox = WeChatSandbox(server.url)
    sandbox.notifications()  # a round trip: the failed handshake has been handled by now
    return sandbox.journal()[-1]


def test_a_client_that_does_not_trust_the_ca_is_journaled(served: SandboxThread) -> None:
    port = int(served.tls_url.rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError):
        ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")
    raw.close()
    entry = journal_last(served)
    assert (entry["method"], entry["path"], entry["status"]) == ("TLS", f"127.0.0.1:{port}", 502)
    assert str(entry["diagnostic"]).endswith(f"(the client does not trust the sandbox's CA: {served.ca_certificate})")


def test_a_client_certificate_of_no_merchant_is_journaled(served: SandboxThread, tmp_path: Path) -> None:
    stranger = tls.LocalCA.load_or_create(tmp_path / "stranger")
    chain, key = stranger.issue(["stranger"])
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.create_default_context(cafile=str(served.ca_certificate))
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    port = int(served.tls_url.rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    answer = b"refused"
    try:  # TLS 1.3: the client learns of the refusal only when it reads (an alert, or the connection closed)
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(b"GET /_sandbox/api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = sock.recv(1)
    except (ssl.SSLError, ConnectionError):
        pass
    assert answer in (b"refused", b"")
    entry = journal_last(served)
    assert (entry["method"], entry["status"]) == ("TLS", 502)
    assert str(entry["diagnostic"]).endswith(
        "(the client presented a certificate of no merchant of this sandbox; WeChat's mutual TLS takes the "
        "merchant's API certificate, apiclient_cert.pem, from the console)"
    )


def test_stopping_closes_open_tls_connections(tmp_path: Path) -> None:
    import gc
    import warnings

    import requests

    server = SandboxThread(tls_port=0, ca_dir=tmp_path).start()
    session = requests.Session()
    session.get(f"{server.tls_url}/_sandbox/api/health", verify=str(server.ca_certificate), timeout=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        server.stop()
        gc.collect()
    session.close()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def stranger_context(served: SandboxThread, tmp_path: Path) -> ssl.SSLContext:
    chain, key = tls.LocalCA.load_or_create(tmp_path / "stranger").issue(["stranger"])
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.create_default_context(cafile=str(served.ca_certificate))
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def health_over(served: SandboxThread, context: ssl.SSLContext, name: str) -> bytes:
    port = int(served.tls_url.rsplit(":", 1)[1])
    try:
        with context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=name
        ) as sock:
            sock.sendall(f"GET /_sandbox/api/health HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(12)
    except (ssl.SSLError, ConnectionError):
        return b"refused"


def test_the_tls_listener_asks_for_a_client_certificate(served: SandboxThread, tmp_path: Path) -> None:
    assert health_over(served, stranger_context(served, tmp_path), "api.mch.weixin.qq.com") in (b"refused", b"")
