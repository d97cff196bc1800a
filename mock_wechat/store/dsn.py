"""A PostgreSQL connection string as it may be shown: its password masked, wherever it was written."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "***"
SCHEMES = ("postgresql://", "postgres://")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def is_postgres_url(value: str) -> bool:
    return value.startswith(SCHEMES)


def masked(dsn: str) -> str:
    """`dsn` with any password replaced by `***`: in a URL's user part, in its query, or as `password=…`."""
    if not is_postgres_url(dsn):
        return _KEYWORD_PASSWORD.sub(rf"\g<1>{MASK}", dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:  # beyond repair: show nothing after the scheme that might be a secret
        return dsn.split("://", 1)[0] + "://" + MASK
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":" + MASK
        netloc = f"{user}@{host}"
    query = _KEYWORD_PASSWORD.sub(rf"\g<1>{MASK}", parts.query)
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def scrubbed(text: str, dsn: str) -> str:
    """`text` (a driver's message) with the DSN's password, if it appears, masked."""
    for secret in _passwords(dsn):
        if secret:
            text = text.replace(secret, MASK)
    return text


def _passwords(dsn: str) -> list[str]:
    found = [m.group(2).strip("'") for m in _KEYWORD_PASSWORD.finditer(dsn)]
    if is_postgres_url(dsn):
        try:
            password = urlsplit(dsn).password
        except ValueError:
            password = None
        if password:
            found.append(password)
    return found
