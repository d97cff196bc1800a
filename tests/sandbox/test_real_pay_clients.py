"""Unmodified wechatpy 1.8.18 `WeChatPay` against a running `wechat-sandbox serve` (CLIENTS.md A.3/A.4)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature_hmac

from mock_wechat import signing
from mock_wechat.pay import v2_xml
from sandbox.defaults import DEFAULT_APPID, DEFAULT_MCH_ID, DEFAULT_MCH_KEY
from tests.sandbox.conftest import ServerFactory
from tests.threaded import serving

APPID, MCH_ID, MCH_KEY = DEFAULT_APPID, DEFAULT_MCH_ID, DEFAULT_MCH_KEY
ACK = b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
WAIT = 10.0
"""Seconds a delivery may take to be recorded (milliseconds in practice; this only bounds a hang)."""
POLL = 0.02


class NotifyServer(ThreadingHTTPServer):
    """A merchant's notify_url in a thread: scripted answers (then ACK), every request body kept."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), NotifyHandler)
        self.replies: list[tuple[int, bytes]] = []
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/pay/notify"

    def answer(self, body: str) -> tuple[int, bytes]:
        with self.lock:
            self.bodies.append(body)
            return self.replies.pop(0) if self.replies else (200, ACK)

    def received(self) -> list[str]:
        with self.lock:
            return list(self.bodies)


class NotifyHandler(BaseHTTPRequestHandler):
    server: NotifyServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        status, text = self.server.answer(body)
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[NotifyServer]:
    with serving(NotifyServer()) as server:
        yield server


# -- helpers --------------------------------------------------------------------------------------


def client(base_url: str, *, sandbox: bool = False) -> WeChatPay:
    """wechatpy as a merchant uses it, with only the instance's API base URL swapped."""
    pay = WeChatPay(APPID, MCH_KEY, MCH_ID, sandbox=sandbox)
    pay.API_BASE_URL = base_url + "/"
    return pay


def new_trade_no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def openid_of(base_url: str, user: str = "alice") -> str:
    users = requests.get(f"{base_url}/_sandbox/api/config", timeout=10).json()["users"]
    [found] = [u for u in users if u["id"] == user]
    value = found["openids"][APPID]
    assert isinstance(value, str)
    return value


def signed(pay: WeChatPay, res: Any) -> dict[str, Any]:
    """wechatpy's own check of an MD5-signed answer; the answer as a dict."""
    answer = dict(res)
    assert pay.check_signature(answer), f"check_signature failed on {answer}"
    return answer


def hmac_signed(pay: WeChatPay, res: Any) -> dict[str, Any]:
    """An answer to an HMAC-SHA256 request is signed HMAC-SHA256; wechatpy's MD5-only check cannot verify it."""
    answer = dict(res)
    key = pay.sandbox_api_key if pay.sandbox else pay.api_key
    rest = {k: v for k, v in answer.items() if k != "sign"}
    assert len(answer["sign"]) == 64
    assert answer["sign"] == calculate_signature_hmac(rest, key)
    assert not pay.check_signature(answer), "check_signature is MD5 only (CLIENTS.md A.3)"
    return answer


def create(pay: WeChatPay, base_url: str, notify_url: str, total_fee: int = 100, **kwargs: Any) -> dict[str, Any]:
    res = pay.order.create(
        trade_type="JSAPI",
        body="沙箱小店-测试商品",
        total_fee=total_fee,
        notify_url=notify_url,
        client_ip="127.0.0.1",
        user_id=openid_of(base_url),
        out_trade_no=kwargs.pop("out_trade_no", None) or new_trade_no(),
        **kwargs,
    )
    answer = dict(res)
    assert answer["prepay_id"].startswith("wx")
    assert answer["trade_type"] == "JSAPI"
    return answer


def pay_as_script(base_url: str, out_trade_no: str) -> dict[str, Any]:
    resp = requests.post(f"{base_url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay", json={}, timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert isinstance(body, dict)
    return body


def wait_for(base_url: str, out_trade_no: str, check: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Poll GET /_sandbox/api/notifications for one order until `check` holds (bounded)."""
    deadline = time.monotonic() + WAIT
    while True:
        resp = requests.get(f"{base_url}/_sandbox/api/notifications", params={"out_trade_no": out_trade_no}, timeout=10)
        found = resp.json()["notifications"]
        assert isinstance(found, list)
        if check(found):
            return found
        assert time.monotonic() < deadline, f"not within {WAIT} s: {found}"
        time.sleep(POLL)


def delivered(kinds: list[str]) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: [n["kind"] for n in found] == kinds and all(n["status"] == "delivered" for n in found)


def body_of(note: dict[str, Any], listener: NotifyServer) -> str:
    """The exact body the listener received for this notification."""
    body = note["body"]
    assert isinstance(body, str)
    assert body in listener.received(), "the listener did not receive the recorded body"
    return body


def signing_fields(body: str) -> dict[str, str]:
    return v2_xml.parse(body.encode())


def check_jsapi_params(pay: WeChatPay, prepay_id: str) -> None:
    params = pay.jsapi.get_jsapi_params(prepay_id)
    assert params["appId"] == APPID
    assert params["package"] == f"prepay_id={prepay_id}"
    assert params["signType"] == "MD5"
    key = pay.sandbox_api_key if pay.sandbox else MCH_KEY
    unsigned = {k: v for k, v in params.items() if k != "paySign"}
    assert params["paySign"] == signing.v2_sign(unsigned, key, signing.MD5)


# -- API v2 on the normal paths -------------------------------------------------------------------


def test_an_md5_order_from_creation_to_refund_notification(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url)
    out_trade_no = new_trade_no()
    created = signed(pay, create(pay, base_url, listener.url, out_trade_no=out_trade_no))
    assert (created["appid"], created["mch_id"]) == (APPID, MCH_ID)
    check_jsapi_params(pay, created["prepay_id"])

    unpaid = signed(pay, pay.order.query(out_trade_no=out_trade_no))
    assert unpaid["trade_state"] == "NOTPAY"
    assert unpaid.get("transaction_id") is None

    paid = pay_as_script(base_url, out_trade_no)
    [note] = wait_for(base_url, out_trade_no, delivered(["payment"]))
    result = pay.parse_payment_result(body_of(note, listener))
    assert result["out_trade_no"] == out_trade_no
    assert result["transaction_id"] == paid["transaction_id"]
    assert result["total_fee"] == 100
    assert result["openid"] == openid_of(base_url)
    assert result["result_code"] == "SUCCESS"

    by_transaction = signed(pay, pay.order.query(transaction_id=paid["transaction_id"]))
    assert (by_transaction["trade_state"], by_transaction["out_trade_no"]) == ("SUCCESS", out_trade_no)
    assert by_transaction["time_end"] == paid["time_end"]

    refunded = signed(
        pay,
        pay.refund.apply(
            total_fee=100,
            refund_fee=60,
            out_refund_no="R" + out_trade_no,
            out_trade_no=out_trade_no,
            notify_url=listener.url,
        ),
    )
    assert (refunded["refund_fee"], refunded["transaction_id"]) == ("60", paid["transaction_id"])
    queried = signed(pay, pay.refund.query(out_refund_no="R" + out_trade_no))
    assert queried["refund_count"] == "1"
    assert (queried["out_refund_no_0"], queried["refund_status_0"]) == ("R" + out_trade_no, "SUCCESS")
    assert queried["refund_id_0"] == refunded["refund_id"]

    [_, refund_note] = wait_for(base_url, out_trade_no, delivered(["payment", "refund"]))
    inner = pay.parse_refund_notify_result(body_of(refund_note, listener))
    assert inner["out_refund_no"] == "R" + out_trade_no
    assert inner["refund_id"] == refunded["refund_id"]
    assert (inner["refund_fee"], inner["total_fee"]) == (60, 100)
    assert inner["refund_status"] == "SUCCESS"

    after = signed(pay, pay.order.query(out_trade_no=out_trade_no))
    assert after["trade_state"] == "REFUND"


def test_an_md5_order_can_be_closed(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url)
    out_trade_no = new_trade_no()
    signed(pay, create(pay, base_url, listener.url, out_trade_no=out_trade_no))
    closed = signed(pay, pay.order.close(out_trade_no))
    assert closed["result_code"] == "SUCCESS"
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "CLOSED"


def test_an_hmac_sha256_order_is_answered_and_notified_with_hmac(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url)
    out_trade_no = new_trade_no()
    created = hmac_signed(pay, create(pay, base_url, listener.url, out_trade_no=out_trade_no, sign_type="HMAC-SHA256"))
    check_jsapi_params(pay, created["prepay_id"])
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "NOTPAY"

    pay_as_script(base_url, out_trade_no)
    [note] = wait_for(base_url, out_trade_no, delivered(["payment"]))
    body = body_of(note, listener)
    with pytest.raises(InvalidSignatureException):  # wechatpy checks notifications with MD5 only (CLIENTS.md A.3)
        pay.parse_payment_result(body)
    fields = signing_fields(body)
    assert "sign_type" not in fields
    assert signing.v2_verify(fields, MCH_KEY, signing.HMAC_SHA256)
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "SUCCESS"


def test_an_hmac_sha256_order_can_be_closed(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url)
    out_trade_no = new_trade_no()
    hmac_signed(pay, create(pay, base_url, listener.url, out_trade_no=out_trade_no, sign_type="HMAC-SHA256"))
    signed(pay, pay.order.close(out_trade_no))
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "CLOSED"


# -- the same with sandbox=True (sandboxnew/ paths, getsignkey) -----------------------------------


def test_sandbox_mode_fetches_the_signkey_and_the_101_order_is_paid_and_notified(
    base_url: str, listener: NotifyServer
) -> None:
    pay = client(base_url, sandbox=True)
    sandbox_key = pay.sandbox_api_key
    assert isinstance(sandbox_key, str)
    assert len(sandbox_key) == 32
    assert sandbox_key != MCH_KEY

    out_trade_no = new_trade_no()
    created = signed(pay, create(pay, base_url, listener.url, total_fee=101, out_trade_no=out_trade_no))
    check_jsapi_params(pay, created["prepay_id"])
    [note] = wait_for(base_url, out_trade_no, delivered(["payment"]))
    result = pay.parse_payment_result(body_of(note, listener))
    assert (result["out_trade_no"], result["total_fee"]) == (out_trade_no, 101)
    with pytest.raises(InvalidSignatureException):  # signed with the sandbox key, not the real one
        client(base_url).parse_payment_result(body_of(note, listener))

    queried = signed(pay, pay.order.query(out_trade_no=out_trade_no))
    assert queried["trade_state"] == "SUCCESS"
    assert queried["transaction_id"] == result["transaction_id"]

    refunded = signed(
        pay,
        pay.refund.apply(
            total_fee=101,
            refund_fee=101,
            out_refund_no="R" + out_trade_no,
            out_trade_no=out_trade_no,
            notify_url=listener.url,
        ),
    )
    assert refunded["refund_fee"] == "101"
    assert signed(pay, pay.refund.query(out_trade_no=out_trade_no))["refund_status_0"] == "SUCCESS"
    [_, refund_note] = wait_for(base_url, out_trade_no, delivered(["payment", "refund"]))
    inner = pay.parse_refund_notify_result(body_of(refund_note, listener))
    assert (inner["out_refund_no"], inner["refund_fee"]) == ("R" + out_trade_no, 101)


def test_sandbox_mode_orders_of_other_amounts_wait_and_can_be_closed(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url, sandbox=True)
    out_trade_no = new_trade_no()
    signed(pay, create(pay, base_url, listener.url, total_fee=100, out_trade_no=out_trade_no))
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "NOTPAY"
    signed(pay, pay.order.close(out_trade_no))
    assert signed(pay, pay.order.query(out_trade_no=out_trade_no))["trade_state"] == "CLOSED"


def test_sandbox_mode_hmac_sha256_answers_with_hmac(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url, sandbox=True)
    out_trade_no = new_trade_no()
    hmac_signed(
        pay, create(pay, base_url, listener.url, total_fee=101, out_trade_no=out_trade_no, sign_type="HMAC-SHA256")
    )
    [note] = wait_for(base_url, out_trade_no, delivered(["payment"]))
    fields = signing_fields(body_of(note, listener))
    assert signing.v2_verify(fields, pay.sandbox_api_key, signing.HMAC_SHA256)


def test_sandbox_mode_an_order_paid_through_the_control_api_is_notified(base_url: str, listener: NotifyServer) -> None:
    pay = client(base_url, sandbox=True)
    out_trade_no = new_trade_no()
    signed(pay, create(pay, base_url, listener.url, total_fee=100, out_trade_no=out_trade_no))
    pay_as_script(base_url, out_trade_no)
    [note] = wait_for(base_url, out_trade_no, delivered(["payment"]))
    assert pay.parse_payment_result(body_of(note, listener))["total_fee"] == 100


# -- kill -9 between a failed attempt and the retry -----------------------------------------------


def test_a_pending_notification_survives_kill_9_and_is_delivered_after_restart(
    launch: ServerFactory, tmp_path: Path, listener: NotifyServer
) -> None:
    data_dir = str(tmp_path / "state")
    listener.replies = [(500, b"busy")]
    first = launch("--data-dir", data_dir, "--seed", "1")
    pay = client(first.base_url)
    out_trade_no = new_trade_no()
    signed(pay, create(pay, first.base_url, listener.url, out_trade_no=out_trade_no))
    paid = pay_as_script(first.base_url, out_trade_no)

    [note] = wait_for(first.base_url, out_trade_no, lambda found: len(found) == 1 and len(found[0]["attempts"]) == 1)
    assert note["status"] == "pending"
    assert (note["attempts"][0]["status"], note["attempts"][0]["ok"]) == (500, False)
    assert len(listener.received()) == 1

    first.proc.kill()  # SIGKILL: no shutdown handlers run
    first.proc.wait()
    first.kill()

    second = launch("--data-dir", data_dir, "--seed", "1")
    [still] = wait_for(second.base_url, out_trade_no, lambda found: len(found) == 1)
    assert still["status"] == "pending"
    assert len(still["attempts"]) == 1

    resp = requests.post(f"{second.base_url}/_sandbox/api/clock", json={"advance": 15}, timeout=10)
    assert resp.status_code == 200
    [done] = wait_for(second.base_url, out_trade_no, delivered(["payment"]))
    assert [a["ok"] for a in done["attempts"]] == [False, True]
    received = listener.received()
    assert len(received) == 2
    assert received[1] == done["body"]
    assert pay.parse_payment_result(received[1])["transaction_id"] == paid["transaction_id"]

    order = requests.get(f"{second.base_url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}", timeout=10).json()
    assert (order["trade_state"], order["transaction_id"]) == ("SUCCESS", paid["transaction_id"])
    after = client(second.base_url)
    assert signed(after, after.order.query(out_trade_no=out_trade_no))["trade_state"] == "SUCCESS"
    users = requests.get(f"{second.base_url}/_sandbox/api/config", timeout=10).json()["users"]
    [alice] = [u for u in users if u["id"] == "alice"]
    assert alice["balance"] == paid["payer"]["balance"], "the money paid before the restart stays paid"


def test_every_order_and_payment_answered_before_kill_9_is_there_after_restart(
    launch: ServerFactory, tmp_path: Path, listener: NotifyServer
) -> None:
    """Group commit under load: twelve clients at once, the sandbox killed the moment the last answer arrived."""
    data_dir = str(tmp_path / "state")
    first = launch("--data-dir", data_dir, "--seed", "1")
    answered: list[tuple[str, str]] = []

    def order_and_pay(n: int) -> None:
        pay = client(first.base_url)
        for i in range(5):
            out_trade_no = f"K{n}-{i}-{new_trade_no()[:8]}"
            create(pay, first.base_url, listener.url, out_trade_no=out_trade_no)
            state = "SUCCESS" if i % 2 else "NOTPAY"
            if state == "SUCCESS":
                pay_as_script(first.base_url, out_trade_no)
            answered.append((out_trade_no, state))

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(order_and_pay, range(12)))
    first.proc.kill()  # SIGKILL the moment the last answer is in: no shutdown handler commits anything
    first.proc.wait()
    first.kill()

    second = launch("--data-dir", data_dir, "--seed", "1")
    after = client(second.base_url)
    found = {no: signed(after, after.order.query(out_trade_no=no))["trade_state"] for no, _ in answered}
    assert found == dict(answered)
    journal = requests.get(f"{second.base_url}/_sandbox/api/journal", params={"limit": 1000}, timeout=10).json()
    placed = [e for e in journal["entries"] if e["path"] == "/pay/unifiedorder" and e["status"] == 200]
    assert len(placed) == len(answered), "each answered request's journal entry was committed with it"
