"""Mask secrets before anything is written to the journal or a log."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mock_wechat.masking import mask

__all__ = ["mask", "mask_params", "mask_text"]

SECRET_NAMES = frozenset(
    {
        "secret",
        "appsecret",
        "key",
        "access_token",
        "refresh_token",
        "code",
        "ticket",
        "jsapi_ticket",
        "sign",
        "paysign",
        "signature",
        "sandbox_signkey",
        "pin",
        "apiv3_key",
        "private_key",
    }
)


def mask_params(params: Mapping[str, str]) -> dict[str, str]:
    return {k: mask(v) if k.lower() in SECRET_NAMES and v else v for k, v in params.items()}


_NAMES = "|".join(sorted(SECRET_NAMES, key=len, reverse=True))
_JSON_SECRET = re.compile(rf'("(?i:{_NAMES})"\s*:\s*")([^"]*)(")')
_XML_SECRET = re.compile(rf"(<((?i:{_NAMES}))>(?:<!\[CDATA\[)?)(.*?)((?:\]\]>)?</\2>)", re.DOTALL)
_QUERY_SECRET = re.compile(rf"((?:^|[?&])(?i:{_NAMES})=)([^&#\s]*)")


def mask_text(text: str) -> str:
    """An answer or request body with each secret's value masked: JSON `"name": "value"`, XML `<name>` (CDATA or
    not), `name=value` in URLs. One pass, picked by the body's first character (it runs on every answer)."""
    start = text.lstrip()[:1]
    if start == "<":
        return _XML_SECRET.sub(lambda m: m[1] + (mask(m[3]) if m[3] else "") + m[4], text)
    if start in ("{", "["):
        return _JSON_SECRET.sub(lambda m: m[1] + (mask(m[2]) if m[2] else "") + m[3], text)
    return _QUERY_SECRET.sub(lambda m: m[1] + (mask(m[2]) if m[2] else ""), text)
