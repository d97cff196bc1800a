"""The links a new order answers besides its prepay_id: NATIVE's `code_url` and MWEB's `mweb_url` / `h5_url`."""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_wechat.pay.orders import Order, TradeType

SCHEME = "weixin://wxpay/bizpayurl"
PR_LENGTH = 7
CASHIER_HOST = "wx.tenpay.com"
CASHIER_PATH = "/cgi-bin/mmpayweb-bin/checkmweb"
"""WeChat's H5 cashier: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=…&package=…`."""
MWEB_TTL = 300
"""An `mweb_url` / `h5_url` is valid for 5 minutes after unifiedorder gave it ("有效期为5分钟")."""


def pr_of(prepay_id: str) -> str:
    """Mode 2's short code (`pr=`): the last seven characters of the prepay_id."""
    return prepay_id[-PR_LENGTH:]


def code_url(order: Order) -> str:
    """What unifiedorder answers for a NATIVE order (`weixin://wxpay/bizpayurl?pr=NwY5Mz9`)."""
    return f"{SCHEME}?pr={pr_of(order.prepay_id)}"


def mweb_url(order: Order, now: float) -> str:
    """What unifiedorder answers for an MWEB order. WeChat's `package` is an opaque number (`1405458241`); the
    sandbox's is the second the link was given, so the cashier can tell its 5 minutes without a record."""
    return f"https://{CASHIER_HOST}{CASHIER_PATH}?prepay_id={order.prepay_id}&package={int(now)}"


def payment_links(order: Order, now: float) -> dict[str, str]:
    """`code_url` (NATIVE) or `mweb_url` (MWEB) in v2's names; v3 calls the second `h5_url`."""
    if order.trade_type == TradeType.NATIVE:
        return {"code_url": code_url(order)}
    if order.trade_type == TradeType.MWEB:
        return {"mweb_url": mweb_url(order, now)}
    return {}


def on_origin(link: str, origin: str) -> str:
    """A cashier link moved to `origin` (`http://127.0.0.1:8600`): where a browser that does not route WeChat's
    hosts to the sandbox reaches it. The path and query stay WeChat's."""
    parts = urlsplit(link)
    return f"{origin}{parts.path}?{parts.query}"
