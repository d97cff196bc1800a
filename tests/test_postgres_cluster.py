"""The tests' throwaway PostgreSQL cluster: a new database for each test, and a failure (never a skip) without one."""

from __future__ import annotations

import psycopg
import pytest

from tests import postgres
from tests.postgres import Cluster


def test_each_database_is_new_and_empty(postgres_cluster: Cluster) -> None:
    first, second = postgres_cluster.create_database(), postgres_cluster.create_database()
    assert first != second
    with psycopg.connect(postgres_cluster.dsn(second)) as db:
        assert db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_the_cluster_also_listens_on_loopback(postgres_cluster: Cluster) -> None:
    with psycopg.connect(postgres_cluster.tcp_dsn()) as db:
        assert db.execute("SELECT inet_server_addr()::text").fetchone() == ("127.0.0.1/32",)


def test_a_missing_server_program_fails_the_test_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("glob.glob", lambda pattern: [])
    with pytest.raises(pytest.fail.Exception) as failed:
        postgres.binary("initdb")
    assert str(failed.value) == (
        "PostgreSQL's initdb is not installed; the PostgreSQL tests need it: run `bash scripts/ensure-postgres.sh` "
        "(Debian: apt-get install postgresql; macOS: brew install postgresql)"
    )
