"""The stored schema's version: the migrations that bring an older store up to date, and the refusal of a newer one.

A migration is a function over the store's rows (through the `Store` interface, so one function serves every
backend); `MIGRATIONS[n]` brings version n + 1 to n + 2. Migrations are frozen history: each one spells out the
keys and fields as they were when it was written, never through today's code, which may change."""

from __future__ import annotations

from collections.abc import Callable

from mock_wechat.store.base import Store
from mock_wechat.store.errors import StoreVersionError

Migration = Callable[[Store], None]
UNVERSIONED = 1
"""A store with tables but no recorded version was made before versioning began: version 1."""


def index_native_codes(store: Store) -> None:
    """1 -> 2: a NATIVE order's code_url (`pr=` + the prepay_id's last 7 characters) finds its order through a
    `pr:` pointer, which new orders are given when made; orders made before have none, so their codes paid nothing."""
    for order in store.query("order"):
        if order.get("trade_type") == "NATIVE" and order.get("prepay_id"):
            mch_id = order["mch_id"]
            pointer = {"value": f"{mch_id}:{order['out_trade_no']}"}
            store.put("pay_index", "pr:" + order["prepay_id"][-7:], mch_id, pointer)


MIGRATIONS: tuple[Migration, ...] = (index_native_codes,)
CURRENT = len(MIGRATIONS) + 1


def found_version(recorded: int | None, tables_existed: bool) -> int:
    """The version a store is at: the one recorded; else 1 when its tables were there already (made before
    versioning began), or the current one when they were only now created."""
    if recorded is not None:
        return recorded
    return UNVERSIONED if tables_existed else CURRENT


def refuse_newer(found: int, where: str) -> None:
    """Raise `StoreVersionError` when `found` is newer than this code knows (checked before anything is written)."""
    if found > CURRENT:
        raise StoreVersionError(where, found, CURRENT)


def migrate(store: Store, found: int) -> None:
    """Bring `store`'s rows from version `found` to `CURRENT` (inside the caller's transaction)."""
    for step in MIGRATIONS[found - 1 :]:
        step(store)
