"""The one store of mutable state: SQLite (WAL) on disk, or in memory for tests."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
    expires_at REAL, data TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS records_owner ON records (kind, owner);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Record:
    """One stored record as it is kept: what an export carries and an import puts back."""

    kind: str
    key: str
    owner: str
    expires_at: float | None
    data: dict[str, Any]


class Store(Protocol):
    """A narrow key-value interface per aggregate, so another backend can replace SQLite."""

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...
    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None: ...
    def delete(self, kind: str, key: str) -> None: ...
    def query(self, kind: str, owner: str | None = None) -> list[dict[str, Any]]: ...
    def records(self) -> list[Record]: ...
    def prune(self, before: float) -> int: ...
    def meta_get(self, name: str) -> str | None: ...
    def meta_set(self, name: str, value: str) -> None: ...
    def journal_append(self, entry: dict[str, Any]) -> int: ...
    def journal_list(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...
    def journal_recent(self, limit: int) -> list[dict[str, Any]]: ...
    def journal_trim(self, keep: int) -> None: ...
    def transaction(self) -> Any: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class SQLiteStore:
    """`Store` on stdlib sqlite3; every write is committed before the call returns."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    @classmethod
    def in_memory(cls) -> SQLiteStore:
        return cls(None)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so a crash leaves all or none of them."""
        self._depth += 1
        if self._depth == 1:
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._db.execute("COMMIT")

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None:
        # An upsert, not INSERT OR REPLACE: the row keeps its rowid, so queries keep insertion order.
        self._db.execute(
            "INSERT INTO records (kind, key, owner, expires_at, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET owner=excluded.owner, expires_at=excluded.expires_at, "
            "data=excluded.data",
            (kind, key, owner, expires_at, json.dumps(data, ensure_ascii=False)),
        )

    def delete(self, kind: str, key: str) -> None:
        self._db.execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key))

    def query(self, kind: str, owner: str | None = None) -> list[dict[str, Any]]:
        if owner is None:
            rows = self._db.execute("SELECT data FROM records WHERE kind=? ORDER BY rowid", (kind,))
        else:
            rows = self._db.execute("SELECT data FROM records WHERE kind=? AND owner=? ORDER BY rowid", (kind, owner))
        return [dict(json.loads(r[0])) for r in rows]

    def records(self) -> list[Record]:
        """Every record, in the order they were first written."""
        rows = self._db.execute("SELECT kind, key, owner, expires_at, data FROM records ORDER BY rowid")
        return [Record(r[0], r[1], r[2], r[3], dict(json.loads(r[4]))) for r in rows]

    def prune(self, before: float) -> int:
        """Drop records that expired before `before` (nothing expired is ever needed again)."""
        cur = self._db.execute("DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?", (before,))
        return cur.rowcount

    def meta_get(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, name: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def journal_append(self, entry: dict[str, Any]) -> int:
        cur = self._db.execute("INSERT INTO journal (data) VALUES (?)", (json.dumps(entry, ensure_ascii=False),))
        return int(cur.lastrowid or 0)

    def journal_list(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, data FROM journal WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        ).fetchall()
        return [{"id": r[0], **json.loads(r[1])} for r in rows]

    def journal_recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        rows = self._db.execute("SELECT id, data FROM journal ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [{"id": r[0], **json.loads(r[1])} for r in rows]

    def journal_trim(self, keep: int) -> None:
        self._db.execute("DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?", (keep,))

    def clear(self) -> None:
        with self.transaction():
            for table in ("records", "meta", "journal"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class Pointer:
    """A record that names another (the current token of an appid, the order of a prepay_id)."""

    value: str


class Table(Generic[T]):
    """Typed access to one aggregate (a frozen dataclass) in the store."""

    def __init__(self, store: Store, cls: type[T], kind: str) -> None:
        self._store, self._cls, self._kind = store, cls, kind
        self._names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    def get(self, key: str) -> T | None:
        data = self._store.get(self._kind, key)
        return None if data is None else self._cls(**data)

    def put(self, key: str, owner: str, value: T, expires_at: float | None = None) -> None:
        self._store.put(self._kind, key, owner, self._data(value), expires_at)

    def _data(self, value: T) -> dict[str, Any]:
        """The record's fields as JSON takes them. A shallow copy: the store serialises at once, so the deep
        copy `dataclasses.asdict` makes of every dict and list (a third of a unified order's time) buys nothing;
        a field holding a dataclass still goes through asdict."""
        data = {name: getattr(value, name) for name in self._names}
        if any(dataclasses.is_dataclass(v) for v in data.values()):
            return dataclasses.asdict(value)  # type: ignore[call-overload,no-any-return]
        return data

    def delete(self, key: str) -> None:
        self._store.delete(self._kind, key)

    def query(self, owner: str | None = None) -> list[T]:
        return [self._cls(**d) for d in self._store.query(self._kind, owner)]
