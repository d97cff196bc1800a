"""Stores that outlive a connection, for the store's tests: a data dir's SQLite file, or a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mock_wechat.store import SQLiteStore, Store

Opener = Callable[[], Store]
"""Opens one more connection to the same store (each is closed when the test ends)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def open_shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Each test runs once per backend that keeps its state outside the process."""
    opened: list[Store] = []
    if request.param == "postgresql":
        from mock_wechat.store.postgres import PostgresStore

        dsn: str = request.getfixturevalue("postgres_dsn")

        def make() -> Store:
            return PostgresStore(dsn)
    else:

        def make() -> Store:
            return SQLiteStore(tmp_path / "state" / "sandbox.db")

    def open_one() -> Store:
        store = make()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()
