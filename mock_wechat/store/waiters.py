"""The answers waiting for a loop turn's batch of writes to be committed (group commit, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio


class Waiters:
    """One future per waiting request: a client that goes away cancels its own wait, never another's."""

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] = []

    async def wait(self, loop: asyncio.AbstractEventLoop) -> None:
        """Until `settle`; raises what the commit raised."""
        future = loop.create_future()
        self._futures.append(future)
        await future

    def settle(self, error: BaseException | None = None) -> None:
        """The batch is committed (`error` None) or failed: every wait so far ends."""
        futures, self._futures = self._futures, []
        for future in futures:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
