"""The shop's own records: products, orders (kept by `order_book`), signed-in sessions (in memory)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from demo_shop.trace import Step

if TYPE_CHECKING:
    from demo_shop.order_book import OrderBook


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: int
    """In fen."""
    emoji: str
    description: str


PRODUCTS = (
    Product("coffee", "手冲咖啡 Pour-over coffee", 1, "☕", "One fen: the smallest real payment."),
    Product("tea", "龙井茶 Longjing tea", 1280, "🍵", "12.80 yuan."),
    Product("mooncake", "月饼礼盒 Mooncake box", 9800, "🥮", "98.00 yuan."),
)


def product(product_id: str) -> Product | None:
    return next((p for p in PRODUCTS if p.id == product_id), None)


@dataclass
class Order:
    out_trade_no: str
    product: Product
    openid: str
    nickname: str
    status: str = "NEW"
    """NEW → PAID → PARTIALLY_REFUNDED / REFUNDED. A cancelled or failed payment leaves it NEW (pay again)."""
    prepay_id: str = ""
    transaction_id: str = ""
    fulfilled: int = 0
    """How many times the goods were handed over: must stay 1 however often WeChat notifies."""
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refunded: int = 0
    created_at: float = field(default_factory=time.time)
    owner: str = ""
    """The session of a buyer outside WeChat (no openid): only that browser sees the order's pay page."""

    @property
    def total_fee(self) -> int:
        return self.product.price

    def mark_paid(self, transaction_id: str, source: str) -> bool:
        """Paid, from the notification or an order query: the goods go out once, whichever comes first."""
        if self.status != "NEW":
            return False
        self.status, self.transaction_id = "PAID", transaction_id
        self.fulfilled += 1
        self.deliveries.append({"at": time.time(), "source": source, "fulfilled": True})
        return True

    def record_notification(self, transaction_id: str, paid: bool) -> None:
        """A verified payment notification: the first one that says paid fulfils; copies are only recorded."""
        if not (paid and self.mark_paid(transaction_id, "notification")):
            self.deliveries.append({"at": time.time(), "source": "notification", "fulfilled": False})


@dataclass
class Session:
    id: str
    openid: str = ""
    nickname: str = ""
    avatar: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0
    oauth_state: str = ""
    next_url: str = "/"
    trace: list[Step] = field(default_factory=list)
    """Every step this visitor's requests ran (the last 60), for /flow."""
    carried: list[Step] = field(default_factory=list)
    """Steps of a request that answered with a redirect: the next page's training panel shows them."""

    @property
    def signed_in(self) -> bool:
        return bool(self.openid)


MAX_SESSIONS = 1000


@dataclass
class ShopState:
    orders: OrderBook
    sessions: dict[str, Session] = field(default_factory=dict)
    forged: list[dict[str, Any]] = field(default_factory=list)
    """Notifications refused because their signature or amount did not check out."""
    fail_next_notifications: int = 0
    """Training: answer this many payment notifications with FAIL, to watch WeChat retry."""

    def fail_on_purpose(self) -> bool:
        """Whether /admin's training switch fails this (genuine) notification, so WeChat retries it."""
        if self.fail_next_notifications <= 0:
            return False
        self.fail_next_notifications -= 1
        return True

    def new_session(self) -> Session:
        session = Session(secrets.token_urlsafe(18))
        self.sessions[session.id] = session
        while len(self.sessions) > MAX_SESSIONS:  # a long `up` under many fresh test browsers stays small
            del self.sessions[next(iter(self.sessions))]
        return session

    def new_order(self, item: Product, session: Session) -> Order:
        out_trade_no = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()
        order = Order(out_trade_no, item, session.openid, session.nickname, owner="" if session.openid else session.id)
        self.orders.save(order)
        return order

    def new_scanned_order(self, item: Product, openid: str) -> Order:
        """An order placed when WeChat tells the scan-pay callback that `openid` scanned a product's code."""
        out_trade_no = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()
        order = Order(out_trade_no, item, openid, "")
        self.orders.save(order)
        return order
