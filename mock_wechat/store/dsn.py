"""A PostgreSQL connection string as it may be shown: its password masked, wherever it was written."""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
SCHEMES = ("postgresql://", "postgres://")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*:)([^/?#]*)(@)")
"""`scheme://user:password@`, of any scheme (a mistyped one too); the password runs to the last `@` before the path."""


def is_postgres_url(value: str) -> bool:
    return value.startswith(SCHEMES)


def masked(dsn: str) -> str:
    """`dsn` with any password replaced by `***`: in a URL's user part, in its query, or as `password=…`."""
    return _KEYWORD_PASSWORD.sub(rf"\g<1>{MASK}", _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", dsn))


def scrubbed(text: str, dsn: str) -> str:
    """`text` (a driver's message) with the DSN's password, if it appears there, masked."""
    for secret in _passwords(dsn):
        text = text.replace(secret, MASK)
    return text


def _passwords(dsn: str) -> list[str]:
    found = [m.group(2).strip("'") for m in _KEYWORD_PASSWORD.finditer(dsn)]
    in_url = _URL_PASSWORD.match(dsn)
    if in_url is not None:
        found.append(in_url.group(2))
    return sorted({s for p in found for s in (p, unquote(p)) if s}, key=len, reverse=True)
