"""The request journal: every emulated call with its WeChat error code and diagnostic, secrets masked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mock_wechat.errors import Comparison
from mock_wechat.keys import Exchange
from mock_wechat.store import Store
from sandbox.masking import mask_params, mask_text

WORKBENCH = "/_sandbox/"
EMULATED = ("/_sandbox/bridge/", "/_sandbox/oauth/")
"""The paths under /_sandbox/ that emulate WeChat (the in-page bridge's back end, the user picker and consent)."""
KEEP = 10_000
TRIM_EVERY = 500
PAGE_MAX = 10_000
"""The most entries one read returns, whatever it asks for."""
MAX_ID = 2**63 - 1
"""The largest id SQLite stores."""


class Journal:
    """An observer of the emulated WeChat that appends each exchange to the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._since_trim = 0

    def __call__(self, exchange: Exchange) -> None:
        if exchange.error is None and is_workbench(exchange.path):
            return
        self._store.journal_append(entry(exchange))
        self._since_trim += 1
        if self._since_trim >= TRIM_EVERY:
            self._store.journal_trim(KEEP)
            self._since_trim = 0

    def entries(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Entries with ids above `after`, oldest first, at most `limit` (0 to PAGE_MAX; SQLite reads -1 as all)."""
        return self._store.journal_list(_within(after, MAX_ID), _within(limit, PAGE_MAX))

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return self._store.journal_recent(_within(limit, PAGE_MAX))


def is_workbench(path: str) -> bool:
    """The workbench's own pages and API (and `/`, the way to them): looking at the journal does not write to it.
    Refusals are journaled wherever they happen."""
    return path == "/" or (path.startswith(WORKBENCH) and not path.startswith(EMULATED))


def _within(value: int, high: int) -> int:
    return min(max(value, 0), high)


def entry(exchange: Exchange) -> dict[str, Any]:
    return {
        "time": datetime.fromtimestamp(exchange.time, UTC).isoformat(timespec="milliseconds"),
        "timestamp": exchange.time,
        "method": exchange.method,
        "path": exchange.path,
        "query": mask_params(exchange.query),
        "fields": mask_params(exchange.fields),
        "status": exchange.status,
        "errcode": exchange.wire_code,
        "error": exchange.error,
        "diagnostic": exchange.diagnostic,
        "notes": exchange.notes,
        "rid": exchange.rid,
        "duration_ms": exchange.duration_ms,
        "answer": mask_text(exchange.answer),
        "comparison": None if exchange.comparison is None else comparison(exchange.comparison),
    }


def comparison(found: Comparison) -> dict[str, Any]:
    """The two strings cut into parts, each part of the received one marked when it differs (by position)."""
    expected, received = found.expected.split(found.separator), found.received.split(found.separator)
    return {
        "how": found.how,
        "separator": found.separator,
        "expected": expected,
        "received": received,
        "differs": [n for n, part in enumerate(received) if n >= len(expected) or expected[n] != part],
    }
