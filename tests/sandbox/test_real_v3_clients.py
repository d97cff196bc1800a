"""Unmodified wechatpayv3 2.0.4 against a running sandbox, in public-key and certificate modes (CLIENTS.md B)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3 import WeChatPay, WeChatPayType
from yarl import URL

from sandbox import config_file
from sandbox.testing import AppThread, SandboxThread, WeChatSandbox
from tests.conftest import v3_material

MODES = ["public_key", "platform_certificate"]
"""The merchant's `response_signing`: what signs the answers and notifications wechatpayv3 verifies."""
WAIT = 10.0
"""Seconds a notification may take to reach the listener (milliseconds in practice; this only bounds a hang)."""
FORWARDED = ("authorization", "content-type", "accept", "user-agent", "wechatpay-serial")
"""The request headers wechatpayv3 sends that the tampering proxy passes on (the Host is the sandbox's own)."""
ACK = {"code": "SUCCESS", "message": "成功"}
REFUSED = {"code": "FAIL", "message": "失败"}
Received = dict[str, Any] | BaseException | None
"""What `callback()` made of one notification: the decrypted notification, None, or what it raised."""


# -- a sandbox whose API v3 keys are valid from the real time (wechatpayv3 checks certificates against it) ---


@pytest.fixture(scope="module")
def running() -> Iterator[str]:
    """One in-memory sandbox for this module, with the session's fixed API v3 material (tests/conftest.py)."""
    config = config_file.load(None)
    [merchant, *others] = config.merchants
    server = SandboxThread(replace(config, merchants=(replace(merchant, v3_keys=v3_material()), *others))).start()
    yield server.url
    server.stop()


@pytest.fixture
def sandbox(running: str) -> WeChatSandbox:
    sandbox = WeChatSandbox(running)
    sandbox.reset()
    return sandbox


def client(sandbox: WeChatSandbox, cert_dir: Path | None = None, **overrides: Any) -> Any:
    """wechatpayv3 as a merchant sets it up: `sandbox.v3` (and in certificate mode a `cert_dir` holding the
    platform certificate, else the constructor downloads it from api.mch.weixin.qq.com), then the gateway."""
    extra: dict[str, Any] = {}
    if cert_dir is not None:
        merchant = sandbox.config["merchants"][0]
        (cert_dir / f"{merchant['platform_serial_no']}.pem").write_text(merchant["platform_certificate"])
        extra["cert_dir"] = str(cert_dir)
    wxpay = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, **(sandbox.v3 | extra | overrides))
    wxpay._core._gate_way = sandbox.url
    return wxpay


@pytest.fixture(params=MODES)
def wxpay(request: pytest.FixtureRequest, sandbox: WeChatSandbox, tmp_path: Path) -> Any:
    """wechatpayv3 in either mode: the merchant's answers are signed by the public key or the platform certificate."""
    mode = str(request.param)
    sandbox.configure_merchant(response_signing=mode)
    return client(sandbox, tmp_path if mode == "platform_certificate" else None)


# -- the merchant's notify_url: hands each POST to callback(), as a merchant's web app does ----------------


class Listener:
    """An aiohttp notify_url on 127.0.0.1 whose handler passes the headers and body to `wxpay.callback`."""

    def __init__(self, wxpay: Any) -> None:
        self.wxpay = wxpay
        self.received: dict[str, Received] = {}
        self.changed = threading.Condition()
        self.thread = AppThread(self.build)

    def build(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/notify", self.notify)
        return app

    @property
    def url(self) -> str:
        return self.thread.url + "/notify"

    async def notify(self, request: web.Request) -> web.Response:
        body = await request.read()
        result: Received
        try:
            result = self.wxpay.callback(request.headers, body)
        except Exception as exc:  # noqa: BLE001 - kept: what callback() does with a notification is the finding
            result = exc
        with self.changed:
            self.received[str(json.loads(body).get("id"))] = result
            self.changed.notify_all()
        if isinstance(result, dict):
            return web.json_response(ACK)
        return web.json_response(REFUSED, status=400)

    def result_of(self, notification_id: str) -> Received:
        """What callback() returned for this notification, once it arrived (bounded wait)."""
        with self.changed:
            if not self.changed.wait_for(lambda: notification_id in self.received, WAIT):
                raise AssertionError(f"notification {notification_id} not received within {WAIT} s: {self.received}")
            return self.received[notification_id]


@pytest.fixture
def listener(wxpay: Any) -> Iterator[Listener]:
    merchant = Listener(wxpay)
    merchant.thread.start()
    yield merchant
    merchant.thread.stop()


# -- a tampering proxy between wechatpayv3 and the sandbox -----------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """A request as wechatpayv3 sent it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str


class Proxy:
    """Forwards to the sandbox, records each request, and may change one byte of the answer's body or signature."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.tamper: str | None = None
        self.seen: list[Seen] = []
        self.session: aiohttp.ClientSession | None = None
        self.thread = AppThread(self.build)

    @property
    def url(self) -> str:
        return self.thread.url

    def build(self) -> web.Application:
        app = web.Application()
        app.cleanup_ctx.append(self.client_session)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        return app

    async def client_session(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            self.session = session
            yield

    async def forward(self, request: web.Request) -> web.Response:
        assert self.session is not None
        body = await request.read()
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), body.decode()))
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        target = URL(self.upstream + request.raw_path, encoded=True)
        async with self.session.request(request.method, target, headers=headers, data=body) as upstream:
            status, answer = upstream.status, await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower().startswith(("wechatpay-", "content-type"))}
        if self.tamper == "body":
            answer = one_digit_changed(answer)
        elif self.tamper == "signature":
            signature = kept["Wechatpay-Signature"]
            kept["Wechatpay-Signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
        return web.Response(body=answer, status=status, headers=kept)


def one_digit_changed(body: bytes) -> bytes:
    """The body with its first digit replaced by the next one: still JSON, still UTF-8, one byte different."""
    at = next(i for i, byte in enumerate(body) if chr(byte).isdigit())
    return body[:at] + str((int(chr(body[at])) + 1) % 10).encode() + body[at + 1 :]


@pytest.fixture
def proxy(sandbox: WeChatSandbox) -> Iterator[Proxy]:
    between = Proxy(sandbox.url)
    between.thread.start()
    yield between
    between.thread.stop()


# -- helpers ---------------------------------------------------------------------------------------------


def new_trade_no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def place(wxpay: Any, sandbox: WeChatSandbox, notify_url: str, total: int = 100) -> str:
    """A JSAPI order for alice; its out_trade_no."""
    out_trade_no = new_trade_no()
    code, text = wxpay.pay(
        description="沙箱小店-测试商品",
        out_trade_no=out_trade_no,
        amount={"total": total, "currency": "CNY"},
        payer={"openid": sandbox.openid()},
        notify_url=notify_url,
    )
    assert code == 200, text
    return out_trade_no


def answer_of(result: tuple[int, str]) -> dict[str, Any]:
    """A 200 answer's JSON (wechatpayv3 verified its signature before returning it)."""
    code, text = result
    assert code == 200, text
    body = json.loads(text)
    assert isinstance(body, dict)
    return body


def rfc3339(beijing: str, layout: str) -> str:
    """A time the sandbox's control API shows in Beijing time, as API v3 writes it."""
    return datetime.strptime(beijing, layout).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def transaction(sandbox: WeChatSandbox, out_trade_no: str) -> dict[str, Any]:
    """The whole v3 transaction of a paid 100-fen JSAPI order of alice, from the sandbox's own record."""
    order = sandbox.order(out_trade_no)
    return {
        "appid": sandbox.appid,
        "mchid": sandbox.mch_id,
        "out_trade_no": out_trade_no,
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "attach": "",
        "amount": {"total": 100, "currency": "CNY", "payer_total": 100, "payer_currency": "CNY"},
        "transaction_id": order["transaction_id"],
        "trade_type": "JSAPI",
        "payer": {"openid": sandbox.openid()},
        "bank_type": "OTHERS",
        "success_time": rfc3339(order["time_end"], "%Y%m%d%H%M%S"),
        "promotion_detail": [],
    }


def paid_and_notified(wxpay: Any, sandbox: WeChatSandbox, listener: Listener) -> tuple[str, dict[str, Any]]:
    """An order paid by alice whose payment notification the listener acknowledged; its notification."""
    out_trade_no = place(wxpay, sandbox, listener.url)
    sandbox.pay(out_trade_no)
    [note] = sandbox.notifications(out_trade_no, wait_for=1)
    return out_trade_no, note


def other_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def signed_message(seen: Seen) -> str:
    """`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` of a request wechatpayv3 sent, from its Authorization."""
    pairs = dict(part.split("=", 1) for part in seen.headers["Authorization"].split(" ", 1)[1].split(","))
    timestamp, nonce = pairs["timestamp"].strip('"'), pairs["nonce_str"].strip('"')
    return f"{seen.method}\n{seen.path}\n{timestamp}\n{nonce}\n{seen.body}\n"


# -- orders, queries, close, refunds -----------------------------------------------------------------------


def test_a_jsapi_order_answers_its_prepay_id(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = new_trade_no()
    body = answer_of(
        wxpay.pay(
            description="一杯咖啡",
            out_trade_no=out_trade_no,
            amount={"total": 100},
            payer={"openid": sandbox.openid()},
            notify_url="http://127.0.0.1:9/notify",
        )
    )
    assert body == {"prepay_id": sandbox.order(out_trade_no)["prepay_id"]}


def test_a_native_order_answers_a_verified_code_url(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = new_trade_no()
    body = answer_of(
        wxpay.pay(
            description="一杯咖啡",
            out_trade_no=out_trade_no,
            amount={"total": 100},
            notify_url="http://127.0.0.1:9/notify",
            pay_type=WeChatPayType.NATIVE,
        )
    )
    assert body == {"code_url": "weixin://wxpay/bizpayurl?pr=" + sandbox.order(out_trade_no)["prepay_id"][-7:]}


def test_an_unpaid_order_is_queried_by_out_trade_no(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    assert answer_of(wxpay.query(out_trade_no=out_trade_no)) == {
        "appid": sandbox.appid,
        "mchid": sandbox.mch_id,
        "out_trade_no": out_trade_no,
        "trade_state": "NOTPAY",
        "trade_state_desc": "订单未支付",
        "attach": "",
        "amount": {"total": 100, "currency": "CNY"},
        "trade_type": "JSAPI",
        "payer": {"openid": sandbox.openid()},
    }


def test_a_paid_order_is_queried_by_out_trade_no(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    sandbox.pay(out_trade_no)
    assert answer_of(wxpay.query(out_trade_no=out_trade_no)) == transaction(sandbox, out_trade_no)


def test_a_paid_order_is_queried_by_transaction_id(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    paid = sandbox.pay(out_trade_no)
    assert answer_of(wxpay.query(transaction_id=paid["transaction_id"])) == transaction(sandbox, out_trade_no)


def test_close_answers_a_verified_204(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    assert wxpay.close(out_trade_no) == (204, "")


def test_a_closed_order_is_queried_as_closed(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    wxpay.close(out_trade_no)
    body = answer_of(wxpay.query(out_trade_no=out_trade_no))
    assert (body["trade_state"], body["trade_state_desc"]) == ("CLOSED", "已关闭")


def expected_refund(sandbox: WeChatSandbox, out_trade_no: str) -> dict[str, Any]:
    """The whole v3 refund of 40 fen of a 100-fen order, from the sandbox's own record."""
    order = sandbox.order(out_trade_no)
    [made] = order["refunds"]
    when = rfc3339(made["success_time"], "%Y-%m-%d %H:%M:%S")
    return {
        "refund_id": made["refund_id"],
        "out_refund_no": made["out_refund_no"],
        "transaction_id": order["transaction_id"],
        "out_trade_no": out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户的零钱",
        "success_time": when,
        "create_time": when,
        "status": "SUCCESS",
        "funds_account": "UNSETTLED",
        "amount": {
            "total": 100,
            "refund": 40,
            "from": [],
            "payer_total": 100,
            "payer_refund": 40,
            "settlement_refund": 40,
            "settlement_total": 100,
            "discount_refund": 0,
            "currency": "CNY",
        },
        "promotion_detail": [],
    }


def refund(wxpay: Any, out_trade_no: str, notify_url: str | None = None) -> tuple[int, str]:
    return wxpay.refund(  # type: ignore[no-any-return]
        out_refund_no="R" + out_trade_no[1:],
        amount={"refund": 40, "total": 100, "currency": "CNY"},
        out_trade_no=out_trade_no,
        notify_url=notify_url,
    )


def test_a_refund_answers_the_whole_refund(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    sandbox.pay(out_trade_no)
    assert answer_of(refund(wxpay, out_trade_no)) == expected_refund(sandbox, out_trade_no)


def test_a_refund_is_queried_by_out_refund_no(wxpay: Any, sandbox: WeChatSandbox) -> None:
    out_trade_no = place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    sandbox.pay(out_trade_no)
    refund(wxpay, out_trade_no)
    answered = answer_of(wxpay.query_refund("R" + out_trade_no[1:]))
    assert answered == expected_refund(sandbox, out_trade_no)


# -- notifications through callback() ------------------------------------------------------------------------


def test_callback_verifies_and_decrypts_the_payment_notification(
    wxpay: Any, sandbox: WeChatSandbox, listener: Listener
) -> None:
    out_trade_no, note = paid_and_notified(wxpay, sandbox, listener)
    received = listener.result_of(note["id"])
    assert isinstance(received, dict), received
    assert {k: v for k, v in received.items() if k != "create_time"} == {
        "id": note["id"],
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": transaction(sandbox, out_trade_no),
    }


def test_callback_verifies_and_decrypts_the_refund_notification(
    wxpay: Any, sandbox: WeChatSandbox, listener: Listener
) -> None:
    out_trade_no, _ = paid_and_notified(wxpay, sandbox, listener)
    made = answer_of(refund(wxpay, out_trade_no, listener.url))
    [note] = [n for n in sandbox.notifications(out_trade_no, wait_for=2) if n["kind"] == "refund"]
    received = listener.result_of(note["id"])
    assert isinstance(received, dict), received
    assert {k: v for k, v in received.items() if k != "create_time"} == {
        "id": note["id"],
        "resource_type": "encrypt-resource",
        "event_type": "REFUND.SUCCESS",
        "summary": "退款成功",
        "resource": {
            "mchid": sandbox.mch_id,
            "out_trade_no": out_trade_no,
            "transaction_id": made["transaction_id"],
            "out_refund_no": made["out_refund_no"],
            "refund_id": made["refund_id"],
            "refund_status": "SUCCESS",
            "success_time": made["success_time"],
            "user_received_account": "支付用户的零钱",
            "amount": {"total": 100, "refund": 40, "payer_total": 100, "payer_refund": 40},
        },
    }


@pytest.mark.parametrize("tamper", ["sign", "amount", "ciphertext"])
def test_callback_refuses_a_forged_payment_notification(
    wxpay: Any, sandbox: WeChatSandbox, listener: Listener, tamper: str
) -> None:
    """wechatpayv3 answers None (it raises nothing): a bad signature fails its check; a ciphertext that does not
    open fails AES-GCM's tag, which it catches."""
    _, note = paid_and_notified(wxpay, sandbox, listener)
    [forged] = sandbox.resend(note["id"], tamper=tamper)
    assert listener.result_of(forged["id"]) is None


# -- answers changed in transit ------------------------------------------------------------------------------


def order_through(wxpay: Any, sandbox: WeChatSandbox, proxy: Proxy) -> tuple[int, str]:
    wxpay._core._gate_way = proxy.url
    return wxpay.pay(  # type: ignore[no-any-return]
        description="一杯咖啡",
        out_trade_no=new_trade_no(),
        amount={"total": 100},
        payer={"openid": sandbox.openid()},
        notify_url="http://127.0.0.1:9/notify",
    )


def test_an_answer_through_the_proxy_untouched_verifies(wxpay: Any, sandbox: WeChatSandbox, proxy: Proxy) -> None:
    """The proxy itself changes nothing wechatpayv3 checks: the refusals below are the one changed byte's."""
    assert list(answer_of(order_through(wxpay, sandbox, proxy))) == ["prepay_id"]


@pytest.mark.parametrize("tamper", ["body", "signature"])
def test_an_answer_changed_by_one_byte_is_refused(
    wxpay: Any, sandbox: WeChatSandbox, proxy: Proxy, tamper: str
) -> None:
    proxy.tamper = tamper
    with pytest.raises(Exception, match=r"^failed to verify the signature$"):
        order_through(wxpay, sandbox, proxy)


# -- a request signed with another key ---------------------------------------------------------------------


def wrong_key_order(sandbox: WeChatSandbox, proxy: Proxy) -> tuple[tuple[int, str], Seen]:
    """wechatpayv3 with a private key that is not the merchant's places an order; the answer and the request."""
    impostor = client(sandbox, private_key=other_private_key())
    answer = order_through(impostor, sandbox, proxy)
    [seen] = proxy.seen
    return answer, seen


def test_a_request_signed_with_another_key_gets_401_sign_error(sandbox: WeChatSandbox, proxy: Proxy) -> None:
    (status, text), seen = wrong_key_order(sandbox, proxy)
    message = signed_message(seen)
    assert status == 401
    assert json.loads(text) == {
        "code": "SIGN_ERROR",
        "message": "错误的签名，验签失败",
        "detail": {
            "field": "signature",
            "issue": "sign not match",
            "location": "authorization",
            "sign_information": {
                "method": "POST",
                "url": "/v3/pay/transactions/jsapi",
                "sign_message_length": len(message.encode()),
                "truncated_sign_message": message[:64],
            },
        },
    }


def test_the_journal_names_the_message_the_sandbox_verified(sandbox: WeChatSandbox, proxy: Proxy) -> None:
    _, seen = wrong_key_order(sandbox, proxy)
    [entry] = [e for e in sandbox.journal() if e["path"] == "/v3/pay/transactions/jsapi"]
    serial = sandbox.config["merchants"][0]["serial_no"]
    assert entry["status"] == 401
    assert entry["diagnostic"].startswith(
        f"signature does not verify with {sandbox.mch_id}'s API certificate (serial {serial}). "
        f"The sandbox verified the message {signed_message(seen)!r} (METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n)."
    )


# -- the platform certificate downloaded from the sandbox ----------------------------------------------------


def test_an_unknown_platform_serial_makes_wechatpayv3_download_the_certificate(
    sandbox: WeChatSandbox, tmp_path: Path
) -> None:
    """cert_dir holds another valid certificate (the merchant's own), so the constructor downloads nothing; the
    first answer names the platform serial, and wechatpayv3 fetches /v3/certificates from the sandbox, opens it
    with the API v3 key, verifies the answer with it and saves it as `<serial>.pem`."""
    sandbox.configure_merchant(response_signing="platform_certificate")
    merchant = sandbox.config["merchants"][0]
    (tmp_path / "merchant.pem").write_text(merchant["certificate"])
    wxpay = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, cert_dir=str(tmp_path), **sandbox.v3)
    wxpay._core._gate_way = sandbox.url
    place(wxpay, sandbox, "http://127.0.0.1:9/notify")
    saved = tmp_path / f"{merchant['platform_serial_no']}.pem"
    assert saved.read_text() == merchant["platform_certificate"]


def test_a_platform_certificate_made_after_the_clock_moved_ahead_is_valid_at_the_real_time() -> None:
    """wechatpayv3 keeps a certificate only while `not_valid_before_utc <= now <= not_valid_after_utc` on the
    machine's clock (core._init_certificates, _update_certificates); the sandbox makes keys on first use."""
    server = SandboxThread(config_file.load(None)).start()
    try:
        fresh = WeChatSandbox(server.url)
        fresh.advance_clock(7300)
        pem = fresh.config["merchants"][0]["platform_certificate"]
    finally:
        server.stop()
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.not_valid_before_utc <= datetime.now(UTC) <= certificate.not_valid_after_utc
