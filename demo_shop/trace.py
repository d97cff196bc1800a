"""What training mode shows: each seed step the shop ran, with its request and response, secrets masked."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

SECRET_NAMES = frozenset(
    {"secret", "key", "access_token", "refresh_token", "code", "ticket", "sign", "paysign", "signature", "req_info"}
    | {"wechatpay-signature", "apiv3_key", "private_key"}
)

STEPS = {
    1: "wx.config: the page asks for a signed JS-SDK configuration",
    2: "access_token → jsapi_ticket → the JS-SDK signature",
    3: "unified order (统一下单) needs the payer's openid",
    4: "web authorization: the user agrees, WeChat redirects back with a code",
    5: "code → web access_token + openid",
    6: "refresh the web access_token with refresh_token",
    7: "the page opens the pay sheet (wx.chooseWXPay / getBrandWCPayRequest)",
    8: "prepay: unified order → prepay_id → paySign for the page",
    9: "the result: the notification, or order query, decides",
}


def mask(value: Any) -> Any:
    text = str(value)
    return "****" if len(text) <= 8 else f"{text[:4]}…{text[-4:]}"


def masked(data: Any) -> Any:
    """A copy of a dict/list with every secret-looking field masked."""
    if isinstance(data, dict):
        return {k: mask(v) if k.lower() in SECRET_NAMES and v else masked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


@dataclass
class Step:
    number: int
    what: str
    request: Any = None
    response: Any = None
    ok: bool = True
    code: str = ""
    """Where in demo_shop/ this step is implemented (shown as a link)."""
    at: float = field(default_factory=time.time)

    @property
    def title(self) -> str:
        return STEPS[self.number]


Trace = list[Step]
"""The steps one request ran; handlers hand it to the page and keep it in the session for /flow."""
