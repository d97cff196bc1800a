"""`wechat-sandbox ca` and `--tls-port`: the real command, as a developer runs it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import pkcs12

from sandbox import tls
from tests.sandbox.conftest import ServerFactory, run
from tests.sandbox.test_cli import stop_promptly


def test_ca_prints_the_path_of_the_ca_it_made(tmp_path: Path) -> None:
    result = run("ca", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{(tmp_path / 'data' / tls.CA_FILE).resolve()}\n"
    assert (tmp_path / "data" / tls.CA_FILE).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert result.stderr == ""


def test_ca_prints_the_same_ca_again(tmp_path: Path) -> None:
    run("ca", "--data-dir", str(tmp_path))
    made = (tmp_path / tls.CA_FILE).read_bytes()
    assert run("ca", "--data-dir", str(tmp_path)).returncode == 0
    assert (tmp_path / tls.CA_FILE).read_bytes() == made


def test_ca_defaults_to_the_data_dir_in_the_working_directory(tmp_path: Path) -> None:
    result = run("ca", cwd=tmp_path)
    assert result.stdout == f"{(tmp_path / '.wechat-sandbox' / tls.CA_FILE).resolve()}\n"


def test_ca_in_memory_is_kept_in_the_cache_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = run("ca", "--in-memory")
    assert result.stdout == f"{(tmp_path / 'cache' / 'wechat-sandbox' / tls.CA_FILE).resolve()}\n"


def test_ca_writes_a_java_truststore_of_the_ca(tmp_path: Path) -> None:
    store = tmp_path / "truststore.p12"
    result = run("ca", "--data-dir", str(tmp_path), "--java-truststore", str(store))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{(tmp_path / tls.CA_FILE).resolve()}\n"
    assert result.stderr == (
        f"Java truststore: {store.resolve()} (PKCS12, password changeit): -Djavax.net.ssl.trustStore={store.resolve()} "
        "-Djavax.net.ssl.trustStorePassword=changeit\n"
    )
    loaded = pkcs12.load_pkcs12(store.read_bytes(), b"changeit")
    assert len(loaded.additional_certs) == 1


def test_ca_says_why_a_truststore_cannot_be_written(tmp_path: Path) -> None:
    result = run("ca", "--data-dir", str(tmp_path), "--java-truststore", str(tmp_path / "no" / "such" / "t.p12"))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"wechat-sandbox: cannot write {tmp_path / 'no' / 'such' / 't.p12'}: No such file or directory\n"
    )


def test_ca_says_what_to_do_with_a_damaged_ca(tmp_path: Path) -> None:
    (tmp_path / tls.CA_KEY_FILE).write_text("garbage")
    result = run("ca", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert f"delete {tls.CA_FILE} and {tls.CA_KEY_FILE} there to make a new one" in result.stderr
    assert "Traceback" not in result.stderr


def test_ca_help_names_its_options() -> None:
    result = run("ca", "--help")
    assert result.returncode == 0
    for option in ("--data-dir", "--in-memory", "--java-truststore"):
        assert option in result.stdout


def test_tls_port_prints_the_tls_lines_after_the_first(launch: ServerFactory, tmp_path: Path) -> None:
    server = launch("--data-dir", str(tmp_path), "--tls-port", "0")
    assert server.read_line() is not None
    assert server.read_line() is not None  # the two lines after the first have arrived
    first, second, third = server.stdout[:3]
    assert first.startswith("WeChat sandbox listening on http://127.0.0.1:")
    assert second.startswith("WeChat sandbox TLS listening on https://127.0.0.1:")
    assert third == f"  CA certificate: {(tmp_path / tls.CA_FILE).resolve()}"
    tls_url = second.removeprefix("WeChat sandbox TLS listening on ")
    health = requests.get(f"{tls_url}/_sandbox/api/health", timeout=10, verify=str(tmp_path / tls.CA_FILE)).json()
    assert health["tls_url"] == tls_url
    assert health["ca_certificate"] == str((tmp_path / tls.CA_FILE).resolve())
    stop_promptly(server, signal.SIGTERM)


def test_up_takes_the_tls_port_too(launch: ServerFactory, tmp_path: Path) -> None:
    server = launch("--data-dir", str(tmp_path), "--tls-port", "0", "--shop-port", "0", subcommand="up")
    lines = [server.read_line() for _ in range(3)]
    assert str(lines[0]).startswith("WeChat sandbox TLS listening on https://127.0.0.1:")
    assert lines[1] == f"  CA certificate: {(tmp_path / tls.CA_FILE).resolve()}"
    assert str(lines[2]).startswith("Demo shop listening on http://127.0.0.1:")
    stop_promptly(server, signal.SIGTERM)


def test_without_tls_port_nothing_about_tls_is_printed_or_made(launch: ServerFactory, tmp_path: Path) -> None:
    server = launch("--data-dir", str(tmp_path))
    assert server.read_line() is not None
    stop_promptly(server, signal.SIGTERM)
    assert "TLS" not in server.text()
    assert not (tmp_path / tls.CA_FILE).exists()
