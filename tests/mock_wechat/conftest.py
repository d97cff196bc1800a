"""Stores that outlive a connection, for the store's tests: a data dir's SQLite file, or a PostgreSQL database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_wechat.store import SQLiteStore, Store
from mock_wechat.store.dsn import masked


class Shared:
    """One store kept outside the process: call it for one more connection (each closed when the test ends);
    `sql` runs a statement beside the store, as another program (an older or newer sandbox) would."""

    def __init__(self, where: str, make: Callable[[], Store], sql: Callable[[str], list[tuple[Any, ...]]]) -> None:
        self.where = where
        """How the store names itself in messages."""
        self._make, self.sql = make, sql
        self.opened: list[Store] = []

    def __call__(self) -> Store:
        store = self._make()
        self.opened.append(store)
        return store


def _sqlite_sql(path: Path) -> Callable[[str], list[tuple[Any, ...]]]:
    def run(statement: str) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            return db.execute(statement).fetchall()
        finally:
            db.close()

    return run


def _postgres_sql(dsn: str) -> Callable[[str], list[tuple[Any, ...]]]:
    def run(statement: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as db:
            cursor = db.execute(statement.encode())
            return cursor.fetchall() if cursor.description is not None else []

    return run


@pytest.fixture(params=["sqlite", "postgresql"])
def open_shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shared]:
    """Each test runs once per backend that keeps its state outside the process."""
    if request.param == "postgresql":
        from mock_wechat.store.postgres import PostgresStore

        dsn: str = request.getfixturevalue("postgres_dsn")
        shared = Shared(f"the database {masked(dsn)}", lambda: PostgresStore(dsn), _postgres_sql(dsn))
    else:
        path = tmp_path / "state" / "sandbox.db"
        shared = Shared(str(path), lambda: SQLiteStore(path), _sqlite_sql(path))
    yield shared
    for store in shared.opened:
        store.close()
