"""The deliverer: POSTs due notifications to merchants, on the sandbox clock, and records every attempt."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from mock_wechat.config import WeChatConfig
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.pay import notifications as rules
from mock_wechat.pay.book import NotificationBook
from mock_wechat.pay.notifications import Notification

log = logging.getLogger("mock_wechat.delivery")

MAX_READ = 65_536
IDLE = 30.0
"""Without a wake-up, look again at least this often (the clock may have been advanced)."""
PARALLEL = 8


class Deliverer:
    """One background task per app: delivers what is due, sleeps until the next due time or a wake-up."""

    def __init__(self, book: NotificationBook, config: WeChatConfig) -> None:
        self.book, self.config = book, config
        self._wake = asyncio.Event()
        self._running: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        book.listeners.append(self.wake)

    def wake(self) -> None:
        self._wake.set()

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
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=rules.TIMEOUT))
        status: int | None = None
        body = ""
        try:
            async with self._session.post(
                note.notify_url,
                data=note.body.encode(),
                headers={"Content-Type": note.content_type, "User-Agent": "Mozilla/4.0", "Request-ID": note.id},
                allow_redirects=False,
            ) as response:
                status = response.status
                body = (await response.content.read(MAX_READ)).decode("utf-8", "replace")
        except TimeoutError:
            return self.book.record(note, status=None, body="", ok=False, verdict="no answer within 5 s")
        except aiohttp.ClientError as exc:
            return self.book.record(note, status=None, body="", ok=False, verdict=f"connection failed: {exc}")
        ok, verdict = rules.acknowledged_v2(status, body)
        return self.book.record(note, status=status, body=body, ok=ok, verdict=verdict)

    async def deliver_due(self) -> list[Notification]:
        """Deliver everything due now (tests call this directly); returns the updated notifications."""
        due = [n for n in self.book.due_now() if n.id not in self._running]
        semaphore = asyncio.Semaphore(PARALLEL)

        async def one(note: Notification) -> Notification:
            async with semaphore:
                self._running.add(note.id)
                try:
                    return await self.attempt(note)
                finally:
                    self._running.discard(note.id)

        return list(await asyncio.gather(*(one(n) for n in due)))

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                log.exception("notification delivery failed")
            next_at = self.book.next_due_at()
            wait = IDLE if next_at is None else max(0.01, min(IDLE, next_at - self.book.clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
