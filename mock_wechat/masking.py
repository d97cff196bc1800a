"""Show enough of a secret to tell two apart, never enough to use one."""

from __future__ import annotations


def mask(value: str) -> str:
    """`AbCd…wxYz (32 chars)`; short values become `****`."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…{value[-4:]} ({len(value)} chars)"
