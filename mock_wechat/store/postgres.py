"""`Store` on PostgreSQL (psycopg 3), shared by every sandbox process pointed at the same database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from mock_wechat.store import schema
from mock_wechat.store.base import Record
from mock_wechat.store.dsn import masked, scrubbed
from mock_wechat.store.errors import StoreUnavailable
from mock_wechat.store.waiters import Waiters

log = logging.getLogger("mock_wechat")

WRITE_LOCK = 0x7765_6368_6174
"""The advisory lock every write transaction takes first, so writers in every process take turns."""
CHANNEL = "wechat_sandbox"
"""What `announce` notifies and `listen` listens on."""
_LOCK = f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
_BEGIN = f"BEGIN; {_LOCK}"  # one round trip (no parameters: the simple protocol takes two statements)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind text NOT NULL, key text NOT NULL, owner text NOT NULL, expires_at double precision,
    data text NOT NULL, seq bigserial NOT NULL, PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS records_kind ON records (kind, seq);
CREATE INDEX IF NOT EXISTS records_owner ON records (kind, owner, seq);
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id bigint PRIMARY KEY, data text NOT NULL);
CREATE TABLE IF NOT EXISTS journal_last (id bigint NOT NULL);
INSERT INTO journal_last SELECT 0 WHERE NOT EXISTS (SELECT FROM journal_last);
CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);
"""
_PUT = (
    "INSERT INTO records (kind, key, owner, expires_at, data) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, "
    "data = excluded.data"
)
# The journal's ids come from a counter row, not a sequence: a rolled-back entry gives its id back (as SQLite's
# AUTOINCREMENT does), and under the write lock ids follow commit order.
_JOURNAL_APPEND = (
    "WITH n AS (UPDATE journal_last SET id = id + 1 RETURNING id) INSERT INTO journal (id, data) SELECT id, %s FROM n "
    "RETURNING id"
)


class PostgresStore:
    """`Store` on one PostgreSQL connection, the same records, order, expiry, journal and group commit as
    `SQLiteStore`. Outside a transaction the connection is in autocommit: a read sees what any process committed.
    Every write transaction first takes one advisory lock (`WRITE_LOCK`), so writers in all processes take turns:
    a read-modify-write in `transaction()` (paying an order) is safe across replicas. Writes are committed before
    the call returns, unless commits are deferred to a loop: then a loop turn's writes share one transaction (and
    the lock, for that turn), committed once; `committed()` waits for it."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.shown = masked(dsn)
        self._db = _connect(dsn)
        self._lock = threading.RLock()  # one connection: one thread's statement sequence at a time
        self._depth = 0
        self._savepoint = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._pending = False
        self._pipelining: AbstractContextManager[psycopg.Pipeline] | None = None
        self._pipeline: psycopg.Pipeline | None = None
        self._waiters = Waiters()
        self._listening: tuple[asyncio.AbstractEventLoop, psycopg.Connection[TupleRow]] | None = None
        try:
            self._open_schema()
        except BaseException:
            self._db.close()
            raise

    def _open_schema(self) -> None:
        """Refuse a newer store; create the tables, migrate an older store's rows and stamp, in one transaction
        under the write lock (processes starting at once take turns: one creates or migrates, the others see it)."""
        with self.transaction():
            row = self._db.execute("SELECT to_regclass('records'), to_regclass('schema_version')").fetchone()
            existed, versioned = (row is not None and row[0] is not None), (row is not None and row[1] is not None)
            recorded = self.schema_version() if versioned else None
            found = schema.found_version(recorded, existed)
            schema.refuse_newer(found, f"the database {self.shown}")
            self._db.execute(_SCHEMA)
            schema.migrate(self, found)
            if recorded != schema.CURRENT:
                self._db.execute("DELETE FROM schema_version")
                self._db.execute("INSERT INTO schema_version (version) VALUES (%s)", (schema.CURRENT,))

    def schema_version(self) -> int | None:
        """The recorded schema version (None when none is)."""
        with self._lock:
            self._ready()
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
        return None if row is None else int(row[0])

    def backend_pid(self) -> int:
        """The server process serving this store's connection."""
        return int(self._db.info.backend_pid)

    def _ready(self) -> None:
        """Connect again when the connection was lost (the server restarted, or ended it) and no transaction was
        open: the call that met the loss failed, the next one works."""
        if self._db.broken and not self._depth and not self._pending:
            log.warning("the connection to %s was lost; connecting again", self.shown)
            self._db = _connect(self.dsn)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so all or none of them happen (a savepoint inside the loop turn's batch); the write lock is
        taken first, so what the block reads no other process changes before it commits."""
        with self._lock:
            self._ready()
            if self._depth == 0:  # counted only once begun: a begin that fails leaves no block open
                self._savepoint = self._batch()
                self._db.execute("SAVEPOINT block" if self._savepoint else _BEGIN)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    if self._savepoint:
                        self._db.execute("ROLLBACK TO block")
                        self._db.execute("RELEASE block")
                    else:
                        self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("RELEASE block" if self._savepoint else "COMMIT")

    def _write(self, query: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor[TupleRow]:
        """Run one write: in the open transaction or batch, else in a transaction of its own, committed at once."""
        with self._lock:
            self._ready()
            if self._depth or self._batch():
                return self._db.execute(query, params)
            try:
                with self._db.pipeline():  # one round trip: begin, lock, write, commit
                    self._db.execute("BEGIN")
                    self._db.execute(_LOCK)
                    cursor = self._db.execute(query, params)
                    self._db.execute("COMMIT")
            except BaseException:
                if self._db.info.transaction_status != TransactionStatus.IDLE:
                    self._db.execute("ROLLBACK")
                raise
            return cursor

    # -- group commit --------------------------------------------------------------------------------

    def defer_commits(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """From now on, writes made in `loop`'s thread are committed together once per turn of the loop (in one
        transaction holding the write lock). None commits what is pending and goes back to one commit per write."""
        if loop is None:
            self._commit_batch()
        self._loop = loop
        self._loop_thread = None if loop is None else threading.get_ident()

    def _batch(self) -> bool:
        """Open this turn's batch if commits are deferred and this is the loop's thread; True when in a batch.

        A batch runs in psycopg's pipeline mode: a write is sent without waiting for its answer, so the writes
        between two reads share one round trip (a unified order's eight statements take three). A write that the
        server refuses (none should: values are checked before they are sent) fails the next read or the commit,
        and with it the turn's batch, as any failed statement aborts a PostgreSQL transaction."""
        if self._pending:
            return True
        if self._loop is None or threading.get_ident() != self._loop_thread or self._loop.is_closed():
            return False
        pipelining = self._db.pipeline()
        pipeline = pipelining.__enter__()
        try:
            self._db.execute("BEGIN")
            self._db.execute(_LOCK)
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                pipelining.__exit__(None, None, None)
            raise
        self._pipelining, self._pipeline, self._pending = pipelining, pipeline, True
        self._loop.call_soon(self._commit_batch)
        return True

    def _commit_batch(self) -> None:
        with self._lock:
            if not self._pending:
                return
            self._pending = False
            pipelining, self._pipelining, self._pipeline = self._pipelining, None, None
            try:
                try:
                    self._db.execute("COMMIT")
                finally:
                    if pipelining is not None:
                        pipelining.__exit__(None, None, None)  # sends what is queued and waits for every answer
            except psycopg.Error as exc:
                if self._db.info.transaction_status != TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        self._db.execute("ROLLBACK")
                log.error("a batch of writes could not be committed: %s", scrubbed(str(exc), self.dsn))
                self._waiters.settle(exc)
                return
        self._waiters.settle()

    async def committed(self) -> None:
        """Once every write made so far is committed (at once when none is pending); raises if the commit failed."""
        if not self._pending or self._loop is None:
            return
        await self._waiters.wait(self._loop)

    # -- other processes -----------------------------------------------------------------------------

    def announce(self, topic: str) -> None:
        """Tell the processes listening on this database `topic`, once the current write is committed."""
        with self._lock:  # inside a transaction or batch PostgreSQL delivers it at commit; else at once
            self._ready()
            self._db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, topic))

    def listen(self, hear: Callable[[str], None]) -> None:
        """Call `hear` in the running loop with each topic another process announces (on a second connection)."""
        loop = asyncio.get_running_loop()
        listener = _connect(self.dsn)
        listener.execute(f"LISTEN {CHANNEL}")
        own = self._db.info.backend_pid

        def readable() -> None:
            listener.pgconn.consume_input()
            while (note := listener.pgconn.notifies()) is not None:
                if note.be_pid != own:
                    hear(note.extra.decode())

        loop.add_reader(listener.fileno(), readable)
        self._listening = (loop, listener)

    # -- records -------------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            self._ready()
            row = self._db.execute("SELECT data FROM records WHERE kind = %s AND key = %s", (kind, key)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None:
        self._write(_PUT, (kind, key, owner, expires_at, json.dumps(data, ensure_ascii=False)))

    def delete(self, kind: str, key: str) -> None:
        self._write("DELETE FROM records WHERE kind = %s AND key = %s", (kind, key))

    def query(self, kind: str, owner: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            self._ready()
            if owner is None:
                rows = self._db.execute("SELECT data FROM records WHERE kind = %s ORDER BY seq", (kind,)).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT data FROM records WHERE kind = %s AND owner = %s ORDER BY seq", (kind, owner)
                ).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def records(self) -> list[Record]:
        """Every record, in the order they were first written."""
        with self._lock:
            self._ready()
            rows = self._db.execute("SELECT kind, key, owner, expires_at, data FROM records ORDER BY seq").fetchall()
        return [Record(r[0], r[1], r[2], r[3], dict(json.loads(r[4]))) for r in rows]

    def prune(self, before: float) -> int:
        """Drop records that expired before `before` (nothing expired is ever needed again)."""
        with self._lock:
            cursor = self._write("DELETE FROM records WHERE expires_at < %s", (before,))
            if self._pipeline is not None:
                self._pipeline.sync()  # in a batch the count comes with the answer, which is not awaited otherwise
            return cursor.rowcount

    def meta_get(self, name: str) -> str | None:
        with self._lock:
            self._ready()
            row = self._db.execute("SELECT value FROM meta WHERE name = %s", (name,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, name: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (name, value) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def journal_append(self, entry: dict[str, Any]) -> int:
        row = self._write(_JOURNAL_APPEND, (json.dumps(entry, ensure_ascii=False),)).fetchone()
        return int(row[0]) if row is not None else 0

    def journal_list(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            self._ready()
            rows = self._db.execute(
                "SELECT id, data FROM journal WHERE id > %s ORDER BY id LIMIT %s",
                (after, limit if limit >= 0 else None),
            ).fetchall()
        return [{"id": r[0], **json.loads(r[1])} for r in rows]

    def journal_recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        with self._lock:
            self._ready()
            rows = self._db.execute(
                "SELECT id, data FROM journal ORDER BY id DESC LIMIT %s", (limit if limit >= 0 else None,)
            ).fetchall()
        return [{"id": r[0], **json.loads(r[1])} for r in rows]

    def journal_trim(self, keep: int) -> None:
        self._write("DELETE FROM journal WHERE id <= (SELECT max(id) FROM journal) - %s", (keep,))

    def clear(self) -> None:
        with self.transaction():
            for table in ("records", "meta", "journal"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        if self._listening is not None:
            loop, listener = self._listening
            if not loop.is_closed():
                loop.remove_reader(listener.fileno())
            listener.close()
            self._listening = None
        if not self._db.closed:
            self._commit_batch()
            self._db.close()


def _connect(dsn: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection; a one-line error (its password masked) when the database cannot be reached."""
    try:
        return psycopg.connect(dsn, autocommit=True, application_name="wechat-sandbox")
    except psycopg.Error as exc:
        reason = scrubbed(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, dsn)
        raise StoreUnavailable(f"cannot connect to the database {masked(dsn)}: {reason}") from None
