"""The one clock every expiry reads: real time plus an offset the workbench can advance."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the epoch, as the emulated WeChat sees them."""

    def now(self) -> float: ...

    def wall(self) -> float:
        """The machine's own time, unshifted: what a client's signature timestamps (API v3) are compared with."""
        ...


class OffsetClock:
    """Wall-clock time shifted by an offset; `advance` moves the sandbox into the future."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def wall(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class ManualClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def wall(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds
