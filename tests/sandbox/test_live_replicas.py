"""Open pages of one replica look again when another replica on the same PostgreSQL changes the world."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from mock_wechat.store.postgres import PostgresStore
from sandbox import shared
from sandbox.live import COALESCE, Changes, ObservedStore


class Replica:
    """A store as a replica wraps it, with the version its open pages watch."""

    def __init__(self, dsn: str) -> None:
        self.changes = Changes()
        self.store = ObservedStore(PostgresStore(dsn), self.changes)
        self.changes.bind(asyncio.get_running_loop())
        self.changes.forward_to(lambda: self.store.announce(shared.CHANGED))
        self.store.listen(lambda topic: None)


@pytest.fixture
async def replicas(postgres_dsn: str) -> AsyncIterator[tuple[Replica, Replica]]:
    made = (Replica(postgres_dsn), Replica(postgres_dsn))
    yield made
    for replica in made:
        replica.changes.close()
        replica.store.close()


async def test_a_write_on_one_replica_wakes_the_pages_of_the_other(replicas: tuple[Replica, Replica]) -> None:
    first, second = replicas
    seen = second.changes.version
    first.store.put("thing", "k", "wxA", {"v": 1})
    assert await second.changes.wait(seen, 5) > seen


async def test_a_burst_of_writes_is_told_once_and_never_echoed_back(replicas: tuple[Replica, Replica]) -> None:
    first, second = replicas
    before = second.changes.version
    for n in range(50):
        first.store.put("thing", f"k{n}", "wxA", {"v": n})
    await second.changes.wait(before, 5)
    await asyncio.sleep(4 * COALESCE)  # long enough for an echo to come back, were there one
    assert second.changes.version == before + 1
    assert first.changes.version == 50
