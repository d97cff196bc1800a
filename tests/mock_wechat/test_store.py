"""The store contract, on every backend (SQLite, memory and PostgreSQL): records, expiry pruning, transactions,
meta, the journal and `Table`; what a store kept outside the process adds (other connections, group commit); and
what only SQLite's data dir adds (files, write-ahead logging)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_wechat.pay.orders import Api
from mock_wechat.store import MemoryStore, SQLiteStore, Store, Table
from tests.mock_wechat.conftest import Shared


@dataclass(frozen=True)
class Thing:
    name: str
    size: int
    tags: list[str]
    parent: str | None = None


class Boom(Exception):
    pass


def fail_inside(store: Store, work: Callable[[], object]) -> None:
    """`work` in a transaction that then raises."""
    with store.transaction():
        work()
        raise Boom


@pytest.fixture(params=["sqlite", "memory", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each contract test runs once per backend (PostgreSQL: a new database of the session's cluster)."""
    if request.param == "postgresql":
        from mock_wechat.store.postgres import PostgresStore

        made: Store = PostgresStore(request.getfixturevalue("postgres_dsn"))
    else:
        made = SQLiteStore.in_memory() if request.param == "sqlite" else MemoryStore()
    yield made
    made.close()


# -- records -----------------------------------------------------------------------------------------


def test_get_returns_what_put_stored(store: Store) -> None:
    store.put("thing", "k1", "wxA", {"a": 1, "b": "二", "c": [1, 2], "d": None})
    assert store.get("thing", "k1") == {"a": 1, "b": "二", "c": [1, 2], "d": None}


def test_get_of_missing_record_is_none(store: Store) -> None:
    assert store.get("thing", "missing") is None


def test_keys_are_scoped_by_kind(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1})
    store.put("other", "k", "wxA", {"v": 2})
    assert store.get("thing", "k") == {"v": 1}
    assert store.get("other", "k") == {"v": 2}


def test_put_replaces_a_record_with_the_same_key(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1})
    store.put("thing", "k", "wxA", {"v": 2})
    assert store.get("thing", "k") == {"v": 2}
    assert store.query("thing") == [{"v": 2}]


def test_delete_removes_the_record(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1})
    store.delete("thing", "k")
    assert store.get("thing", "k") is None


def test_delete_of_missing_record_is_a_no_op(store: Store) -> None:
    store.delete("thing", "missing")
    assert store.query("thing") == []


def test_query_lists_a_kind_in_insertion_order(store: Store) -> None:
    for i in range(3):
        store.put("thing", f"k{i}", "wxA", {"i": i})
    store.put("other", "x", "wxA", {"i": 99})
    assert store.query("thing") == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_query_filters_by_owner(store: Store) -> None:
    store.put("thing", "a", "wxA", {"v": "a"})
    store.put("thing", "b", "wxB", {"v": "b"})
    store.put("thing", "c", "wxA", {"v": "c"})
    assert store.query("thing", "wxA") == [{"v": "a"}, {"v": "c"}]
    assert store.query("thing", "wxC") == []


def test_records_meta_and_journal_outlive_the_connection(open_shared: Shared) -> None:
    first = open_shared()
    first.put("thing", "k", "wxA", {"v": "持久"}, expires_at=123.0)
    first.meta_set("boot", "3")
    first.journal_append({"path": "/cgi-bin/token"})
    first.close()
    second = open_shared()
    assert second.get("thing", "k") == {"v": "持久"}
    assert second.meta_get("boot") == "3"
    assert second.journal_list() == [{"id": 1, "path": "/cgi-bin/token"}]


def test_file_store_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sandbox.db"
    store = SQLiteStore(path)
    store.close()
    assert path.exists()


def test_file_store_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    store = SQLiteStore(path)
    store.put("thing", "k", "wxA", {"v": 1})
    try:
        assert (tmp_path / "sandbox.db-wal").exists()
    finally:
        store.close()


def test_a_write_is_visible_to_another_connection_at_once(open_shared: Shared) -> None:
    writer, reader = open_shared(), open_shared()
    writer.put("thing", "k", "wxA", {"v": 1})
    assert reader.get("thing", "k") == {"v": 1}


# -- prune -------------------------------------------------------------------------------------------


def test_prune_drops_only_records_expired_before_the_cut(store: Store) -> None:
    store.put("thing", "old", "wxA", {"v": "old"}, expires_at=99.0)
    store.put("thing", "edge", "wxA", {"v": "edge"}, expires_at=100.0)
    store.put("thing", "new", "wxA", {"v": "new"}, expires_at=101.0)
    store.put("thing", "forever", "wxA", {"v": "forever"})
    assert store.prune(100.0) == 1
    assert store.get("thing", "old") is None
    assert [r["v"] for r in store.query("thing")] == ["edge", "new", "forever"]


def test_prune_never_drops_records_without_expiry(store: Store) -> None:
    store.put("thing", "forever", "wxA", {"v": 1})
    assert store.prune(1e12) == 0
    assert store.get("thing", "forever") == {"v": 1}


def test_prune_leaves_meta_and_journal_alone(store: Store) -> None:
    store.meta_set("name", "value")
    store.journal_append({"n": 1})
    store.prune(1e12)
    assert store.meta_get("name") == "value"
    assert len(store.journal_list()) == 1


# -- transactions ------------------------------------------------------------------------------------


def test_transaction_commits_its_writes(store: Store) -> None:
    with store.transaction():
        store.put("thing", "a", "wxA", {"v": 1})
        store.put("thing", "b", "wxA", {"v": 2})
    assert len(store.query("thing")) == 2


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    store.put("thing", "kept", "wxA", {"v": 0})

    def work() -> None:
        with store.transaction():
            store.put("thing", "a", "wxA", {"v": 1})
            store.delete("thing", "kept")
            raise Boom

    with pytest.raises(Boom):
        work()
    assert store.get("thing", "a") is None
    assert store.get("thing", "kept") == {"v": 0}


def test_nested_transaction_failure_rolls_back_the_outer_one(store: Store) -> None:
    def work() -> None:
        with store.transaction():
            store.put("thing", "outer", "wxA", {"v": 1})
            with store.transaction():
                store.put("thing", "inner", "wxA", {"v": 2})
                raise Boom

    with pytest.raises(Boom):
        work()
    assert store.query("thing") == []


def test_nested_transaction_commits_with_the_outer_one(store: Store) -> None:
    with store.transaction():
        store.put("thing", "outer", "wxA", {"v": 1})
        with store.transaction():
            store.put("thing", "inner", "wxA", {"v": 2})
    assert len(store.query("thing")) == 2


def test_store_is_usable_after_a_rolled_back_transaction(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        raise Boom
    with store.transaction():
        store.put("thing", "k", "wxA", {"v": 1})
    assert store.get("thing", "k") == {"v": 1}


def test_rolled_back_writes_are_gone_for_the_next_connection(open_shared: Shared) -> None:
    first = open_shared()
    with pytest.raises(Boom):
        fail_inside(first, lambda: first.put("thing", "k", "wxA", {"v": 1}))
    first.close()
    assert open_shared().get("thing", "k") is None


# -- meta --------------------------------------------------------------------------------------------


def test_meta_get_of_unset_name_is_none(store: Store) -> None:
    assert store.meta_get("nothing") is None


def test_meta_set_replaces_the_value(store: Store) -> None:
    store.meta_set("boot", "1")
    store.meta_set("boot", "2")
    assert store.meta_get("boot") == "2"


# -- journal -----------------------------------------------------------------------------------------


def test_journal_append_returns_increasing_ids(store: Store) -> None:
    ids = [store.journal_append({"n": i}) for i in range(3)]
    assert ids == [1, 2, 3]


def test_journal_list_returns_entries_with_their_ids(store: Store) -> None:
    store.journal_append({"path": "/sns/userinfo", "status": 200, "note": "爱丽丝"})
    assert store.journal_list() == [{"id": 1, "path": "/sns/userinfo", "status": 200, "note": "爱丽丝"}]


def test_journal_list_after_skips_older_entries(store: Store) -> None:
    for i in range(5):
        store.journal_append({"n": i})
    assert [e["n"] for e in store.journal_list(after=3)] == [3, 4]


def test_journal_list_limit_caps_the_entries(store: Store) -> None:
    for i in range(5):
        store.journal_append({"n": i})
    assert [e["id"] for e in store.journal_list(after=1, limit=2)] == [2, 3]


def test_journal_trim_keeps_the_newest_entries(store: Store) -> None:
    for i in range(5):
        store.journal_append({"n": i})
    store.journal_trim(2)
    assert [e["id"] for e in store.journal_list()] == [4, 5]


def test_journal_trim_with_fewer_entries_keeps_them_all(store: Store) -> None:
    store.journal_append({"n": 0})
    store.journal_trim(10)
    assert len(store.journal_list()) == 1


def test_journal_ids_keep_increasing_after_trim(store: Store) -> None:
    for i in range(3):
        store.journal_append({"n": i})
    store.journal_trim(0)
    assert store.journal_list() == []
    assert store.journal_append({"n": 3}) == 4


# -- clear -------------------------------------------------------------------------------------------


def test_clear_empties_records_meta_and_journal(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1})
    store.meta_set("boot", "1")
    store.journal_append({"n": 1})
    store.clear()
    assert store.get("thing", "k") is None
    assert store.meta_get("boot") is None
    assert store.journal_list() == []


# -- Table -------------------------------------------------------------------------------------------


def test_table_round_trips_a_dataclass(store: Store) -> None:
    things = Table(store, Thing, "thing")
    things.put("t1", "wxA", Thing("一", 3, ["x", "y"], "root"))
    assert things.get("t1") == Thing("一", 3, ["x", "y"], "root")


def test_table_get_of_missing_key_is_none(store: Store) -> None:
    assert Table(store, Thing, "thing").get("missing") is None


def test_table_query_filters_by_owner(store: Store) -> None:
    things = Table(store, Thing, "thing")
    things.put("a", "wxA", Thing("a", 1, []))
    things.put("b", "wxB", Thing("b", 2, []))
    assert things.query("wxB") == [Thing("b", 2, [])]
    assert [t.name for t in things.query()] == ["a", "b"]


def test_table_put_with_expiry_is_pruned(store: Store) -> None:
    things = Table(store, Thing, "thing")
    things.put("a", "wxA", Thing("a", 1, []), expires_at=10.0)
    store.prune(11.0)
    assert things.get("a") is None


def test_table_delete_removes_the_record(store: Store) -> None:
    things = Table(store, Thing, "thing")
    things.put("a", "wxA", Thing("a", 1, []))
    things.delete("a")
    assert things.get("a") is None


def test_tables_of_different_kinds_do_not_collide(store: Store) -> None:
    first, second = Table(store, Thing, "first"), Table(store, Thing, "second")
    first.put("k", "wxA", Thing("first", 1, []))
    assert second.get("k") is None


def test_updating_a_record_keeps_its_place_in_queries(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.put("user", key, "", {"id": key})
    store.put("user", "a", "", {"id": "a", "changed": True})
    assert [r["id"] for r in store.query("user")] == ["a", "b", "c"]


def test_a_rolled_back_delete_puts_the_record_back_in_its_place(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.put("thing", key, "wxA", {"id": key})
    with pytest.raises(Boom):
        fail_inside(store, lambda: store.delete("thing", "a"))
    assert [r["id"] for r in store.query("thing")] == ["a", "b", "c"]
    assert [r["id"] for r in store.query("thing", "wxA")] == ["a", "b", "c"]


def test_a_rolled_back_update_restores_the_old_record_and_owner(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1}, expires_at=10.0)
    with pytest.raises(Boom):
        fail_inside(store, lambda: store.put("thing", "k", "wxB", {"v": 2}))
    assert store.get("thing", "k") == {"v": 1}
    assert store.query("thing", "wxB") == []
    assert store.query("thing", "wxA") == [{"v": 1}]
    assert store.prune(11.0) == 1


def test_a_rolled_back_transaction_drops_its_meta_and_journal_writes(store: Store) -> None:
    store.meta_set("kept", "1")

    def work() -> None:
        store.meta_set("kept", "2")
        store.meta_set("new", "x")
        store.journal_append({"n": 1})

    with pytest.raises(Boom):
        fail_inside(store, work)
    assert (store.meta_get("kept"), store.meta_get("new")) == ("1", None)
    assert store.journal_list() == []
    assert store.journal_append({"n": 2}) == 1


def test_a_rolled_back_clear_keeps_everything(store: Store) -> None:
    store.put("thing", "k", "wxA", {"v": 1})
    store.meta_set("boot", "1")
    store.journal_append({"n": 1})
    with pytest.raises(Boom):
        fail_inside(store, store.clear)
    assert store.get("thing", "k") == {"v": 1}
    assert store.meta_get("boot") == "1"
    assert [e["n"] for e in store.journal_list()] == [1]


def test_a_changed_owner_moves_the_record_between_owners_in_its_place(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.put("thing", key, "wxA", {"id": key})
    store.put("thing", "a", "wxB", {"id": "a"})
    store.put("thing", "d", "wxB", {"id": "d"})
    assert [r["id"] for r in store.query("thing", "wxA")] == ["b", "c"]
    assert [r["id"] for r in store.query("thing", "wxB")] == ["a", "d"]


def test_what_a_reader_changes_in_its_copy_never_reaches_the_store(store: Store) -> None:
    store.put("thing", "k", "wxA", {"tags": ["x"], "nested": {"n": 1}})
    found = store.get("thing", "k")
    assert found is not None
    found["tags"].append("y")
    found["nested"]["n"] = 2
    assert store.get("thing", "k") == {"tags": ["x"], "nested": {"n": 1}}


def test_what_a_writer_changes_after_put_never_reaches_the_store(store: Store) -> None:
    data = {"tags": ["x"]}
    store.put("thing", "k", "wxA", data)
    data["tags"].append("y")
    assert store.get("thing", "k") == {"tags": ["x"]}


def test_records_lists_every_kind_in_the_order_first_written(store: Store) -> None:
    store.put("b", "1", "o", {"n": 1}, expires_at=5.0)
    store.put("a", "2", "o", {"n": 2})
    store.put("b", "1", "p", {"n": 3})
    found = store.records()
    assert [(r.kind, r.key, r.owner, r.expires_at, r.data) for r in found] == [
        ("b", "1", "p", None, {"n": 3}),
        ("a", "2", "o", None, {"n": 2}),
    ]


def test_journal_recent_reads_the_newest_first(store: Store) -> None:
    for i in range(4):
        store.journal_append({"n": i})
    assert [e["n"] for e in store.journal_recent(2)] == [3, 2]
    assert [e["id"] for e in store.journal_recent(10)] == [4, 3, 2, 1]


def test_an_enum_member_is_kept_as_its_value(store: Store) -> None:
    store.put("thing", "k", "wxA", {"state": Api.V3, "nested": {"state": Api.V2}})
    found = store.get("thing", "k")
    assert found == {"state": "v3", "nested": {"state": "v2"}}
    assert found is not None
    assert type(found["state"]) is str


def test_a_value_json_cannot_keep_is_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        store.put("thing", "k", "wxA", {"when": object()})
    assert store.get("thing", "k") is None


# -- group commit (a store kept outside the process) ----------------------------------------------


async def test_deferred_writes_of_one_turn_are_seen_together_at_committed(open_shared: Shared) -> None:
    writer, reader = open_shared(), open_shared()
    writer.defer_commits(asyncio.get_running_loop())
    writer.put("thing", "a", "wxA", {"v": 1})
    writer.journal_append({"n": 1})
    assert reader.get("thing", "a") is None
    await writer.committed()
    assert reader.get("thing", "a") == {"v": 1}
    assert reader.journal_list() == [{"id": 1, "n": 1}]


async def test_the_loop_commits_a_deferred_write_on_its_next_turn_without_a_waiter(open_shared: Shared) -> None:
    writer, reader = open_shared(), open_shared()
    writer.defer_commits(asyncio.get_running_loop())
    writer.put("thing", "a", "wxA", {"v": 1})
    await asyncio.sleep(0)
    assert reader.get("thing", "a") == {"v": 1}


async def test_a_failed_transaction_in_a_batch_keeps_the_batch_other_writes(open_shared: Shared) -> None:
    store = open_shared()
    store.defer_commits(asyncio.get_running_loop())
    store.put("thing", "kept", "wxA", {"v": 0})
    with pytest.raises(Boom):
        fail_inside(store, lambda: store.put("thing", "gone", "wxA", {"v": 1}))
    store.put("thing", "after", "wxA", {"v": 2})
    await store.committed()
    store.close()
    assert [r["v"] for r in open_shared().query("thing")] == [0, 2]


async def test_stopping_deferral_commits_what_is_pending(open_shared: Shared) -> None:
    writer, reader = open_shared(), open_shared()
    writer.defer_commits(asyncio.get_running_loop())
    writer.meta_set("boot", "2")
    writer.defer_commits(None)
    assert reader.meta_get("boot") == "2"
    writer.put("thing", "k", "wxA", {"v": 1})  # one commit per write again
    assert reader.get("thing", "k") == {"v": 1}


async def test_a_write_from_another_thread_is_committed_at_once(open_shared: Shared) -> None:
    writer, reader = open_shared(), open_shared()
    writer.defer_commits(asyncio.get_running_loop())
    await asyncio.to_thread(writer.put, "thing", "k", "wxA", {"v": 1})
    assert reader.get("thing", "k") == {"v": 1}


async def test_closing_commits_what_is_pending(open_shared: Shared) -> None:
    writer = open_shared()
    writer.defer_commits(asyncio.get_running_loop())
    writer.put("thing", "k", "wxA", {"v": 1})
    writer.close()
    assert open_shared().get("thing", "k") == {"v": 1}


async def test_prune_in_a_loop_turns_batch_counts_what_it_dropped(store: Store) -> None:
    store.defer_commits(asyncio.get_running_loop())
    store.put("thing", "old", "wxA", {"v": 1}, expires_at=10.0)
    store.put("thing", "new", "wxA", {"v": 2}, expires_at=30.0)
    assert store.prune(20.0) == 1
    await store.committed()
    assert store.query("thing") == [{"v": 2}]


async def test_a_batch_reads_its_own_writes_before_the_commit(store: Store) -> None:
    store.defer_commits(asyncio.get_running_loop())
    store.put("thing", "k", "wxA", {"v": 1})
    store.journal_append({"n": 1})
    assert store.get("thing", "k") == {"v": 1}
    assert store.query("thing", "wxA") == [{"v": 1}]
    assert store.journal_recent(1) == [{"id": 1, "n": 1}]
    await store.committed()


async def test_committed_returns_at_once_when_nothing_is_pending(store: Store) -> None:
    store.defer_commits(asyncio.get_running_loop())
    await asyncio.wait_for(store.committed(), 1)
    store.put("thing", "k", "wxA", {"v": 1})
    await asyncio.wait_for(store.committed(), 1)
    assert store.get("thing", "k") == {"v": 1}


async def test_a_cancelled_waiter_does_not_cancel_the_others(open_shared: Shared) -> None:
    store = open_shared()
    store.defer_commits(asyncio.get_running_loop())
    # The loop runs, in order: first waits, first is cancelled (a client gone), second waits, the commit.
    first = asyncio.ensure_future(store.committed())
    asyncio.get_running_loop().call_soon(first.cancel)
    second = asyncio.ensure_future(store.committed())
    store.put("thing", "k", "wxA", {"v": 1})
    await asyncio.wait_for(second, 1)
    assert first.cancelled()
