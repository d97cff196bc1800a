"""Live pages: every write to the store bumps a version, and `/_sandbox/api/events` tells each open page (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from mock_wechat.store import Record, Store

log = logging.getLogger("sandbox.live")
COALESCE = 0.1
"""Seconds a burst of writes (an order, its notification, the journal line) is gathered into one event."""
KEEP_ALIVE = 15.0
"""Seconds between comments on an idle stream, so proxies and browsers keep it open."""


class Changes:
    """A version number that goes up on every change, and a way to wait for it (from any thread)."""

    def __init__(self) -> None:
        self.version = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._thread = threading.get_ident()
        self.closed = False
        self._forward: Callable[[], None] | None = None
        self._forwarding = False

    def forward_to(self, announce: Callable[[], None]) -> None:
        """Tell the other processes sharing the store of changes made here too, at most once per COALESCE (their
        pages then look again); `announce` does the telling."""
        self._forward = announce

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the event streams run in (the app's, at start-up)."""
        self._loop = loop
        self._event = asyncio.Event()
        self._thread = threading.get_ident()

    def touch(self, *, here: bool = True) -> None:
        """A change: made `here`, or heard of from another process (which is not told back)."""
        self.version += 1
        if self._event is None or self._loop is None:
            return
        if threading.get_ident() == self._thread:
            self._event.set()
            if here and self._forward is not None and not self._forwarding:
                self._forwarding = True
                self._loop.call_later(COALESCE, self._forward_now)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening any more
                self._loop.call_soon_threadsafe(self._event.set)

    def _forward_now(self) -> None:
        self._forwarding = False
        if self._forward is not None and not self.closed:
            try:
                self._forward()
            except Exception:  # the database is gone for a moment: pages here still update, others on the next one
                log.warning("could not tell the other processes of a change", exc_info=True)

    def close(self) -> None:
        """Shutting down: every stream ends now (a server stop must not wait for open console tabs)."""
        self.closed = True
        if self._event is not None:
            self._event.set()

    async def wait(self, seen: int, timeout: float) -> int:
        """The version once it is past `seen`, or the same after `timeout` seconds."""
        if self.version != seen or self.closed or self._event is None:
            return self.version
        self._event.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):  # not wait_for: it can drop a cancellation on 3.11
                await self._event.wait()
        return self.version


class ObservedStore:
    """A `Store` that tells `Changes` of every write; reads pass straight through."""

    def __init__(self, inner: Store, changes: Changes) -> None:
        self.inner = inner
        self._changes = changes

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.inner.get(kind, key)

    def put(self, kind: str, key: str, owner: str, data: dict[str, Any], expires_at: float | None = None) -> None:
        self.inner.put(kind, key, owner, data, expires_at)
        self._changes.touch()

    def delete(self, kind: str, key: str) -> None:
        self.inner.delete(kind, key)
        self._changes.touch()

    def query(self, kind: str, owner: str | None = None) -> list[dict[str, Any]]:
        return self.inner.query(kind, owner)

    def records(self) -> list[Record]:
        return self.inner.records()

    def prune(self, before: float) -> int:
        return self.inner.prune(before)  # only what expired goes: nothing a page shows changes

    def meta_get(self, name: str) -> str | None:
        return self.inner.meta_get(name)

    def meta_set(self, name: str, value: str) -> None:
        self.inner.meta_set(name, value)
        self._changes.touch()

    def journal_append(self, entry: dict[str, Any]) -> int:
        found = self.inner.journal_append(entry)
        self._changes.touch()
        return found

    def journal_list(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return self.inner.journal_list(after, limit)

    def journal_recent(self, limit: int) -> list[dict[str, Any]]:
        return self.inner.journal_recent(limit)

    def journal_trim(self, keep: int) -> None:
        self.inner.journal_trim(keep)

    def transaction(self) -> Any:
        return self.inner.transaction()

    def defer_commits(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.inner.defer_commits(loop)

    async def committed(self) -> None:
        await self.inner.committed()

    def announce(self, topic: str) -> None:
        self.inner.announce(topic)

    def listen(self, hear: Callable[[str], None]) -> None:
        def heard(topic: str) -> None:
            hear(topic)
            self._changes.touch(here=False)  # another process changed the world: open pages look again

        self.inner.listen(heard)

    def clear(self) -> None:
        self.inner.clear()
        self._changes.touch()

    def close(self) -> None:
        self.inner.close()


CHANGES = web.AppKey("changes", Changes)
routes = web.RouteTableDef()


@routes.get("/_sandbox/api/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `change` (with the new version) after every change, a comment when idle."""
    changes = request.app[CHANGES]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    seen = changes.version
    await response.write(f"retry: 1000\nevent: hello\ndata: {json.dumps({'version': seen})}\n\n".encode())
    try:
        while not changes.closed:
            version = await changes.wait(seen, KEEP_ALIVE)
            if changes.closed:
                break
            if version == seen:
                await response.write(b": idle\n\n")
                continue
            await asyncio.sleep(COALESCE)  # gather the rest of the burst
            seen = changes.version
            await response.write(f"event: change\ndata: {json.dumps({'version': seen})}\n\n".encode())
    except ConnectionResetError:  # the page went away
        pass
    return response


async def _bind(app: web.Application) -> None:
    app[CHANGES].bind(asyncio.get_running_loop())


async def _close(app: web.Application) -> None:
    app[CHANGES].close()


def add_to(app: web.Application) -> None:
    """The events route, the loop binding at start-up and the streams' end at shutdown."""
    app.add_routes(routes)
    app.on_startup.append(_bind)
    app.on_shutdown.append(_close)
