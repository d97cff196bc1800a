"""`wechat-sandbox serve` and its store: PostgreSQL by flag, variable or file; schema versions checked at start."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import psycopg
import pytest
import requests

from mock_wechat.store import schema
from sandbox import defaults
from tests.postgres import Cluster
from tests.sandbox.conftest import ServerFactory, run

PASSWORD = "s3cret"


@pytest.fixture
def dsn(postgres_cluster: Cluster) -> str:
    """A new database's URL with a password in it (the test cluster trusts local connections and ignores it)."""
    return postgres_cluster.dsn(postgres_cluster.create_database()).replace("postgres@", f"postgres:{PASSWORD}@", 1)


def shown(dsn: str) -> str:
    return dsn.replace(PASSWORD, "***")


def stored_token_owners(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as db:
        return [row[0] for row in db.execute("SELECT owner FROM records WHERE kind = 'access_token'")]


def get_token(base_url: str) -> None:
    params = {"grant_type": "client_credential", "appid": defaults.DEFAULT_APPID, "secret": defaults.DEFAULT_SECRET}
    assert "access_token" in requests.get(f"{base_url}/cgi-bin/token", params=params, timeout=10).json()


def test_serve_keeps_its_state_in_the_database_of_store(launch: ServerFactory, dsn: str) -> None:
    server = launch("--store", dsn)
    get_token(server.base_url)
    assert server.stop(signal.SIGTERM) == 0
    assert stored_token_owners(dsn) == [defaults.DEFAULT_APPID]


def test_serve_prints_the_store_without_its_password(launch: ServerFactory, dsn: str) -> None:
    server = launch("--store", dsn)
    assert server.stop(signal.SIGTERM) == 0
    assert f"  State: {shown(dsn)} (PostgreSQL)" in server.stdout
    assert PASSWORD not in server.text() + server.text("stderr")


def test_the_variable_chooses_the_database(launch: ServerFactory, dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_SANDBOX_STORE", dsn)
    server = launch()
    assert server.stop(signal.SIGTERM) == 0
    assert f"  State: {shown(dsn)} (PostgreSQL)" in server.stdout


def test_the_config_file_chooses_the_database(launch: ServerFactory, dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(f'[sandbox]\nstore = "{dsn}"\n', encoding="utf-8")
    server = launch("--config", str(path), cwd=tmp_path)
    assert server.stop(signal.SIGTERM) == 0
    assert f"  State: {shown(dsn)} (PostgreSQL)" in server.stdout
    assert list(tmp_path.iterdir()) == [path]  # no data dir made


def test_up_keeps_its_state_in_the_database_of_store(launch: ServerFactory, dsn: str) -> None:
    server = launch("--store", dsn, "--shop-port", "0", subcommand="up")
    get_token(server.base_url)
    assert server.stop(signal.SIGTERM) == 0
    assert stored_token_owners(dsn) == [defaults.DEFAULT_APPID]


@pytest.mark.parametrize("other", [["--in-memory"], ["--data-dir", "state"]])
def test_store_with_another_place_for_the_state_is_a_usage_error(other: list[str]) -> None:
    result = run("serve", "--store", "postgresql:///wechat", *other)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: wechat-sandbox serve")
    assert result.stderr.endswith(f"error: argument {other[0]}: not allowed with argument --store\n")


def test_an_unreachable_database_exits_2_with_one_line_without_its_password(tmp_path: Path) -> None:
    dsn = f"postgresql://sandbox:{PASSWORD}@/wechat?host={tmp_path}&port=1"
    result = run("serve", "--port", "0", "--store", dsn)
    assert result.returncode == 2
    assert result.stderr.startswith(f"wechat-sandbox: cannot connect to the database {shown(dsn)}: ")
    assert result.stderr.count("\n") == 1
    assert PASSWORD not in result.stderr
    assert result.stdout == ""


def test_a_data_dir_of_a_newer_sandbox_is_refused_with_exit_2(tmp_path: Path) -> None:
    made = sqlite3.connect(tmp_path / "state.sqlite3")
    made.executescript("CREATE TABLE records (kind TEXT, key TEXT); CREATE TABLE schema_version (version INTEGER);")
    made.execute("INSERT INTO schema_version VALUES (?)", (schema.CURRENT + 1,))
    made.commit()
    made.close()
    result = run("serve", "--port", "0", "--data-dir", str(tmp_path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"wechat-sandbox: {tmp_path / 'state.sqlite3'} has schema version {schema.CURRENT + 1}, but this "
        f"wechat-sandbox knows versions up to {schema.CURRENT}: upgrade wechat-sandbox, or use another data dir or "
        "database\n"
    )


def test_a_database_of_a_newer_sandbox_is_refused_with_exit_2(dsn: str) -> None:
    with psycopg.connect(dsn) as db:
        db.execute("CREATE TABLE records (kind text); CREATE TABLE schema_version (version integer)")
        db.execute("INSERT INTO schema_version VALUES (%s)", (schema.CURRENT + 1,))
    result = run("serve", "--port", "0", "--store", dsn)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"wechat-sandbox: the database {shown(dsn)} has schema version {schema.CURRENT + 1}, but this "
        f"wechat-sandbox knows versions up to {schema.CURRENT}: upgrade wechat-sandbox, or use another data dir or "
        "database\n"
    )


def test_a_data_dir_from_before_schema_versions_is_migrated_on_start(launch: ServerFactory, tmp_path: Path) -> None:
    first = launch("--data-dir", str(tmp_path))
    assert first.stop(signal.SIGTERM) == 0
    with sqlite3.connect(tmp_path / "state.sqlite3") as made:
        made.execute("DROP TABLE schema_version")
    second = launch("--data-dir", str(tmp_path))
    assert second.stop(signal.SIGTERM) == 0
    with sqlite3.connect(tmp_path / "state.sqlite3") as found:
        assert found.execute("SELECT version FROM schema_version").fetchall() == [(schema.CURRENT,)]
