"""`Store` in the process's memory (`--in-memory` and tests): nothing touches a disk, nothing outlives the process."""

from __future__ import annotations

import asyncio
import bisect
import json
import marshal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from mock_wechat.store.base import Record

Undo = Callable[[], None]


_Row = tuple[int, str, float | None, bytes]
"""(seq, owner, expires_at, data): the insertion number that orders queries, then the record. A plain tuple of
atoms, which the garbage collector stops tracking (a NamedTuple it would walk on every full collection)."""
SEQ: Final = 0
OWNER: Final = 1
EXPIRES_AT: Final = 2
DATA: Final = 3


def _packed(data: dict[str, Any]) -> bytes:
    """A record as kept: marshal's bytes. They copy it (what a caller later changes never reaches the store, nor
    the other way round, as with SQLite), and they are one object the garbage collector never walks: a million
    orders kept as dicts made each full collection a pause of seconds."""
    try:
        return marshal.dumps(data)
    except ValueError:  # a str or int subclass (an enum member): kept as JSON would keep it
        return marshal.dumps(json.loads(json.dumps(data, ensure_ascii=False)))


_unpacked = marshal.loads


class MemoryStore:
    """The same records, order, expiry, transactions and journal as `SQLiteStore`, in dicts of marshalled records.

    A kind's records are kept in one dict in insertion order (an update keeps its place, as SQLite's upsert keeps
    the rowid); an owner index answers `query(kind, owner)` without reading the rest; records with an expiry are
    also listed apart, so `prune` reads only those. A transaction keeps an undo list and plays it back when the
    block raises."""

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, _Row]] = {}
        self._owners: dict[tuple[str, str], dict[str, None]] = {}
        self._expiring: dict[tuple[str, str], float] = {}
        self._meta: dict[str, str] = {}
        self._journal_ids: list[int] = []
        self._journal: list[bytes] = []
        self._last_journal_id = 0
        self._seq = 0
        self._undo: list[Undo] | None = None

    # -- transactions --------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or none of the writes in the block (nested blocks join the outer one)."""
        if self._undo is not None:
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            undo, self._undo = self._undo, None
            for step in reversed(undo):
                step()
            raise
        self._undo = None

    def _remember(self, step: Undo) -> None:
        if self._undo is not None:
            self._undo.append(step)

    # -- records -------------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._kinds.get(kind, {}).get(key)
        return None if row is None else _unpacked(row[DATA])

    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None:
        rows = self._kinds.setdefault(kind, {})
        old = rows.get(key)
        if old is None:
            self._seq += 1
            seq = self._seq
        else:
            seq = old[SEQ]
        self._set(kind, key, old, (seq, owner, expires_at, _packed(data)))
        self._remember(lambda: self._set(kind, key, rows.get(key), old))

    def delete(self, kind: str, key: str) -> None:
        old = self._kinds.get(kind, {}).get(key)
        if old is not None:
            self._set(kind, key, old, None)
            self._remember(lambda: self._set(kind, key, None, old))

    def _set(self, kind: str, key: str, old: _Row | None, new: _Row | None) -> None:
        """Replace `old` (the row now at kind/key, or None) by `new` (None deletes), indexes included."""
        rows = self._kinds.setdefault(kind, {})
        if old is not None and (new is None or new[OWNER] != old[OWNER]):
            owned = self._owners.get((kind, old[OWNER]))
            if owned is not None:
                owned.pop(key, None)
        if new is None:
            rows.pop(key, None)
            self._expiring.pop((kind, key), None)
            return
        moved_back = old is None and bool(rows) and new[SEQ] < next(reversed(rows.values()))[SEQ]
        rows[key] = new
        if moved_back:  # a rolled-back delete: the row takes its old place again, as its rowid would
            ordered = sorted(rows.items(), key=lambda item: item[1][SEQ])
            rows.clear()
            rows.update(ordered)
        self._owners.setdefault((kind, new[OWNER]), {})[key] = None
        if new[EXPIRES_AT] is None:
            self._expiring.pop((kind, key), None)
        else:
            self._expiring[(kind, key)] = new[EXPIRES_AT]

    def query(self, kind: str, owner: str | None = None) -> list[dict[str, Any]]:
        rows = self._kinds.get(kind, {})
        if owner is None:
            return [_unpacked(row[DATA]) for row in rows.values()]
        found = sorted((rows[key] for key in self._owners.get((kind, owner), {})), key=lambda row: row[SEQ])
        return [_unpacked(row[DATA]) for row in found]

    def records(self) -> list[Record]:
        """Every record, in the order they were first written."""
        every = sorted(
            ((kind, key, row) for kind, rows in self._kinds.items() for key, row in rows.items()),
            key=lambda item: item[2][SEQ],
        )
        return [Record(kind, key, row[OWNER], row[EXPIRES_AT], _unpacked(row[DATA])) for kind, key, row in every]

    def prune(self, before: float) -> int:
        """Drop records that expired before `before` (only the records with an expiry are read)."""
        gone = [place for place, expires_at in self._expiring.items() if expires_at < before]
        for kind, key in gone:
            self.delete(kind, key)
        return len(gone)

    # -- meta ----------------------------------------------------------------------------------------

    def meta_get(self, name: str) -> str | None:
        return self._meta.get(name)

    def meta_set(self, name: str, value: str) -> None:
        old = self._meta.get(name)
        self._meta[name] = value
        self._remember(lambda: self._meta_back(name, old))

    def _meta_back(self, name: str, old: str | None) -> None:
        if old is None:
            self._meta.pop(name, None)
        else:
            self._meta[name] = old

    # -- journal -------------------------------------------------------------------------------------

    def journal_append(self, entry: dict[str, Any]) -> int:
        self._last_journal_id += 1
        self._journal_ids.append(self._last_journal_id)
        self._journal.append(_packed(entry))
        self._remember(self._journal_pop)
        return self._last_journal_id

    def _journal_pop(self) -> None:
        self._journal_ids.pop()
        self._journal.pop()
        self._last_journal_id -= 1

    def journal_list(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        start = bisect.bisect_right(self._journal_ids, after)
        end = len(self._journal) if limit < 0 else start + limit
        pairs = zip(self._journal_ids[start:end], self._journal[start:end], strict=True)
        return [{"id": i, **_unpacked(e)} for i, e in pairs]

    def journal_recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        start = max(len(self._journal) - limit, 0) if limit >= 0 else 0
        pairs = zip(self._journal_ids[start:], self._journal[start:], strict=True)
        return [{"id": i, **_unpacked(e)} for i, e in reversed(list(pairs))]

    def journal_trim(self, keep: int) -> None:
        drop = max(len(self._journal) - keep, 0)
        if drop:
            del self._journal_ids[:drop], self._journal[:drop]

    # -- the whole -----------------------------------------------------------------------------------

    def clear(self) -> None:
        if self._undo is not None:
            saved = self._saved()
            self._remember(lambda: self._restore(saved))
        self._kinds = {}
        self._owners = {}
        self._expiring = {}
        self._meta = {}
        self._journal_ids = []
        self._journal = []

    def _saved(self) -> tuple[Any, ...]:
        return (self._kinds, self._owners, self._expiring, self._meta, self._journal_ids, self._journal)

    def _restore(self, saved: tuple[Any, ...]) -> None:
        self._kinds, self._owners, self._expiring, self._meta, self._journal_ids, self._journal = saved

    def defer_commits(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Nothing to commit: every write is there at once."""

    def announce(self, topic: str) -> None:
        """Only this process uses the store: nobody else to tell."""

    def listen(self, hear: Callable[[str], None]) -> None:
        """Only this process uses the store: nothing to hear."""

    async def committed(self) -> None:
        """Every write is there at once."""

    def close(self) -> None:
        """Nothing to release."""
