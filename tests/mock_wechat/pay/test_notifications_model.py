"""Rules of notification delivery (pure): WeChat's retry schedule, what acknowledges, attempt records."""

from __future__ import annotations

from typing import Any

import pytest

from mock_wechat.pay import notifications
from mock_wechat.pay.notifications import SCHEDULE, Kind, Notification, Status

NOW = 1_700_000_000.0
ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"


def make_note(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "id": "n1",
        "kind": Kind.PAYMENT.value,
        "mch_id": "1900000109",
        "out_trade_no": "T1",
        "notify_url": "http://127.0.0.1/notify",
        "body": "<xml></xml>",
        "created_at": NOW,
        "next_at": NOW,
    }
    values.update(overrides)
    return Notification(**values)


def fail(note: Notification, now: float, speed: float = 1.0) -> Notification:
    return notifications.record_attempt(
        note, now=now, status=500, body="oops", ok=False, verdict="HTTP 500", speed=speed
    )


# -- the schedule ------------------------------------------------------------------------------------


def test_schedule_is_wechats_fifteen_intervals() -> None:
    minutes = [s / 60 for s in SCHEDULE]
    assert minutes == [0.25, 0.25, 0.5, 3, 10, 20, 30, 30, 30, 60, 180, 180, 180, 360, 360]


def test_schedule_totals_24_hours_4_minutes() -> None:
    assert sum(SCHEDULE) == 24 * 3600 + 4 * 60


def test_timeout_is_five_seconds() -> None:
    assert notifications.TIMEOUT == 5.0


# -- acknowledged_v2 ---------------------------------------------------------------------------------


def test_success_reply_acknowledges() -> None:
    assert notifications.acknowledged_v2(200, ACK) == (True, "acknowledged with return_code SUCCESS")


def test_success_reply_without_cdata_acknowledges() -> None:
    ok, _ = notifications.acknowledged_v2(200, "<xml><return_code>SUCCESS</return_code></xml>")
    assert ok


def test_pretty_printed_success_reply_acknowledges() -> None:
    ok, _ = notifications.acknowledged_v2(200, "<xml>\n  <return_code>\n    SUCCESS\n  </return_code>\n</xml>\n")
    assert ok


def test_no_answer_is_a_failure() -> None:
    assert notifications.acknowledged_v2(None, "") == (False, "no answer")


@pytest.mark.parametrize("status", [201, 204, 302, 400, 500, 502])
def test_a_status_other_than_200_is_a_failure_even_with_success(status: int) -> None:
    assert notifications.acknowledged_v2(status, ACK) == (False, f"HTTP {status}; WeChat needs 200")


def test_fail_reply_is_a_failure() -> None:
    body = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]></return_msg></xml>"
    assert notifications.acknowledged_v2(200, body) == (False, "return_code is 'FAIL', not 'SUCCESS'")


def test_lowercase_success_is_a_failure() -> None:
    ok, _ = notifications.acknowledged_v2(200, "<xml><return_code>success</return_code></xml>")
    assert not ok


def test_reply_without_return_code_is_a_failure() -> None:
    assert notifications.acknowledged_v2(200, "<xml><return_msg>OK</return_msg></xml>") == (
        False,
        "return_code is None, not 'SUCCESS'",
    )


@pytest.mark.parametrize("body", ["", "SUCCESS", "success", "OK", '{"code": "SUCCESS"}', "<html>ok</html>"])
def test_a_body_that_is_not_wechats_xml_is_a_failure(body: str) -> None:
    ok, verdict = notifications.acknowledged_v2(200, body)
    assert not ok
    assert verdict.startswith(("the answer is not WeChat's <xml> reply", "return_code is")), verdict


def test_a_reply_with_a_doctype_is_a_failure() -> None:
    ok, _ = notifications.acknowledged_v2(
        200, '<!DOCTYPE x [<!ENTITY a "SUCCESS">]><xml><return_code>&a;</return_code></xml>'
    )
    assert not ok


# -- record_attempt ----------------------------------------------------------------------------------


def test_a_failed_first_attempt_is_due_again_in_15_seconds() -> None:
    note = fail(make_note(), NOW)
    assert (note.status, note.next_at) == (Status.PENDING, NOW + 15)


def test_an_attempt_is_recorded_whole() -> None:
    note = fail(make_note(), NOW)
    assert note.attempts == [
        {"number": 1, "at": NOW, "status": 500, "body": "oops", "verdict": "HTTP 500", "ok": False, "next_at": NOW + 15}
    ]


def test_an_acknowledged_attempt_delivers() -> None:
    note = notifications.record_attempt(make_note(), now=NOW, status=200, body=ACK, ok=True, verdict="ok", speed=1)
    assert (note.status, note.next_at, note.attempts[0]["ok"]) == (Status.DELIVERED, None, True)


def test_an_acknowledgement_after_failures_delivers() -> None:
    note = fail(fail(make_note(), NOW), NOW + 15)
    note = notifications.record_attempt(note, now=NOW + 30, status=200, body=ACK, ok=True, verdict="ok", speed=1)
    assert (note.status, len(note.attempts)) == (Status.DELIVERED, 3)


def test_record_attempt_leaves_the_original_unchanged() -> None:
    note = make_note()
    fail(note, NOW)
    assert (note.attempts, note.status) == ([], Status.PENDING)


def test_failures_follow_the_whole_schedule() -> None:
    note, now, due = make_note(), NOW, []
    for _ in SCHEDULE:
        note = fail(note, now)
        assert note.next_at is not None
        due.append(note.next_at - now)
        now = note.next_at
    assert due == list(SCHEDULE)


def test_the_fifteenth_failure_still_schedules_a_last_attempt_six_hours_later() -> None:
    note = make_note()
    for _ in range(15):
        note = fail(note, NOW)
    assert (note.status, note.next_at) == (Status.PENDING, NOW + 21600)


def test_the_sixteenth_failure_gives_up() -> None:
    note = make_note()
    for _ in range(16):
        note = fail(note, NOW)
    assert (note.status, note.next_at, len(note.attempts)) == (Status.FAILED, None, 16)


def test_speed_compresses_the_schedule() -> None:
    assert fail(make_note(), NOW, speed=10).next_at == NOW + 1.5


def test_a_long_body_is_kept_truncated() -> None:
    note = notifications.record_attempt(
        make_note(), now=NOW, status=200, body="x" * 5000, ok=False, verdict="v", speed=1
    )
    assert note.attempts[0]["body"] == "x" * notifications.KEEP_BODY


def test_a_new_notification_is_a_pending_v2_xml_one() -> None:
    note = make_note()
    assert (note.status, note.api, note.content_type, note.attempts) == (Status.PENDING, "v2", "text/xml", [])
