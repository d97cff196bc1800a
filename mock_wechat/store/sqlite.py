"""`Store` on SQLite (WAL) in a data dir, kept across restarts; or in SQLite's memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_wechat.store import schema
from mock_wechat.store.base import Record
from mock_wechat.store.waiters import Waiters

log = logging.getLogger("mock_wechat")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,
    expires_at REAL, data TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS records_owner ON records (kind, owner);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
"""


class SQLiteStore:
    """`Store` on stdlib sqlite3. Every write is committed before the call returns, unless commits are deferred to
    a loop (`defer_commits`): then the writes of one turn of the loop share one commit, and `committed()` waits
    for it (the middleware awaits it before an answer leaves, so nothing answered is lost to kill -9)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._depth = 0
        self._savepoint = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._pending = False
        self._waiters = Waiters()
        try:
            self._open_schema("an in-memory store" if path is None else str(path))
        except BaseException:
            self._db.close()
            raise

    def _open_schema(self, where: str) -> None:
        """Refuse a newer store; create the tables, migrate an older store's rows and stamp, in one transaction."""
        with self.transaction():
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            recorded = self.schema_version() if "schema_version" in tables else None
            found = schema.found_version(recorded, "records" in tables)
            schema.refuse_newer(found, where)
            for statement in filter(str.strip, _SCHEMA.split(";")):  # not executescript: it would commit
                self._db.execute(statement)
            schema.migrate(self, found)
            if recorded != schema.CURRENT:
                self._db.execute("DELETE FROM schema_version")
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (schema.CURRENT,))

    def schema_version(self) -> int | None:
        """The recorded schema version (None when none is)."""
        row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return None if row is None else int(row[0])

    @classmethod
    def in_memory(cls) -> SQLiteStore:
        return cls(None)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so a crash leaves all or none of them (a savepoint inside the loop turn's batch)."""
        if self._depth == 0:  # counted only once begun: a begin that fails (database locked) leaves no block open
            self._savepoint = self._batch()
            self._db.execute("SAVEPOINT block" if self._savepoint else "BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("ROLLBACK TO block" if self._savepoint else "ROLLBACK")
                if self._savepoint:
                    self._db.execute("RELEASE block")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._db.execute("RELEASE block" if self._savepoint else "COMMIT")

    # -- group commit --------------------------------------------------------------------------------

    def defer_commits(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """From now on, writes made in `loop`'s thread are committed together once per turn of the loop. A commit
        with one small write costs ~60 us here, four writes without one ~50 us; a unified order made three. None
        commits what is pending and goes back to one commit per write."""
        if loop is None:
            self._commit_batch()
        self._loop = loop
        self._loop_thread = None if loop is None else threading.get_ident()

    def _batch(self) -> bool:
        """Open this turn's batch if commits are deferred and this is the loop's thread; True when in a batch."""
        if self._pending:
            return True
        if self._loop is None or threading.get_ident() != self._loop_thread or self._loop.is_closed():
            return False
        self._db.execute("BEGIN IMMEDIATE")
        self._pending = True
        self._loop.call_soon(self._commit_batch)
        return True

    def _commit_batch(self) -> None:
        if not self._pending:
            return
        self._pending = False
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            log.error("a batch of writes could not be committed: %s", exc)
            self._waiters.settle(exc)
            return
        self._waiters.settle()

    def announce(self, topic: str) -> None:
        """Only this process uses the store: nobody else to tell."""

    def listen(self, hear: Callable[[str], None]) -> None:
        """Only this process uses the store: nothing to hear."""

    async def committed(self) -> None:
        """Once every write made so far is committed (at once when none is pending); raises if the commit failed."""
        if not self._pending or self._loop is None:
            return
        await self._waiters.wait(self._loop)

    # -- records -------------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None:
        self._batch()
        # An upsert, not INSERT OR REPLACE: the row keeps its rowid, so queries keep insertion order.
        self._db.execute(
            "INSERT INTO records (kind, key, owner, expires_at, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET owner=excluded.owner, expires_at=excluded.expires_at, "
            "data=excluded.data",
            (kind, key, owner, expires_at, json.dumps(data, ensure_ascii=False)),
        )

    def delete(self, kind: str, key: str) -> None:
        self._batch()
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
        self._batch()
        cur = self._db.execute("DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?", (before,))
        return cur.rowcount

    def meta_get(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, name: str, value: str) -> None:
        self._batch()
        self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def journal_append(self, entry: dict[str, Any]) -> int:
        self._batch()
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
        self._batch()
        self._db.execute("DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?", (keep,))

    def clear(self) -> None:
        with self.transaction():
            for table in ("records", "meta", "journal"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        self._commit_batch()
        self._db.close()
