"""Rules of notification delivery: WeChat's retry schedule, what counts as acknowledged, attempt records."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from mock_wechat.pay import v2_xml

SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
"""Seconds between attempts after each failure: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h."""
TIMEOUT = 5.0
"""A merchant that does not answer within 5 s has failed the attempt."""
KEEP_BODY = 2000


class Kind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class Tamper(StrEnum):
    """How a resent copy is forged, so a merchant can prove its handler refuses it."""

    SIGN = "sign"
    AMOUNT = "amount"
    CIPHERTEXT = "ciphertext"


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Notification:
    id: str
    kind: str
    mch_id: str
    out_trade_no: str
    notify_url: str
    body: str
    created_at: float
    next_at: float | None
    status: str = Status.PENDING.value
    attempts: list[dict[str, object]] = field(default_factory=list)
    out_refund_no: str = ""
    content_type: str = "text/xml"
    api: str = "v2"
    note: str = ""
    """Why this copy exists (a resend, a duplicate, a tampered copy)."""
    tamper: str = ""
    """How this copy is forged when it is rendered (`sign`, `amount`, `ciphertext`), or not at all."""
    rendered: bool = False
    """True: what is owed is rendered by its API's dialect at each attempt (`body` is then the last one sent).
    False: `body` is sent as it is (a notification stored before rendering moved to delivery)."""
    leased_until: float = 0.0
    """Wall-clock time until which one process holds the attempt under way (`NotificationBook.claim`)."""


@dataclass(frozen=True)
class Outgoing:
    """One notification request as it goes out: the body and the headers its API adds."""

    body: str
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def acknowledged_v2(status: int | None, body: str, *, cut_at: int | None = None) -> tuple[bool, str]:
    """Only HTTP 200 with `<return_code>SUCCESS</return_code>` stops the retries.

    An answer cut at `cut_at` bytes (it was longer) is judged on the `<xml>` element it starts with.
    """
    if status is None:
        return False, "no answer"
    if status != 200:
        return False, f"HTTP {status}; WeChat needs 200"
    cut = "" if cut_at is None else f" (the answer was cut at {cut_at} bytes)"
    if cut_at is not None:
        end = body.find("</xml>")
        body = body if end < 0 else body[: end + len("</xml>")]
    try:
        fields = v2_xml.parse(body.encode())
    except Exception as exc:  # noqa: BLE001 - any unreadable answer is simply a failed attempt
        return False, f"the answer is not WeChat's <xml> reply ({exc}){cut}"
    if fields.get("return_code", "").strip() != "SUCCESS":  # a pretty-printed reply is still SUCCESS
        return False, f"return_code is {fields.get('return_code')!r}, not 'SUCCESS'{cut}"
    return True, f"acknowledged with return_code SUCCESS{cut}"


def acknowledged_v3(status: int | None) -> tuple[bool, str]:
    """API v3: HTTP 200 or 204 stops the retries, whatever the body (PROTOCOL.md §7.10)."""
    if status is None:
        return False, "no answer"
    if status not in (200, 204):
        return False, f"HTTP {status}; WeChat needs 200 or 204"
    return True, f"acknowledged with HTTP {status}"


def acknowledged(api: str, status: int | None, body: str, *, cut_at: int | None = None) -> tuple[bool, str]:
    """Whether the merchant's answer stops the retries, by the rules of the notification's API."""
    return acknowledged_v3(status) if api == "v3" else acknowledged_v2(status, body, cut_at=cut_at)


def record_attempt(
    note: Notification, *, now: float, status: int | None, body: str, ok: bool, verdict: str, speed: float
) -> Notification:
    """The notification after one attempt: delivered, due again per SCHEDULE, or given up."""
    number = len(note.attempts) + 1
    next_at: float | None = None
    new_status = Status.DELIVERED if ok else Status.PENDING
    if not ok:
        if number <= len(SCHEDULE):
            next_at = now + SCHEDULE[number - 1] / speed
        else:
            new_status = Status.FAILED
    attempt: dict[str, object] = {
        "number": number,
        "at": now,
        "status": status,
        "body": body[:KEEP_BODY],
        "verdict": verdict,
        "ok": ok,
        "next_at": next_at,
    }
    return replace(note, attempts=[*note.attempts, attempt], status=new_status.value, next_at=next_at, leased_until=0.0)
