"""What only PostgreSQL adds: several connections (processes) on one database take turns to write, in order."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from mock_wechat.store import StoreUnavailable
from mock_wechat.store.postgres import PostgresStore

WAIT = 10.0
"""Seconds a blocked writer is given to finish once it may (only bounds a hang)."""
BLOCKED = 0.3
"""Seconds a writer is watched to stay blocked while another holds the write lock."""

Connect = Callable[[], PostgresStore]


@pytest.fixture
def connect(postgres_dsn: str) -> Iterator[Connect]:
    """Connections to one new database, each closed when the test ends."""
    opened: list[PostgresStore] = []

    def one() -> PostgresStore:
        opened.append(PostgresStore(postgres_dsn))
        return opened[-1]

    yield one
    for store in opened:
        store.close()


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, threading.Event]:
    """`work` started in a thread; the event is set once it is done."""
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_processes_opening_a_new_database_at_once_create_it_once(postgres_dsn: str) -> None:
    barrier = threading.Barrier(4)
    opened: list[PostgresStore] = []

    def open_one() -> None:
        barrier.wait()
        opened.append(PostgresStore(postgres_dsn))

    threads = [in_thread(open_one)[0] for _ in range(4)]
    for thread in threads:
        thread.join(WAIT)
    try:
        assert len(opened) == 4
        with psycopg.connect(postgres_dsn) as db:
            assert db.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    finally:
        for store in opened:
            store.close()


def test_a_transaction_waits_for_another_connections_transaction(connect: Connect) -> None:
    first, second = connect(), connect()

    def other() -> None:
        with second.transaction():
            second.put("thing", "second", "wxA", {"v": 2})

    with first.transaction():
        first.put("thing", "first", "wxA", {"v": 1})
        thread, done = in_thread(other)
        assert not done.wait(BLOCKED)
    assert done.wait(WAIT)
    thread.join()
    assert [r["v"] for r in first.query("thing")] == [1, 2]


def test_read_modify_writes_on_two_connections_lose_no_update(connect: Connect) -> None:
    first, second = connect(), connect()
    first.put("counter", "c", "", {"n": 0})

    def add(store: PostgresStore, times: int) -> None:
        for _ in range(times):
            with store.transaction():
                found = store.get("counter", "c")
                assert found is not None
                store.put("counter", "c", "", {"n": found["n"] + 1})

    threads = [in_thread(functools.partial(add, store, 50))[0] for store in (first, second)]
    for thread in threads:
        thread.join(WAIT)
    assert first.get("counter", "c") == {"n": 100}


def test_journal_ids_follow_commit_order_across_connections(connect: Connect) -> None:
    first, second = connect(), connect()
    with first.transaction():
        first.journal_append({"n": "first, begun first"})
        thread, done = in_thread(lambda: second.journal_append({"n": "second, waits"}))
        assert not done.wait(BLOCKED)
        first.journal_append({"n": "first, later"})
    assert done.wait(WAIT)
    thread.join()
    assert [(e["id"], e["n"]) for e in second.journal_list()] == [
        (1, "first, begun first"),
        (2, "first, later"),
        (3, "second, waits"),
    ]


async def test_a_loop_turns_batch_holds_other_connections_writes_until_it_commits(connect: Connect) -> None:
    batched, other = connect(), connect()
    batched.defer_commits(asyncio.get_running_loop())
    batched.put("thing", "batched", "wxA", {"v": 1})
    # A read sends what the pipeline queued and waits for it: from here the batch holds the write lock. (Before
    # that the batch's first statements may still sit in the client's buffer, as CI once showed.)
    assert batched.get("thing", "batched") == {"v": 1}
    thread, done = in_thread(lambda: other.put("thing", "other", "wxA", {"v": 2}))
    assert not done.wait(BLOCKED)
    await batched.committed()
    assert await asyncio.to_thread(done.wait, WAIT)
    thread.join()
    assert [r["v"] for r in other.query("thing")] == [1, 2]


async def test_an_announcement_is_heard_by_the_other_connection_not_its_own(connect: Connect) -> None:
    speaker, listener = connect(), connect()
    heard_by_listener: asyncio.Queue[str] = asyncio.Queue()
    heard_by_speaker: list[str] = []
    listener.listen(heard_by_listener.put_nowait)
    speaker.listen(heard_by_speaker.append)
    speaker.announce("settings")
    assert await asyncio.wait_for(heard_by_listener.get(), WAIT) == "settings"
    assert heard_by_speaker == []


async def test_an_announcement_in_a_batch_is_heard_once_the_batch_commits(connect: Connect) -> None:
    speaker, listener = connect(), connect()
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener.listen(heard.put_nowait)
    speaker.defer_commits(asyncio.get_running_loop())
    speaker.meta_set("clock_offset", "60")
    speaker.announce("clock")
    assert listener.meta_get("clock_offset") is None
    assert await asyncio.wait_for(heard.get(), WAIT) == "clock"
    assert listener.meta_get("clock_offset") == "60"


def test_a_key_postgresql_cannot_keep_is_refused_and_the_store_goes_on(connect: Connect) -> None:
    store = connect()
    with pytest.raises(psycopg.DataError):
        store.put("thing", "nul\x00", "wxA", {"v": 1})
    store.put("thing", "k", "wxA", {"v": 2})
    assert store.query("thing") == [{"v": 2}]
    assert connect().get("thing", "k") == {"v": 2}


async def test_a_key_postgresql_cannot_keep_in_a_batch_leaves_the_batch_whole(connect: Connect) -> None:
    store = connect()
    store.defer_commits(asyncio.get_running_loop())
    store.put("thing", "a", "wxA", {"v": 1})
    with pytest.raises(psycopg.DataError):
        store.put("thing", "nul\x00", "wxA", {"v": 2})
    store.put("thing", "b", "wxA", {"v": 3})
    await store.committed()
    assert [r["v"] for r in connect().query("thing")] == [1, 3]


def cut_off(store: PostgresStore, dsn: str) -> None:
    """End the store's connection from the server's side (as a restart of PostgreSQL would)."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store.backend_pid(),))


def test_a_lost_connection_fails_one_call_and_the_next_connects_again(connect: Connect, postgres_dsn: str) -> None:
    store = connect()
    store.put("thing", "k", "wxA", {"v": 1})
    cut_off(store, postgres_dsn)
    with pytest.raises(psycopg.OperationalError):
        store.get("thing", "k")
    assert store.get("thing", "k") == {"v": 1}


def test_a_transaction_that_could_not_begin_leaves_no_block_open(connect: Connect, postgres_dsn: str) -> None:
    store = connect()
    cut_off(store, postgres_dsn)
    with pytest.raises(psycopg.OperationalError), store.transaction():
        pass  # pragma: no cover - the block never runs
    with store.transaction():
        store.put("thing", "k", "wxA", {"v": 1})
    assert connect().get("thing", "k") == {"v": 1}


def test_an_unreachable_database_is_one_line_naming_it_without_its_password(tmp_path: Path) -> None:
    dsn = f"postgresql://sandbox:s3cret@/wechat?host={tmp_path}&port=1"
    with pytest.raises(StoreUnavailable) as refused:
        PostgresStore(dsn)
    message = str(refused.value)
    assert message.startswith(
        f"cannot connect to the database postgresql://sandbox:***@/wechat?host={tmp_path}&port=1: "
    )
    assert "s3cret" not in message
    assert "\n" not in message
