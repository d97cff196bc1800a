"""Mask secrets before anything is written to the journal or a log."""

from __future__ import annotations

from collections.abc import Mapping

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
    }
)


def mask(value: str) -> str:
    """Enough to tell two values apart, never enough to use one: `AbCd…wxYz (136 chars)`."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…{value[-4:]} ({len(value)} chars)"


def mask_params(params: Mapping[str, str]) -> dict[str, str]:
    return {k: mask(v) if k.lower() in SECRET_NAMES and v else v for k, v in params.items()}
