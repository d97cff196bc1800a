"""Mask secrets before anything is written to the journal or a log."""

from __future__ import annotations

from collections.abc import Mapping

from mock_wechat.masking import mask

__all__ = ["mask", "mask_params"]

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
