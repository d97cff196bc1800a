"""WeChat's time formats: `yyyyMMddHHmmss` and RFC 3339, always in Beijing time (UTC+8)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def compact(ts: float) -> str:
    """`20141111170043`: v2's time_end, time_start, time_expire."""
    return _compact_second(int(ts))


@functools.lru_cache(maxsize=64)
def _compact_second(second: int) -> str:
    """Formatted once per second (a memo of a pure function: every order of that second reuses it)."""
    return datetime.fromtimestamp(second, BEIJING).strftime("%Y%m%d%H%M%S")


def parse_compact(value: str) -> float | None:
    """The epoch seconds of a `yyyyMMddHHmmss` Beijing time, or None when it is not one."""
    if len(value) != 14 or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING).timestamp()
    except ValueError:
        return None


def rfc3339(ts: float) -> str:
    """`2021-03-22T10:29:05+08:00`: v3's success_time and create_time."""
    return datetime.fromtimestamp(ts, BEIJING).isoformat(timespec="seconds")


def day(ts: float) -> str:
    """`20141111`: the Beijing date of a bill."""
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y%m%d")


def bill_time(ts: float) -> str:
    """`2014-11-11 17:00:43`: the time column of a downloaded bill."""
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
