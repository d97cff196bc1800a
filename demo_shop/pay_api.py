"""What the shop's pages ask of WeChat Pay, whichever API answers: v2 (wechat.py) or v3 (wechat_v3.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from demo_shop.trace import Trace


@dataclass(frozen=True)
class Prepay:
    prepay_id: str
    answer_signature: str
    """The order answer's own signature (v2: its `sign`; v3: its `Wechatpay-Signature`). Never a paySign: only
    the /broken "order-sign" page uses it, to repeat that mistake."""


@dataclass(frozen=True)
class Link:
    """What a NATIVE or MWEB order answers: the link the payer opens (v3's NATIVE answers no prepay_id)."""

    prepay_id: str
    url: str
    """`code_url` (NATIVE, drawn as a QR code) or `mweb_url` / `h5_url` (MWEB, where the browser goes)."""


@dataclass(frozen=True)
class Trade:
    """What an order query says, in the shop's words."""

    trade_state: str
    total: int
    """In fen."""
    transaction_id: str


class PayClient(Protocol):
    """Steps 3, 8 and 9, and refunds; `wechat.WeChat` speaks API v2, `wechat_v3.WeChatPayV3` API v3. Besides JSAPI
    (inside WeChat): NATIVE (a QR code on a desktop), MWEB (H5 pay in a phone's browser) and APP."""

    async def unified_order(
        self, out_trade_no: str, body: str, total_fee: int, openid: str, client_ip: str, trace: Trace
    ) -> Prepay: ...

    def pay_params(self, prepay_id: str, trace: Trace) -> dict[str, str]: ...

    async def native_order(
        self, out_trade_no: str, body: str, total_fee: int, product_id: str, client_ip: str, trace: Trace
    ) -> Link: ...

    async def h5_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> Link: ...

    async def app_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> str: ...

    def app_params(self, prepay_id: str, trace: Trace) -> dict[str, str]: ...

    async def order_query(self, out_trade_no: str, trace: Trace) -> Trade: ...

    async def refund(
        self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int, trace: Trace
    ) -> None: ...
