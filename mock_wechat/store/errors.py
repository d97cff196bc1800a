"""Why a store cannot be opened: its schema is newer than this code, or its database cannot be reached."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used as asked; the message says why, in one line."""


class StoreVersionError(StoreError):
    """The stored schema is newer than this code knows: an older wechat-sandbox must not write it."""

    def __init__(self, where: str, found: int, current: int) -> None:
        super().__init__(
            f"{where} has schema version {found}, but this wechat-sandbox knows versions up to {current}: "
            "upgrade wechat-sandbox, or use another data dir or database"
        )
        self.found, self.current = found, current


class StoreUnavailable(StoreError):
    """The database cannot be reached, or its driver is not installed."""
