"""Every signature WeChat computes or checks (JS-SDK SHA1 now; pay signatures with the pay surfaces)."""

from __future__ import annotations

import hashlib


def jsapi_string_to_sign(jsapi_ticket: str, noncestr: str, timestamp: str | int, url: str) -> str:
    """`jsapi_ticket=…&noncestr=…&timestamp=…&url=…`: field names sorted, raw values, URL without `#`."""
    return f"jsapi_ticket={jsapi_ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url.split('#', 1)[0]}"


def jsapi_signature(jsapi_ticket: str, noncestr: str, timestamp: str | int, url: str) -> str:
    """The `signature` of `wx.config`: lowercase hex SHA1 of the string to sign."""
    return hashlib.sha1(jsapi_string_to_sign(jsapi_ticket, noncestr, timestamp, url).encode()).hexdigest()  # noqa: S324 - WeChat's algorithm
