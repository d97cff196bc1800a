"""The deliverer: POSTs due notifications to merchants, on the sandbox clock, and records every attempt."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp

from mock_wechat import errors
from mock_wechat.config import WeChatConfig
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.pay import notifications as rules
from mock_wechat.pay.book import NotificationBook
from mock_wechat.pay.notifications import Notification, Outgoing

log = logging.getLogger("mock_wechat.delivery")

Render = Callable[[Notification], Outgoing]
"""A notification's API renders what is owed into the request that goes out (`v2_dialect.render_notification`)."""

MAX_READ = 65_536
"""An answer is read up to this many bytes and judged on what was read."""
IDLE = 30.0
"""Without a wake-up, look again at least this often (the clock may have been advanced)."""
PER_HOST = 4
"""Deliveries in flight to one merchant host (host:port of notify_url): a hanging one holds only its own slots."""
PARALLEL = 256
"""Deliveries in flight in all: 64 merchant hosts that all hang still leave room for a healthy one."""


class Deliverer:
    """One background task per app: delivers what is due, sleeps until the next due time or a wake-up."""

    def __init__(
        self,
        book: NotificationBook,
        config: WeChatConfig,
        *,
        render: Render | None = None,
        timeout: float | None = None,
    ) -> None:
        self.book, self.config, self.render = book, config, render
        self.timeout = timeout  # None: WeChat's own (notifications.TIMEOUT, read when the first request goes out)
        self._wake = asyncio.Event()
        self._running: set[str] = set()
        self._tasks: dict[str, asyncio.Task[Notification]] = {}
        """The attempt in flight per notification id."""
        self._parallel = asyncio.Semaphore(PARALLEL)
        self._per_host: dict[str, tuple[asyncio.Semaphore, int]] = {}  # host:port → its slots, deliveries using them
        self._session: aiohttp.ClientSession | None = None
        book.listeners.append(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def lease(self) -> float:
        """How long a claimed attempt is this process's: twice the answer timeout, and 5 s more."""
        return 2 * (rules.TIMEOUT if self.timeout is None else self.timeout) + 5.0

    def _allowed(self, note: Notification) -> bool:
        merchant = self.config.merchant(note.mch_id)
        origin = parse_origin(note.notify_url)
        return (
            merchant is not None
            and origin is not None
            and allowed(origin, merchant.notify_hosts, merchant.trust_loopback)
        )

    async def attempt(self, note: Notification) -> Notification:
        """One POST of the notification; the verdict decides whether WeChat tries again."""
        if not self._allowed(note):
            return self.book.record(
                note, status=None, body="", ok=False, verdict="refused: notify_url host is not in the allowlist"
            )
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=rules.TIMEOUT if self.timeout is None else self.timeout)
            # The connector's own limit must not queue a delivery behind others: the semaphores do the limiting.
            connector = aiohttp.TCPConnector(limit=PARALLEL, limit_per_host=PER_HOST)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        try:
            outgoing = self._outgoing(note)
        except errors.WeChatError as exc:  # what it notifies of is gone (a reset mid-flight)
            return self.book.record(note, status=None, body="", ok=False, verdict=f"not sent: {exc.diagnostic}")
        except Exception as exc:  # a sandbox bug: an attempt on the schedule like any failure, never a tight loop
            log.exception("rendering notification %s failed", note.id)
            verdict = f"not sent: the sandbox could not render it ({type(exc).__name__}: {exc})"
            return self.book.record(note, status=None, body="", ok=False, verdict=verdict)
        sent = outgoing.body if note.rendered else None
        status: int | None = None
        body = ""
        cut = False
        headers = {"Content-Type": outgoing.content_type, "User-Agent": "Mozilla/4.0", "Request-ID": note.id}
        try:
            async with self._session.post(
                note.notify_url,
                data=outgoing.body.encode(),
                headers={**headers, **outgoing.headers},
                allow_redirects=False,
            ) as response:
                status = response.status
                chunks, size = [], 0
                async for chunk in response.content.iter_chunked(8192):  # the whole answer, not its first chunk
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_READ:
                        cut = True  # the rest is never read: the connection is closed, not drained
                        break
                body = b"".join(chunks)[:MAX_READ].decode("utf-8", "replace")
        except TimeoutError:
            return self.book.record(note, status=None, body="", ok=False, verdict="no answer within 5 s", sent=sent)
        except aiohttp.ClientError as exc:
            verdict = f"connection failed: {exc}"
            return self.book.record(note, status=None, body="", ok=False, verdict=verdict, sent=sent)
        ok, verdict = rules.acknowledged(note.api, status, body, cut_at=MAX_READ if cut else None)
        return self.book.record(note, status=status, body=body, ok=ok, verdict=verdict, sent=sent)

    def _outgoing(self, note: Notification) -> Outgoing:
        """What goes out: rendered now by the notification's API (fresh nonce, time and sign), or its stored body."""
        if note.rendered and self.render is not None:
            return self.render(note)
        return Outgoing(body=note.body, content_type=note.content_type)

    def _launch(self, note: Notification) -> asyncio.Task[Notification]:
        """Deliver one notification in a task of its own: a slow merchant host never holds up another host."""
        self._running.add(note.id)

        origin = parse_origin(note.notify_url)
        host = "" if origin is None else f"{origin.host}:{origin.port}"
        slots, users = self._per_host.get(host, (asyncio.Semaphore(PER_HOST), 0))
        self._per_host[host] = (slots, users + 1)

        async def deliver() -> Notification:
            try:
                async with slots, self._parallel:
                    claimed = self.book.claim(note.id, self.lease(), time.time())
                    if claimed is None:  # no longer due, or another process sharing the store has it
                        return note
                    await self.book.store.committed()  # the claim is everyone's before the merchant hears anything
                    return await self.attempt(claimed)
            finally:
                left = self._per_host[host][1] - 1
                if left:
                    self._per_host[host] = (slots, left)
                else:
                    del self._per_host[host]  # a host no notification waits for keeps no slots
                self._running.discard(note.id)
                self.wake()  # its next attempt may now be the earliest one

        task = asyncio.create_task(deliver())
        self._tasks[note.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(note.id, None))
        return task

    def _due(self) -> tuple[list[Notification], float | None]:
        """What is due now, and in how many seconds the next one falls due, leaving out those being delivered here.

        One another process holds (its lease, in wall-clock time, has not run out) is not due here: it is looked at
        again when the lease runs out, so a process killed mid-attempt is taken over then, and no claim is tried
        (and refused, and tried again at once) meanwhile."""
        now, wall = self.book.clock.now(), time.time()
        due: list[Notification] = []
        later: list[float] = []
        for note in self.book.pending():
            if note.id in self._running or note.next_at is None:
                continue
            wait = max(note.next_at - now, note.leased_until - wall)
            if wait <= 0:
                due.append(note)
            else:
                later.append(wait)
        return due, min(later) if later else None

    async def deliver_due(self) -> list[Notification]:
        """Deliver everything due now and wait for the answers (tests call this directly); attempts already in
        flight are left to themselves (`in_flight` waits for those)."""
        due, _ = self._due()
        return list(await asyncio.gather(*(self._launch(n) for n in due)))

    async def in_flight(self) -> list[Notification]:
        """Wait for the attempts already started (by the background loop or `deliver_due`) and return them."""
        return list(await asyncio.gather(*self._tasks.values()))

    async def run(self) -> None:
        while True:
            self._wake.clear()
            later: float | None = None
            try:
                due, later = self._due()
                for note in due:
                    self._launch(note)
            except Exception:
                log.exception("notification delivery failed")
            wait = IDLE if later is None else max(0.01, min(IDLE, later))
            # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancellation that arrives together with a
            # wake-up (an attempt cancelled at shutdown wakes this loop), and the loop then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
