"""What every store is: the narrow `Store` interface, its `Record`, and typed `Table` access to it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list})
"""Types of field that are never a dataclass (checked by identity: cheaper than `is_dataclass` on each)."""


@dataclass(frozen=True)
class Record:
    """One stored record as it is kept: what an export carries and an import puts back."""

    kind: str
    key: str
    owner: str
    expires_at: float | None
    data: dict[str, Any]


class Store(Protocol):
    """A narrow key-value interface per aggregate, so another backend can replace SQLite.

    `announce` tells the other processes on the same store that something outside the records changed (once the
    current write is committed); `listen` hears what they announce, in the loop. A store one process owns (memory,
    a data dir) has nobody to tell."""

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
    def defer_commits(self, loop: asyncio.AbstractEventLoop | None) -> None: ...
    async def committed(self) -> None: ...
    def announce(self, topic: str) -> None: ...
    def listen(self, hear: Callable[[str], None]) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


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
        """The record's fields as JSON takes them. A shallow copy: the store serialises (or copies) at once, so the
        deep copy `dataclasses.asdict` makes of every dict and list buys nothing; only a field holding a dataclass
        (nothing of the plain JSON types) still goes through asdict."""
        data = {name: getattr(value, name) for name in self._names}
        if all(type(v) in _PLAIN for v in data.values()):
            return data
        if any(dataclasses.is_dataclass(v) for v in data.values()):
            return dataclasses.asdict(value)  # type: ignore[call-overload,no-any-return]
        return data

    def delete(self, key: str) -> None:
        self._store.delete(self._kind, key)

    def query(self, owner: str | None = None) -> list[T]:
        return [self._cls(**d) for d in self._store.query(self._kind, owner)]
