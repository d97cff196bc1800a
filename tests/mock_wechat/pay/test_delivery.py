"""The Deliverer and the NotificationBook against a real local listener, on a manual clock (PROTOCOL.md §5.10)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.pay import WeChatPay

from mock_wechat import errors, signing
from mock_wechat.account.service import AccountService
from mock_wechat.app import notification_renderer
from mock_wechat.clock import ManualClock
from mock_wechat.config import WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.pay import delivery, notifications, v2_dialect
from mock_wechat.pay import resend as resending
from mock_wechat.pay.delivery import Deliverer
from mock_wechat.pay.notifications import Kind, Notification, Outgoing, Status, Tamper
from mock_wechat.pay.orders import Order, Outcome
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v2_dialect import Signer
from mock_wechat.pay.v3_keys import MerchantKeyring
from mock_wechat.store import SQLiteStore, Store
from sandbox import defaults
from tests.conftest import make_config
from tests.mock_wechat.conftest import Shared
from tests.pay_helpers import APPID, HMAC, MCH_ID, MCH_KEY, MD5, openid, order_fields, parse

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

ACK = (200, "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>")
SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
"""WeChat's published retry intervals: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h."""
SLOW = (0, "slow")
"""A scripted reply meaning: do not answer until the test ends."""
HEX32 = re.compile(r"^[0-9A-F]{32}$")
HEX64 = re.compile(r"^[0-9A-F]{64}$")
PAYMENT_FIELDS = {
    "appid",
    "bank_type",
    "cash_fee",
    "fee_type",
    "is_subscribe",
    "mch_id",
    "nonce_str",
    "openid",
    "out_trade_no",
    "result_code",
    "return_code",
    "sign",
    "time_end",
    "total_fee",
    "trade_type",
    "transaction_id",
}


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Listener:
    """A merchant's notify_url: answers from a script (then ACK), records every request it got."""

    url: str = ""
    replies: list[tuple[int, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), (await request.read()).decode()))
        self.arrived.set()
        status, text = self.replies.pop(0) if self.replies else ACK
        if (status, text) == SLOW:
            await self.release.wait()
            status, text = ACK
        return web.Response(status=status, text=text, content_type="text/xml")


@pytest.fixture
async def listener(aiohttp_server: ServerFactory) -> AsyncIterator[Listener]:
    found = Listener()
    app = web.Application()
    app.router.add_post("/pay/notify", found.handle)
    server = await aiohttp_server(app)
    found.url = str(server.make_url("/pay/notify"))
    yield found
    found.release.set()  # a held-back answer may finish before the server closes


@dataclass
class Env:
    """A pay service, its notification book and a deliverer, all on one manual clock."""

    config: WeChatConfig
    clock: ManualClock
    pay: PayService
    deliverer: Deliverer

    def signer(self, sign_type: str = MD5) -> Signer:
        merchant = self.config.merchant(MCH_ID)
        assert merchant is not None
        return Signer(merchant, MCH_KEY, sign_type, sandbox=False)

    def paid_order(self, url: str, out_trade_no: str = "T1", sign_type: str = MD5, **extra: Any) -> Order:
        fields = order_fields(out_trade_no=out_trade_no, notify_url=url, **extra)
        request = v2_dialect.order_request(self.pay, self.signer(sign_type), {k: str(v) for k, v in fields.items()})
        self.pay.place_order(request)
        return self.pay.pay(MCH_ID, out_trade_no, None, Outcome.SUCCESS)

    def only(self) -> Notification:
        [note] = self.pay.book.all()
        return note

    def create(self, url: str, body: str = "<xml><return_code>SUCCESS</return_code></xml>") -> Notification:
        return self.pay.book.create(kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no="T1", notify_url=url, body=body)


EnvFactory = Callable[..., Env]


def sent(env: Env, note: Notification) -> str:
    """The body last sent for `note` (notifications are rendered at each attempt)."""
    found = env.pay.book.get(note.id)
    assert found is not None
    assert found.attempts, "not sent yet"
    return found.body


@pytest.fixture
async def make_env() -> AsyncIterator[EnvFactory]:
    made: list[Env] = []

    def factory(
        config: WeChatConfig | None = None, speed: float = 1.0, store: Store | None = None, **deliverer: float
    ) -> Env:
        cfg = config if config is not None else make_config()
        clock, ids = ManualClock(), Ids(7)
        store = store if store is not None else SQLiteStore.in_memory()
        accounts = AccountService(cfg, store, clock, ids)
        accounts.seed_users()
        pay = PayService(cfg, store, clock, ids, accounts, notify_speed=speed)
        render = notification_renderer(pay, MerchantKeyring(store, clock, lambda: cfg))
        env = Env(cfg, clock, pay, Deliverer(pay.book, cfg, render=render, **deliverer))
        made.append(env)
        return env

    yield factory
    for env in made:
        await env.deliverer.close()


@pytest.fixture
def env(make_env: EnvFactory) -> Env:
    return make_env()


def wechatpy() -> WeChatPay:
    return WeChatPay(APPID, MCH_KEY, MCH_ID)


# -- the first attempt and what counts as acknowledged --------------------------------------------


async def test_the_first_attempt_goes_out_at_once(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url)
    note = env.only()
    assert note.status == Status.PENDING
    assert note.next_at == env.clock.now()
    [delivered] = await env.deliverer.deliver_due()
    assert [r.body for r in listener.received] == [delivered.body]
    assert delivered.status == Status.DELIVERED
    assert delivered.next_at is None
    assert delivered.attempts == [
        {
            "number": 1,
            "at": env.clock.now(),
            "status": 200,
            "body": ACK[1],
            "verdict": "acknowledged with return_code SUCCESS",
            "ok": True,
            "next_at": None,
        }
    ]
    assert env.pay.book.get(note.id) == delivered
    assert env.pay.book.pending() == []
    assert parse(delivered.body)["transaction_id"] == order.transaction_id


async def test_the_request_carries_xml_headers_and_the_notification_id(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    await env.deliverer.deliver_due()
    [got] = listener.received
    assert got.headers["Content-Type"] == "text/xml"
    assert got.headers["Request-ID"] == env.only().id
    assert got.body.startswith("<xml>")


async def test_a_delivered_notification_is_not_sent_again(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    await env.deliverer.deliver_due()
    env.clock.advance(86_400 * 2)
    assert await env.deliverer.deliver_due() == []
    assert len(listener.received) == 1


@pytest.mark.parametrize(
    "reply",
    [
        ACK,
        (200, "<xml><return_code>SUCCESS</return_code></xml>"),
        (200, "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>"),
    ],
)
async def test_http_200_with_return_code_success_is_acknowledged(
    env: Env, listener: Listener, reply: tuple[int, str]
) -> None:
    listener.replies = [reply]
    env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.DELIVERED
    assert note.attempts[0]["ok"] is True


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ((500, ACK[1]), "HTTP 500; WeChat needs 200"),
        ((404, ACK[1]), "HTTP 404; WeChat needs 200"),
        ((204, ""), "HTTP 204; WeChat needs 200"),
        ((302, ACK[1]), "HTTP 302; WeChat needs 200"),
        ((200, "SUCCESS"), "the answer is not WeChat's <xml> reply"),
        ((200, ""), "the answer is not WeChat's <xml> reply"),
        ((200, '{"code": "SUCCESS"}'), "the answer is not WeChat's <xml> reply"),
        (
            (200, "<xml><return_code>FAIL</return_code><return_msg>bad sign</return_msg></xml>"),
            "return_code is 'FAIL', not 'SUCCESS'",
        ),
        ((200, "<xml><return_msg>OK</return_msg></xml>"), "return_code is None, not 'SUCCESS'"),
        ((200, "<xml><return_code>success</return_code></xml>"), "return_code is 'success', not 'SUCCESS'"),
    ],
)
async def test_anything_else_is_a_failed_attempt(
    env: Env, listener: Listener, reply: tuple[int, str], verdict: str
) -> None:
    listener.replies = [reply]
    created = env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert len(listener.received) == 1
    assert note.status == Status.PENDING
    assert note.next_at == created.created_at + 15
    [attempt] = note.attempts
    assert attempt["ok"] is False
    assert attempt["status"] == reply[0]
    assert attempt["body"] == reply[1]
    assert str(attempt["verdict"]).startswith(verdict)
    assert attempt["next_at"] == created.created_at + 15


async def test_a_listener_slower_than_the_timeout_fails_the_attempt(
    env: Env, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications, "TIMEOUT", 0.2)  # stands for the real 5 s
    listener.replies = [SLOW]
    created = env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert len(listener.received) == 1
    assert note.status == Status.PENDING
    [attempt] = note.attempts
    assert attempt["ok"] is False
    assert attempt["status"] is None
    assert attempt["verdict"] == "no answer within 5 s"
    assert note.next_at == created.created_at + 15


def test_the_real_timeout_is_five_seconds() -> None:
    assert notifications.TIMEOUT == 5.0


async def test_a_listener_that_is_not_there_fails_the_attempt(
    env: Env, listener: Listener, unused_tcp_port: int
) -> None:
    created = env.create(f"http://127.0.0.1:{unused_tcp_port}/pay/notify")
    [note] = await env.deliverer.deliver_due()
    [attempt] = note.attempts
    assert attempt["ok"] is False
    assert attempt["status"] is None
    assert str(attempt["verdict"]).startswith("connection failed")
    assert note.next_at == created.created_at + 15


# -- the retry schedule on the sandbox clock ------------------------------------------------------


def test_the_schedule_is_wechats_and_lasts_24h4m() -> None:
    assert notifications.SCHEDULE == SCHEDULE
    assert sum(SCHEDULE) == 24 * 3600 + 4 * 60


async def test_retries_follow_the_schedule_and_then_give_up(env: Env, listener: Listener) -> None:
    listener.replies = [(500, "down")] * (len(SCHEDULE) + 1)
    note = env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    for number, delay in enumerate(SCHEDULE, start=2):
        assert note.status == Status.PENDING
        assert note.next_at == env.clock.now() + delay
        assert env.pay.book.next_due_at() == note.next_at
        env.clock.advance(delay - 1)
        assert await env.deliverer.deliver_due() == [], f"attempt {number} went out a second early"
        env.clock.advance(1)
        [note] = await env.deliverer.deliver_due()
        assert len(note.attempts) == number
        assert len(listener.received) == number
    assert len(note.attempts) == 1 + len(SCHEDULE)
    assert note.status == Status.FAILED
    assert note.next_at is None
    assert note.attempts[-1]["next_at"] is None
    assert env.pay.book.pending() == []
    assert env.pay.book.next_due_at() is None
    env.clock.advance(86_400 * 7)
    assert await env.deliverer.deliver_due() == []
    assert len(listener.received) == 1 + len(SCHEDULE)


async def test_a_success_after_failures_stops_the_retries(env: Env, listener: Listener) -> None:
    listener.replies = [(500, "down"), (200, "not xml")]
    env.create(listener.url)
    await env.deliverer.deliver_due()
    env.clock.advance(15)
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.PENDING
    assert note.next_at == env.clock.now() + 15
    env.clock.advance(15)
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.DELIVERED
    assert [a["ok"] for a in note.attempts] == [False, False, True]
    assert [a["number"] for a in note.attempts] == [1, 2, 3]
    env.clock.advance(86_400)
    assert await env.deliverer.deliver_due() == []


async def test_advancing_past_several_due_times_sends_one_attempt(env: Env, listener: Listener) -> None:
    listener.replies = [(500, "down")] * 2
    env.create(listener.url)
    await env.deliverer.deliver_due()
    env.clock.advance(3600)
    [note] = await env.deliverer.deliver_due()
    assert len(note.attempts) == 2
    assert note.next_at == env.clock.now() + 15
    assert len(listener.received) == 2


@pytest.mark.parametrize("speed", [60.0, 15.0, 0.5])
async def test_notify_speed_divides_the_delays(make_env: EnvFactory, listener: Listener, speed: float) -> None:
    env = make_env(speed=speed)
    listener.replies = [(500, "down")] * 4
    env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    for number, delay in enumerate(SCHEDULE[:3], start=2):
        assert note.next_at == pytest.approx(env.clock.now() + delay / speed)
        env.clock.advance(delay / speed)
        [note] = await env.deliverer.deliver_due()
        assert len(note.attempts) == number


async def test_due_notifications_go_out_together(env: Env, listener: Listener) -> None:
    for out_trade_no in ("T1", "T2", "T3"):
        env.paid_order(listener.url, out_trade_no=out_trade_no)
    delivered = await env.deliverer.deliver_due()
    assert sorted(parse(n.body)["out_trade_no"] for n in delivered) == ["T1", "T2", "T3"]
    assert all(n.status == Status.DELIVERED for n in delivered)
    assert len(listener.received) == 3


async def test_pending_notifications_survive_a_new_book_on_the_same_store(env: Env, listener: Listener) -> None:
    listener.replies = [(500, "down")]
    env.create(listener.url)
    await env.deliverer.deliver_due()
    pay = PayService(env.config, env.pay.store, env.clock, Ids(7, 2), env.pay.accounts)
    again = Deliverer(pay.book, env.config)
    try:
        assert [n.id for n in pay.book.pending()] == [env.only().id]
        env.clock.advance(15)
        [note] = await again.deliver_due()
    finally:
        await again.close()
    assert note.status == Status.DELIVERED
    assert len(note.attempts) == 2


# -- the allowlist --------------------------------------------------------------------------------


async def test_a_notify_url_outside_the_allowlist_is_refused_without_a_request(
    make_env: EnvFactory, listener: Listener
) -> None:
    closed = replace(defaults.default_merchant(), trust_loopback=False, notify_hosts=("shop.example",))
    env = make_env(make_config(merchants=(closed,)))
    created = env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert listener.received == []
    [attempt] = note.attempts
    assert attempt["ok"] is False
    assert attempt["status"] is None
    assert attempt["verdict"] == "refused: notify_url host is not in the allowlist"
    assert note.next_at == created.created_at + 15


async def test_a_listed_host_and_port_is_delivered(make_env: EnvFactory, listener: Listener) -> None:
    host_port = listener.url.split("/")[2]
    listed = replace(defaults.default_merchant(), trust_loopback=False, notify_hosts=(host_port,))
    env = make_env(make_config(merchants=(listed,)))
    env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.DELIVERED
    assert len(listener.received) == 1


async def test_a_merchant_no_longer_configured_gets_no_request(make_env: EnvFactory, listener: Listener) -> None:
    env = make_env(make_config(merchants=()))
    env.create(listener.url)
    [note] = await env.deliverer.deliver_due()
    assert listener.received == []
    assert note.attempts[0]["verdict"] == "refused: notify_url host is not in the allowlist"


# -- what is delivered: signed payment notifications ----------------------------------------------


async def test_an_md5_order_is_notified_with_an_md5_sign(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url, attach="座位 12", device_info="WEB")
    await env.deliverer.deliver_due()
    [got] = listener.received
    fields = parse(got.body)
    assert set(fields) == PAYMENT_FIELDS | {"attach", "device_info"}
    assert "sign_type" not in fields
    assert HEX32.match(fields["sign"])
    assert signing.v2_verify(fields, MCH_KEY, MD5)
    assert fields == {
        **fields,
        "appid": APPID,
        "mch_id": MCH_ID,
        "openid": openid("alice"),
        "out_trade_no": "T1",
        "total_fee": "100",
        "cash_fee": "100",
        "fee_type": "CNY",
        "bank_type": "OTHERS",
        "trade_type": "JSAPI",
        "result_code": "SUCCESS",
        "return_code": "SUCCESS",
        "transaction_id": order.transaction_id,
        "time_end": order.time_end,
        "attach": "座位 12",
        "device_info": "WEB",
    }


async def test_wechatpy_accepts_the_md5_payment_notification(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url)
    await env.deliverer.deliver_due()
    result = wechatpy().parse_payment_result(listener.received[0].body)
    assert result["out_trade_no"] == "T1"
    assert result["transaction_id"] == order.transaction_id
    assert result["total_fee"] == 100
    assert result["cash_fee"] == 100


async def test_an_hmac_order_is_notified_with_a_64_hex_hmac_sign_and_no_sign_type(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url, sign_type=HMAC)
    await env.deliverer.deliver_due()
    fields = parse(listener.received[0].body)
    assert set(fields) == PAYMENT_FIELDS
    assert "sign_type" not in fields
    assert HEX64.match(fields["sign"])
    assert signing.v2_verify(fields, MCH_KEY, HMAC)
    assert not signing.v2_verify(fields, MCH_KEY, MD5)


async def test_wechatpy_refuses_an_hmac_payment_notification_as_documented(env: Env, listener: Listener) -> None:
    """CLIENTS.md A.3: parse_payment_result always checks MD5, so HMAC orders' notifications fail in wechatpy."""
    env.paid_order(listener.url, sign_type=HMAC)
    await env.deliverer.deliver_due()
    with pytest.raises(InvalidSignatureException):
        wechatpy().parse_payment_result(listener.received[0].body)


# -- refund notifications -------------------------------------------------------------------------


def refund(env: Env, url: str, refund_fee: int = 40, out_refund_no: str = "R1") -> None:
    fields = {
        "appid": APPID,
        "out_trade_no": "T1",
        "out_refund_no": out_refund_no,
        "total_fee": "100",
        "refund_fee": str(refund_fee),
        "notify_url": url,
    }
    env.pay.make_refund(v2_dialect.refund_request(env.pay, env.signer(), fields))


def root_fields(text: str) -> dict[str, str]:
    root = ET.fromstring(text)  # noqa: S314 - the sandbox's own plaintext
    assert root.tag == "root", text
    return {child.tag: child.text or "" for child in root}


async def test_the_refund_notification_req_info_decrypts_to_the_refund(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url)
    refund(env, listener.url)
    await env.deliverer.deliver_due()
    [refunded] = [n for n in env.pay.book.all() if n.kind == Kind.REFUND]
    assert refunded.out_refund_no == "R1"
    assert refunded.status == Status.DELIVERED
    [got] = [r for r in listener.received if "req_info" in r.body]
    outer = parse(got.body)
    assert {"return_code", "appid", "mch_id", "nonce_str", "req_info"} <= set(outer)
    assert "sign" not in outer, "refund notifications are encrypted, not signed"
    assert outer["return_code"] == "SUCCESS"
    assert (outer["appid"], outer["mch_id"]) == (APPID, MCH_ID)
    inner = root_fields(signing.v2_refund_req_info_decrypt(outer["req_info"], MCH_KEY))
    made = env.pay.refunds.get(f"{MCH_ID}:R1")
    assert made is not None
    assert inner == {
        "out_refund_no": "R1",
        "out_trade_no": "T1",
        "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
        "refund_fee": "40",
        "refund_id": made.refund_id,
        "refund_recv_accout": "支付用户的零钱",
        "refund_request_source": "API",
        "refund_status": "SUCCESS",
        "settlement_refund_fee": "40",
        "settlement_total_fee": "100",
        "success_time": made.success_time,
        "total_fee": "100",
        "transaction_id": order.transaction_id,
    }


async def test_wechatpy_decrypts_the_refund_notification(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url)
    refund(env, listener.url, refund_fee=100)
    await env.deliverer.deliver_due()
    [got] = [r for r in listener.received if "req_info" in r.body]
    result = wechatpy().parse_refund_notify_result(got.body)
    assert result["out_refund_no"] == "R1"
    assert result["transaction_id"] == order.transaction_id
    assert result["refund_fee"] == 100
    assert result["total_fee"] == 100
    assert result["refund_status"] == "SUCCESS"


async def test_a_refund_without_notify_url_is_not_notified(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    refund(env, "")
    assert [n.kind for n in env.pay.book.all()] == [Kind.PAYMENT]


# -- resending ------------------------------------------------------------------------------------


async def delivered_payment(env: Env, listener: Listener) -> Notification:
    env.paid_order(listener.url)
    [note] = await env.deliverer.deliver_due()
    listener.received.clear()
    return note


async def test_resend_delivers_a_freshly_signed_copy(env: Env, listener: Listener) -> None:
    original = await delivered_payment(env, listener)
    [copy] = resending.resend(env.pay, original.id)
    assert copy.id != original.id
    assert copy.status == Status.PENDING
    assert copy.note == "resent"
    assert (copy.kind, copy.out_trade_no, copy.notify_url) == (original.kind, "T1", original.notify_url)
    [sent] = await env.deliverer.deliver_due()
    assert sent.id == copy.id
    assert sent.status == Status.DELIVERED
    [got] = listener.received
    fields = parse(got.body)
    assert signing.v2_verify(fields, MCH_KEY, MD5)
    before = parse(original.body)
    assert {k: v for k, v in fields.items() if k not in ("nonce_str", "sign")} == {
        k: v for k, v in before.items() if k not in ("nonce_str", "sign")
    }
    assert wechatpy().parse_payment_result(got.body)["out_trade_no"] == "T1"


async def test_resend_duplicate_sends_two_copies_at_once(env: Env, listener: Listener) -> None:
    original = await delivered_payment(env, listener)
    copies = resending.resend(env.pay, original.id, duplicate=True)
    assert len(copies) == 2
    assert len({c.id for c in copies} | {original.id}) == 3
    assert [c.note for c in copies] == ["resent (duplicate 1 of 2)", "resent (duplicate 2 of 2)"]
    delivered = await env.deliverer.deliver_due()
    assert sorted(n.id for n in delivered) == sorted(c.id for c in copies)
    assert len(listener.received) == 2
    for got in listener.received:
        fields = parse(got.body)
        assert signing.v2_verify(fields, MCH_KEY, MD5)
        assert fields["transaction_id"] == parse(original.body)["transaction_id"]


async def test_resend_tamper_sign_sends_a_sign_that_does_not_verify(env: Env, listener: Listener) -> None:
    original = await delivered_payment(env, listener)
    [forged] = resending.resend(env.pay, original.id, tamper=Tamper.SIGN)
    assert forged.note == "forged (sign): the merchant must refuse it"
    await env.deliverer.deliver_due()
    [got] = listener.received
    fields = parse(got.body)
    assert not signing.v2_verify(fields, MCH_KEY, MD5)
    assert not signing.v2_verify(fields, MCH_KEY, HMAC)
    assert fields["total_fee"] == "100"
    with pytest.raises(InvalidSignatureException):
        wechatpy().parse_payment_result(got.body)


async def test_resend_tamper_amount_changes_total_fee_and_keeps_the_sign(env: Env, listener: Listener) -> None:
    original = await delivered_payment(env, listener)
    [forged] = resending.resend(env.pay, original.id, tamper=Tamper.AMOUNT)
    assert forged.note == "forged (amount): the merchant must refuse it"
    await env.deliverer.deliver_due()
    [got] = listener.received
    fields = parse(got.body)
    assert fields["total_fee"] == "101"
    assert not signing.v2_verify(fields, MCH_KEY, MD5)
    signed_for = {**fields, "total_fee": "100", "cash_fee": "100"}
    assert signing.v2_verify(signed_for, MCH_KEY, MD5), "the sign is the genuine one, for the genuine amount"
    with pytest.raises(InvalidSignatureException):
        wechatpy().parse_payment_result(got.body)


async def test_resend_tamper_sign_of_an_hmac_order_keeps_the_64_hex_shape(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url, sign_type=HMAC)
    [original] = await env.deliverer.deliver_due()
    listener.received.clear()
    resending.resend(env.pay, original.id, tamper=Tamper.SIGN)
    await env.deliverer.deliver_due()
    fields = parse(listener.received[0].body)
    assert len(fields["sign"]) == 64
    assert not signing.v2_verify(fields, MCH_KEY, HMAC)


async def test_resend_of_a_refund_notification_decrypts_again(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    refund(env, listener.url)
    await env.deliverer.deliver_due()
    [original] = [n for n in env.pay.book.all() if n.kind == Kind.REFUND]
    listener.received.clear()
    [copy] = resending.resend(env.pay, original.id)
    assert (copy.kind, copy.out_refund_no) == (Kind.REFUND, "R1")
    await env.deliverer.deliver_due()
    result = wechatpy().parse_refund_notify_result(listener.received[0].body)
    assert result["out_refund_no"] == "R1"


async def test_resend_tamper_sign_of_a_refund_notification_breaks_req_info(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    refund(env, listener.url)
    [original] = [n for n in env.pay.book.all() if n.kind == Kind.REFUND]
    await env.deliverer.deliver_due()
    [forged] = resending.resend(env.pay, original.id, tamper=Tamper.SIGN)
    await env.deliverer.deliver_due()
    req_info = parse(sent(env, forged))["req_info"]
    assert req_info != parse(sent(env, original))["req_info"]
    try:
        plaintext = signing.v2_refund_req_info_decrypt(req_info, MCH_KEY)
    except ValueError:  # UnicodeDecodeError, or bad padding
        return
    assert not plaintext.startswith("<root>"), "the forged req_info must not decrypt to the genuine refund"


async def test_resend_tamper_amount_of_a_refund_notification_is_refused(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    refund(env, listener.url)
    [original] = [n for n in env.pay.book.all() if n.kind == Kind.REFUND]
    with pytest.raises(errors.ParamError):
        resending.resend(env.pay, original.id, tamper=Tamper.AMOUNT)


async def test_resend_of_an_unknown_notification_is_refused(env: Env) -> None:
    with pytest.raises(errors.ParamError):
        resending.resend(env.pay, "no-such-id")


async def test_a_reset_during_an_attempt_does_not_bring_the_notification_back(env: Env, listener: Listener) -> None:
    listener.replies = [SLOW]
    env.create(listener.url)
    attempt = asyncio.create_task(env.deliverer.deliver_due())
    await asyncio.wait_for(listener.arrived.wait(), 5)  # the request is in flight
    env.pay.store.clear()  # what POST /_sandbox/api/reset does
    listener.release.set()
    await attempt
    assert env.pay.book.all() == []
    assert env.pay.book.pending() == []


# -- answers in pieces, slow merchants ------------------------------------------------------------


async def test_an_answer_written_in_two_chunks_is_read_whole(env: Env, aiohttp_server: ServerFactory) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"<xml><return_code><![CDATA[SUCC")
        await asyncio.sleep(0.05)  # the merchant's second write comes a little later
        await response.write(b"ESS]]></return_code></xml>")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/notify", chunked)
    server = await aiohttp_server(app)
    env.create(str(server.make_url("/notify")))
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.DELIVERED


async def test_a_slow_merchant_does_not_hold_up_another_notification(env: Env, listener: Listener) -> None:
    listener.replies.append(SLOW)
    env.create(listener.url)
    slow = asyncio.create_task(env.deliverer.deliver_due())
    await listener.arrived.wait()
    other = env.pay.book.create(
        kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no="T2", notify_url=listener.url, body="<xml/>"
    )
    [delivered] = await asyncio.wait_for(env.deliverer.deliver_due(), timeout=2)
    assert delivered.id == other.id
    listener.release.set()
    await slow


async def test_thirty_hanging_merchants_do_not_delay_a_healthy_one(
    make_env: EnvFactory, listener: Listener, aiohttp_server: ServerFactory
) -> None:
    env = make_env(timeout=2.0)  # stands for the real 5 s
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(status=500)

    for n in range(30):
        app = web.Application()
        app.router.add_post("/notify", hang)
        server = await aiohttp_server(app)
        env.pay.book.create(
            kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no=f"H{n}", notify_url=str(server.make_url("/notify")), body=""
        )
    healthy = env.pay.book.create(
        kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no="OK", notify_url=listener.url, body="<xml/>"
    )
    delivering = asyncio.create_task(env.deliverer.deliver_due())
    try:
        await asyncio.wait_for(listener.arrived.wait(), timeout=1.0)  # well before any hanging one times out
    finally:
        never.set()
        notes = {note.id: note for note in await delivering}
    assert notes[healthy.id].status == Status.DELIVERED


def test_a_hanging_host_holds_at_most_its_own_slots() -> None:
    assert delivery.PER_HOST == 4
    assert delivery.PARALLEL >= 64 * delivery.PER_HOST


async def test_a_huge_answer_starting_with_success_is_acknowledged_once(
    env: Env, aiohttp_server: ServerFactory
) -> None:
    answered: list[int] = []

    async def huge(request: web.Request) -> web.StreamResponse:
        answered.append(1)
        response = web.StreamResponse(headers={"Content-Type": "text/xml"})
        await response.prepare(request)
        await response.write(ACK[1].encode())
        for _ in range(160):  # 10 MiB after the acknowledgement
            try:
                await response.write(b"x" * 65_536)
            except ConnectionError:  # WeChat stopped reading
                break
        return response

    app = web.Application()
    app.router.add_post("/notify", huge)
    server = await aiohttp_server(app)
    env.create(str(server.make_url("/notify")))
    [note] = await env.deliverer.deliver_due()
    assert note.status == Status.DELIVERED
    assert note.next_at is None
    [attempt] = note.attempts
    assert attempt["ok"] is True
    assert (
        attempt["verdict"] == f"acknowledged with return_code SUCCESS (the answer was cut at {delivery.MAX_READ} bytes)"
    )
    assert await env.deliverer.deliver_due() == []
    assert answered == [1]


# -- rendered at delivery ---------------------------------------------------------------------------------


async def test_each_attempt_is_rendered_afresh_and_signed(env: Env, listener: Listener) -> None:
    order = env.paid_order(listener.url)
    listener.replies = [(500, "busy")]
    await env.deliverer.deliver_due()
    env.clock.advance(15)
    await env.deliverer.deliver_due()
    first, second = (parse(r.body) for r in listener.received)
    assert first["nonce_str"] != second["nonce_str"]
    assert first["transaction_id"] == second["transaction_id"] == order.transaction_id
    for fields in (first, second):
        assert signing.v2_verify(fields, MCH_KEY)


async def test_a_notification_whose_order_is_gone_is_not_sent(env: Env, listener: Listener) -> None:
    env.paid_order(listener.url)
    env.pay.store.clear()
    note = env.pay.book.create(kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no="T1", notify_url=listener.url)
    [tried] = await env.deliverer.deliver_due()
    assert listener.received == []
    assert tried.attempts[0]["verdict"] == "not sent: order T1 is gone (reset?)"
    assert tried.id == note.id


async def test_a_notification_that_cannot_be_rendered_waits_for_its_next_attempt(
    make_env: EnvFactory, listener: Listener
) -> None:
    env = make_env()

    def broken(note: Notification) -> Outgoing:
        raise RuntimeError("renderer bug")

    env.deliverer.render = broken
    note = env.pay.book.create(kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no="T1", notify_url=listener.url)
    [tried] = await env.deliverer.deliver_due()
    assert tried.id == note.id
    assert tried.attempts[0]["verdict"] == "not sent: the sandbox could not render it (RuntimeError: renderer bug)"
    assert tried.next_at == env.clock.now() + 15
    assert await env.deliverer.deliver_due() == []


async def test_in_flight_waits_for_an_attempt_already_started(env: Env, listener: Listener) -> None:
    listener.replies.append(SLOW)
    note = env.create(listener.url)
    delivering = asyncio.create_task(env.deliverer.deliver_due())
    await listener.arrived.wait()
    assert await env.deliverer.deliver_due() == []  # already in flight: not started twice
    waiting = asyncio.create_task(env.deliverer.in_flight())
    listener.release.set()
    [done] = await asyncio.wait_for(waiting, timeout=2)
    assert done.id == note.id
    await delivering


# -- claims: each attempt made by one process of those sharing a store -----------------------------


async def test_a_notification_another_process_has_claimed_is_left_to_it(env: Env, listener: Listener) -> None:
    note = env.create(listener.url)
    assert env.pay.book.claim(note.id, 30.0, time.time()) is not None  # as another process sharing the store would
    await env.deliverer.deliver_due()
    assert listener.received == []
    assert env.only().attempts == []


async def test_a_lease_that_ran_out_is_taken_over(env: Env, listener: Listener) -> None:
    note = env.create(listener.url)
    env.pay.book.claim(note.id, 30.0, time.time() - 60)  # a process that died a minute into its attempt
    [delivered] = await env.deliverer.deliver_due()
    assert (delivered.status, len(listener.received), delivered.leased_until) == (Status.DELIVERED, 1, 0.0)


async def test_a_claim_of_a_notification_not_yet_due_is_refused(env: Env, listener: Listener) -> None:
    note = env.create(listener.url)
    env.clock.current -= 10
    assert env.pay.book.claim(note.id, 30.0, time.time()) is None


async def test_two_processes_on_one_store_make_each_attempt_once(
    make_env: EnvFactory, listener: Listener, open_shared: Shared
) -> None:
    first, second = make_env(store=open_shared()), make_env(store=open_shared())
    for n in range(20):
        first.pay.book.create(
            kind=Kind.PAYMENT, mch_id=MCH_ID, out_trade_no=f"T{n}", notify_url=listener.url, body=f"<xml>{n}</xml>"
        )
    await asyncio.gather(first.deliverer.deliver_due(), second.deliverer.deliver_due())
    assert sorted(r.body for r in listener.received) == sorted(f"<xml>{n}</xml>" for n in range(20))
    assert all(len(n.attempts) == 1 for n in second.pay.book.all())


async def test_the_loop_waits_out_another_process_lease_then_takes_over(
    env: Env, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = env.create(listener.url)
    env.pay.book.claim(note.id, 0.3, time.time())  # another process holds it for 0.3 s, then dies
    claims: list[str] = []
    claim = env.pay.book.claim

    def counted(note_id: str, lease: float, wall_now: float) -> Notification | None:
        claims.append(note_id)
        return claim(note_id, lease, wall_now)

    monkeypatch.setattr(env.pay.book, "claim", counted)
    looping = asyncio.create_task(env.deliverer.run())
    try:
        await asyncio.wait_for(listener.arrived.wait(), timeout=2)  # at the lease's end, not the 30 s idle look
    finally:
        looping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await looping
    assert claims == [note.id]  # no claim while the lease ran (each refused claim used to start the next at once)
