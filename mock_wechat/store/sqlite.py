"""`Store` on SQLite (WAL) in a data dir, kept across restarts; or in SQLite's memory."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_wechat.store.base import Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
    expires_at REAL, data TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS records_owner ON records (kind, owner);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
"""


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
