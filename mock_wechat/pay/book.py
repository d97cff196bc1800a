"""The notification book: every notification WeChat owes a merchant, its attempts, and what is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mock_wechat.clock import Clock
from mock_wechat.ids import Ids
from mock_wechat.pay import notifications as rules
from mock_wechat.pay.notifications import Notification, Status
from mock_wechat.store import Pointer, Store, Table


class NotificationBook:
    """Stored notifications plus an index of the pending ones, so a restart delivers what is owed."""

    def __init__(self, store: Store, clock: Clock, ids: Ids, speed: float = 1.0) -> None:
        self.store, self.clock, self.ids, self.speed = store, clock, ids, speed
        self.notifications = Table(store, Notification, "notification")
        self.due = Table(store, Pointer, "notification_due")
        self.listeners: list[Callable[[], None]] = []

    def add(self, note: Notification) -> Notification:
        with self.store.transaction():
            self.notifications.put(note.id, note.mch_id, note)
            self.due.put(note.id, note.mch_id, Pointer(note.id))
        self.wake()
        return note

    def create(
        self,
        *,
        kind: rules.Kind,
        mch_id: str,
        out_trade_no: str,
        notify_url: str,
        body: str = "",
        out_refund_no: str = "",
        content_type: str = "text/xml",
        api: str = "v2",
        note: str = "",
        tamper: str = "",
    ) -> Notification:
        """A notification owed now; without a `body` it is rendered by its API's dialect at each attempt."""
        now = self.clock.now()
        return self.add(
            Notification(
                id=self.ids.uuid(),
                kind=kind.value,
                mch_id=mch_id,
                out_trade_no=out_trade_no,
                notify_url=notify_url,
                body=body,
                created_at=now,
                next_at=now,
                out_refund_no=out_refund_no,
                content_type=content_type,
                api=api,
                note=note,
                tamper=tamper,
                rendered=not body,
            )
        )

    def wake(self) -> None:
        for listener in self.listeners:
            listener()

    def get(self, note_id: str) -> Notification | None:
        return self.notifications.get(note_id)

    def pending(self) -> list[Notification]:
        found = (self.notifications.get(p.value) for p in self.due.query())
        return [n for n in found if n is not None and n.status == Status.PENDING]

    def next_due_at(self) -> float | None:
        times = [n.next_at for n in self.pending() if n.next_at is not None]
        return min(times) if times else None

    def due_now(self) -> list[Notification]:
        now = self.clock.now()
        return [n for n in self.pending() if n.next_at is not None and n.next_at <= now]

    def claim(self, note_id: str, lease: float, wall_now: float) -> Notification | None:
        """Take a due notification for one attempt, unless it is no longer due or another process holds it.

        Read and written in one transaction, which PostgreSQL serialises across the processes sharing it, so each
        attempt is made by exactly one of them. The lease is wall-clock time (the sandbox's clock jumps when a test
        advances it): a process killed mid-attempt leaves the notification to another once the lease runs out."""
        with self.store.transaction():
            note = self.notifications.get(note_id)
            if note is None or note.status != Status.PENDING or note.next_at is None:
                return None
            if note.next_at > self.clock.now() or note.leased_until > wall_now:
                return None
            claimed = replace(note, leased_until=wall_now + lease)
            self.notifications.put(claimed.id, claimed.mch_id, claimed)
        return claimed

    def record(
        self, note: Notification, *, status: int | None, body: str, ok: bool, verdict: str, sent: str | None = None
    ) -> Notification:
        """One attempt: the merchant's answer (`body`) and verdict, and the request `sent` when it was rendered."""
        updated = rules.record_attempt(
            note, now=self.clock.now(), status=status, body=body, ok=ok, verdict=verdict, speed=self.speed
        )
        if sent is not None:
            updated = replace(updated, body=sent)
        with self.store.transaction():
            if self.notifications.get(note.id) is None:
                return updated  # reset while the attempt was in flight: do not bring it back
            self.notifications.put(updated.id, updated.mch_id, updated)
            if updated.status != Status.PENDING:
                self.due.delete(updated.id)
        return updated

    def all(self) -> list[Notification]:
        return sorted(self.notifications.query(), key=lambda n: n.created_at)
