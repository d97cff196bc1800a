"""The one store of mutable state: SQLite (WAL) in a data dir, or memory; `Table` gives typed access to it."""

from mock_wechat.store.base import Pointer, Record, Store, Table
from mock_wechat.store.memory import MemoryStore
from mock_wechat.store.sqlite import SQLiteStore

__all__ = ["MemoryStore", "Pointer", "Record", "SQLiteStore", "Store", "Table"]
