"""The one store of mutable state: SQLite (WAL) in a data dir, memory, or PostgreSQL shared by several processes
(`mock_wechat.store.postgres`, imported only when used: psycopg is optional); `Table` gives typed access to it."""

from mock_wechat.store.base import Pointer, Record, Store, Table
from mock_wechat.store.errors import StoreError, StoreUnavailable, StoreVersionError
from mock_wechat.store.memory import MemoryStore
from mock_wechat.store.sqlite import SQLiteStore

__all__ = [
    "MemoryStore",
    "Pointer",
    "Record",
    "SQLiteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoreVersionError",
    "Table",
]
