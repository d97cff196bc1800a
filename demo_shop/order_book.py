"""Where the shop keeps its orders: a SQLite file that outlives a restart, or a database in memory."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

from demo_shop.state import Order, Product

SCHEMA = "CREATE TABLE IF NOT EXISTS orders (out_trade_no TEXT PRIMARY KEY, data TEXT NOT NULL)"


class OrderBook:
    """The shop's orders by `out_trade_no`, each written down whenever it changes, before the shop answers.

    So after a restart a link to an order still opens it, and a notification WeChat retries still finds the
    order it pays. The orders are also kept in a dict: every request works on the same `Order` objects, so a
    refund notification that arrives while the refund call is still out changes the order the call will save.
    """

    def __init__(self, path: Path | None = None) -> None:
        """`path` None: the same SQL, on a database that goes with the process (tests, `--in-memory`)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else path, isolation_level=None, check_same_thread=False)
        self._db.execute(SCHEMA)
        rows = self._db.execute("SELECT data FROM orders").fetchall()
        self._orders = {order.out_trade_no: order for order in (from_json(json.loads(data)) for (data,) in rows)}

    def get(self, out_trade_no: str) -> Order | None:
        return self._orders.get(out_trade_no)

    def all(self) -> list[Order]:
        return list(self._orders.values())

    def save(self, order: Order) -> None:
        """Write down a new order, or the one just changed (every change is committed when this returns)."""
        self._orders[order.out_trade_no] = order
        self._db.execute(
            "INSERT INTO orders (out_trade_no, data) VALUES (?, ?)"
            " ON CONFLICT (out_trade_no) DO UPDATE SET data = excluded.data",
            (order.out_trade_no, json.dumps(dataclasses.asdict(order), ensure_ascii=False)),
        )

    def close(self) -> None:
        self._db.close()


def from_json(data: dict[str, Any]) -> Order:
    """An order as `save` wrote it: its product is kept as it was sold, whatever the catalogue says today."""
    return Order(**{**data, "product": Product(**data["product"])})
