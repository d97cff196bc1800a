"""Two sandboxes on one PostgreSQL database behind nginx: one world, whichever replica answers.

Most calls go through nginx; where a test must prove that something crossed from one process to the other,
it talks to replica A and replica B directly."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
import requests
from wechatpayv3 import WeChatPay as WeChatPayV3
from wechatpayv3 import WeChatPayType
from wechatpy.pay import WeChatPay

from mock_wechat.pay import notifications as rules
from mock_wechat.pay.delivery import PER_HOST
from sandbox.defaults import DEFAULT_APPID, DEFAULT_MCH_ID, DEFAULT_MCH_KEY, DEFAULT_SECRET
from sandbox.testing import WeChatSandbox
from tests.pay_helpers import openid
from tests.replicas.conftest import World, site_config
from tests.sandbox.conftest import REPO, authorize_code, exchange_code
from tests.threaded import serving

APPID, MCH_ID, MCH_KEY = DEFAULT_APPID, DEFAULT_MCH_ID, DEFAULT_MCH_KEY
ACK = b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
LEASE = 2 * rules.TIMEOUT + 5.0
"""A claimed attempt is its replica's for this long (Deliverer.lease with WeChat's 5 s answer timeout)."""
HEARD = 5.0
"""Seconds another replica may take to hear an announcement (milliseconds in practice; this bounds a hang)."""
POLL = 0.02
TRADE_NO = re.compile(r"<out_trade_no><!\[CDATA\[([^\]]+)\]\]></out_trade_no>")
T = TypeVar("T")


# -- a merchant's notify_url ----------------------------------------------------------------------


class Merchant(ThreadingHTTPServer):
    """A merchant's notify_url in a thread: every payment notification's arrival noted (wall time), then ACKed,
    unless answers are held (`hold`), so that attempts are in flight when a replica is killed."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), MerchantHandler)
        self.lock = threading.Lock()
        self.receipts: dict[str, list[float]] = {}
        self.answering = threading.Event()
        self.answering.set()
        self.held = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/pay/notify"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a replica killed mid-attempt hangs up on us: expected here, not worth a traceback

    def note(self, body: str) -> None:
        found = TRADE_NO.search(body)
        if found is not None:
            with self.lock:
                self.receipts.setdefault(found[1], []).append(time.time())

    def hold(self) -> None:
        self.answering.clear()

    def release(self) -> None:
        self.answering.set()

    def holding(self) -> int:
        """How many requests are waiting for their answer."""
        with self.lock:
            return self.held

    def wait_to_answer(self) -> None:
        with self.lock:
            self.held += 1
        self.answering.wait(30)
        with self.lock:
            self.held -= 1

    def received(self, prefix: str) -> dict[str, list[float]]:
        with self.lock:
            return {k: list(v) for k, v in self.receipts.items() if k.startswith(prefix)}


class MerchantHandler(BaseHTTPRequestHandler):
    server: Merchant
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.note(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        self.server.wait_to_answer()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(ACK)))
        self.end_headers()
        self.wfile.write(ACK)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def merchant() -> Iterator[Merchant]:
    with serving(Merchant()) as server:
        yield server


# -- helpers --------------------------------------------------------------------------------------


def pay_client(base_url: str) -> WeChatPay:
    """wechatpy as a merchant uses it, with only the API base URL swapped."""
    client = WeChatPay(APPID, MCH_KEY, MCH_ID)
    client.API_BASE_URL = base_url + "/"
    return client


def trade_no(prefix: str = "T") -> str:
    return prefix + uuid.uuid4().hex[:20]


def place(base_url: str, out_trade_no: str, notify_url: str) -> dict[str, Any]:
    answer = dict(
        pay_client(base_url).order.create(
            trade_type="JSAPI",
            body="replica test",
            total_fee=100,
            notify_url=notify_url,
            client_ip="127.0.0.1",
            user_id=openid(),
            out_trade_no=out_trade_no,
        )
    )
    assert answer["result_code"] == "SUCCESS", answer
    return answer


def pay(base_url: str, out_trade_no: str) -> dict[str, Any]:
    """The payer pays, as the control API lets a script do it."""
    answer = requests.post(f"{base_url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay", json={}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


def access_token(base_url: str) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": DEFAULT_SECRET}
    body = requests.get(f"{base_url}/cgi-bin/token", params=params, timeout=10).json()
    assert "access_token" in body, body
    return str(body["access_token"])


def getticket(base_url: str, token: str) -> dict[str, Any]:
    params = {"access_token": token, "type": "jsapi"}
    body = requests.get(f"{base_url}/cgi-bin/ticket/getticket", params=params, timeout=10).json()
    assert isinstance(body, dict)
    return body


def clock_offset(base_url: str) -> float:
    return float(requests.get(f"{base_url}/_sandbox/api/clock", timeout=10).json()["offset"])


def advance(base_url: str, seconds: float) -> float:
    answer = requests.post(f"{base_url}/_sandbox/api/clock", json={"advance": seconds}, timeout=10)
    assert answer.status_code == 200, answer.text
    return float(answer.json()["offset"])


def within(seconds: float, probe: Callable[[], T | None], what: str) -> T:
    """Poll `probe` until it gives something (not None), for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(POLL)


def merchant_config(base_url: str) -> dict[str, Any]:
    merchants = requests.get(f"{base_url}/_sandbox/api/config", timeout=10).json()["merchants"]
    [found] = [m for m in merchants if m["mch_id"] == MCH_ID]
    assert isinstance(found, dict)
    return found


def notifications(base_url: str) -> list[dict[str, Any]]:
    found = requests.get(f"{base_url}/_sandbox/api/notifications", timeout=10).json()["notifications"]
    assert isinstance(found, list)
    return found


# -- the layout -----------------------------------------------------------------------------------


def test_the_readme_shows_the_nginx_configuration_tested_here() -> None:
    shown = "```nginx\n" + site_config("127.0.0.1:8600", [8601, 8602]) + "```\n"
    for readme in ("README.md", "README.zh-CN.md"):
        assert shown in (REPO / readme).read_text(encoding="utf-8"), f"{readme} lacks the tested nginx configuration"


def test_live_events_stream_through_nginx_unbuffered(world: World) -> None:
    with requests.get(f"{world.url}/_sandbox/api/events", stream=True, timeout=5) as events:
        assert events.headers["Content-Type"].startswith("text/event-stream")
        lines = events.iter_lines(decode_unicode=True)
        assert [next(lines), next(lines)] == ["retry: 1000", "event: hello"]


# -- OAuth and tokens -----------------------------------------------------------------------------


def test_a_code_issued_on_a_is_exchanged_on_b_and_refused_after_on_a(world: World) -> None:
    code = authorize_code(world.a.url)
    web = exchange_code(world.b.url, code)
    assert web["openid"] == openid(), web
    again = exchange_code(world.a.url, code)
    assert (again["errcode"], again["errmsg"].split(",")[0]) == (40163, "code been used"), again


def test_userinfo_through_nginx_links_back_to_nginx(world: World) -> None:
    web = exchange_code(world.url, authorize_code(world.url))
    params = {"access_token": web["access_token"], "openid": web["openid"], "lang": "zh_CN"}
    info = requests.get(f"{world.url}/sns/userinfo", params=params, timeout=10).json()
    assert info["openid"] == openid(), info
    assert info["headimgurl"].startswith(world.url + "/"), info  # nginx passes the Host with its port


def test_an_access_token_from_a_works_on_b(world: World) -> None:
    token = access_token(world.a.url)
    assert getticket(world.b.url, token)["errcode"] == 0


def test_a_new_token_on_b_starts_the_old_ones_grace_period_on_a(world: World) -> None:
    old = access_token(world.a.url)
    new = access_token(world.b.url)
    assert getticket(world.a.url, old)["errcode"] == 0  # five minutes of overlap
    advance(world.b.url, 301)
    within(HEARD, lambda: True if getticket(world.a.url, old)["errcode"] == 40001 else None, "old token refused on A")
    assert getticket(world.a.url, new)["errcode"] == 0


# -- orders, clock, settings, journal -------------------------------------------------------------


def test_an_order_made_on_a_is_queried_and_paid_on_b_and_refunded_on_a(world: World, merchant: Merchant) -> None:
    out_trade_no = trade_no("O")
    a, b = pay_client(world.a.url), pay_client(world.b.url)
    created = place(world.a.url, out_trade_no, merchant.url)
    assert dict(b.order.query(out_trade_no=out_trade_no))["trade_state"] == "NOTPAY"
    paid = pay(world.b.url, out_trade_no)
    queried = dict(a.order.query(out_trade_no=out_trade_no))
    assert (queried["trade_state"], queried["transaction_id"]) == ("SUCCESS", paid["transaction_id"])
    assert created["prepay_id"]
    refunded = dict(
        a.refund.apply(total_fee=100, refund_fee=60, out_refund_no="R" + out_trade_no, out_trade_no=out_trade_no)
    )
    assert refunded["result_code"] == "SUCCESS", refunded
    found = dict(b.refund.query(out_refund_no="R" + out_trade_no))
    assert (found["refund_count"], found["refund_status_0"], found["refund_id_0"]) == (
        "1",
        "SUCCESS",
        refunded["refund_id"],
    )


def test_api_v3_answers_from_either_replica_verify_with_one_set_of_keys(world: World, merchant: Merchant) -> None:
    """The merchant's API v3 material is made once and kept in the database: wechatpayv3, set up from A's control
    API, verifies B's answers too."""
    out_trade_no = trade_no("V")
    clients = {}
    for replica in (world.a, world.b):
        clients[replica.name] = WeChatPayV3(
            wechatpay_type=WeChatPayType.JSAPI, notify_url=merchant.url, **WeChatSandbox(world.a.url).v3
        )
        clients[replica.name]._core._gate_way = replica.url
    code, text = clients["b"].pay(
        description="replica test", out_trade_no=out_trade_no, amount={"total": 100}, payer={"openid": openid()}
    )
    assert code == 200, text
    code, text = clients["a"].query(out_trade_no=out_trade_no)
    assert code == 200, text
    assert json.loads(text)["trade_state"] == "NOTPAY"


def test_the_clock_advanced_on_a_moves_on_b(world: World) -> None:
    offset = advance(world.a.url, 60)
    assert offset >= 60
    within(HEARD, lambda: True if clock_offset(world.b.url) == offset else None, f"B's offset {offset}")


def test_merchant_settings_changed_on_a_are_in_force_on_b(world: World, merchant: Merchant) -> None:
    changed = requests.post(
        f"{world.a.url}/_sandbox/api/merchants/{MCH_ID}", json={"notify_hosts": ["shop.example:8443"]}, timeout=10
    )
    assert changed.status_code == 200, changed.text
    try:
        within(HEARD, lambda: True if merchant_config(world.b.url)["trust_loopback"] is False else None, "B")
        refused = pay_client(world.b.url).order.create
        with pytest.raises(Exception, match="notify_url"):  # the loopback notify_url is no longer allowed on B
            refused(
                trade_type="JSAPI",
                body="replica test",
                total_fee=100,
                notify_url=merchant.url,
                client_ip="127.0.0.1",
                user_id=openid(),
                out_trade_no=trade_no("S"),
            )
    finally:
        restored = requests.post(
            f"{world.b.url}/_sandbox/api/merchants/{MCH_ID}",
            json={"notify_hosts": [], "trust_loopback": True},
            timeout=10,
        )
        assert restored.status_code == 200, restored.text
    within(HEARD, lambda: True if merchant_config(world.a.url)["trust_loopback"] is True else None, "A restored")
    place(world.a.url, trade_no("S"), merchant.url)


def test_the_journal_is_one_in_order(world: World) -> None:
    marks = {name: f"journal-{name}-{uuid.uuid4().hex[:8]}" for name in ("a", "b")}
    for replica in (world.a, world.b):
        requests.get(f"{replica.url}/cgi-bin/{marks[replica.name]}", timeout=10)
    for replica in (world.a, world.b, world.a):
        entries = requests.get(f"{replica.url}/_sandbox/api/journal", params={"last": 200}, timeout=10).json()
        ids = [e["id"] for e in entries["entries"]]
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
        paths = [e["path"] for e in entries["entries"]]
        assert [p for p in paths if "/journal-" in p][-2:] == [f"/cgi-bin/{marks['a']}", f"/cgi-bin/{marks['b']}"]


# -- ids and notifications ------------------------------------------------------------------------


def test_ids_never_collide_between_replicas(world: World, merchant: Merchant) -> None:
    count = 40
    jobs = [(replica.url, trade_no("I")) for _ in range(count) for replica in (world.a, world.b)]
    with ThreadPoolExecutor(8) as pool:
        placed = list(pool.map(lambda job: place(job[0], job[1], merchant.url), jobs))
        # paid on the other replica than the one that placed it
        paid = list(pool.map(lambda job: pay(world.b.url if job[0] == world.a.url else world.a.url, job[1]), jobs))
    assert len({p["prepay_id"] for p in placed}) == 2 * count
    assert len({p["transaction_id"] for p in paid}) == 2 * count


def test_notifications_are_delivered_exactly_once_while_a_replica_is_killed_and_restarted(
    world: World, merchant: Merchant
) -> None:
    """200 payments through nginx (round robin over A and B); B is killed with SIGKILL halfway, while the merchant
    holds its answers, and started again on its port. Every payment is notified; one is notified twice only when B
    had it in flight at the kill (the merchant got it, B died before recording the answer): its first receipt lies
    within a lease of the kill, and another replica sends it again once the lease ran out."""
    count, prefix = 200, "N" + uuid.uuid4().hex[:6]
    jobs = [trade_no(prefix) for _ in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda out_trade_no: place(world.url, out_trade_no, merchant.url), jobs))
    paid = threading.Semaphore(0)
    killed: list[float] = []

    def pay_through_nginx(out_trade_no: str) -> None:
        deadline = time.monotonic() + 30
        while True:  # an answer lost with B (nginx's 502) is asked again: the order says whether it was paid
            try:
                answer = requests.post(
                    f"{world.url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay", json={}, timeout=10
                )
                if answer.status_code == 200:
                    break
                state = requests.get(f"{world.url}/_sandbox/api/orders/{MCH_ID}/{out_trade_no}", timeout=10)
                if state.status_code == 200 and state.json()["trade_state"] == "SUCCESS":
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"{out_trade_no} not paid"
            time.sleep(POLL)
        paid.release()

    def kill_halfway() -> None:
        for _ in range(count // 2):
            assert paid.acquire(timeout=30)
        # Answers held until more attempts wait than one replica makes at once to one host: some are B's.
        merchant.hold()
        within(10, lambda: True if merchant.holding() > PER_HOST else None, f"over {PER_HOST} attempts in flight")
        killed.append(time.time())
        world.b.kill()
        killed.append(time.time())
        merchant.release()
        world.b.start()

    try:
        with ThreadPoolExecutor(9) as pool:
            killer = pool.submit(kill_halfway)
            list(pool.map(pay_through_nginx, jobs))
            killer.result()
        wait = LEASE + 15.0
        statuses = within(wait, lambda: all_delivered(world.url, prefix, count), "every notification delivered")
        received = merchant.received(prefix)  # after: a second receipt comes before its attempt is recorded
    finally:
        merchant.release()
    assert sorted(received) == sorted(jobs)
    assert {n["out_trade_no"] for n in statuses} == set(jobs)
    assert {n["kind"] for n in statuses} == {"payment"}
    kill_started, kill_done = killed
    twice = {k: v for k, v in received.items() if len(v) > 1}
    assert 1 <= len(twice) <= PER_HOST, twice  # B's attempts in flight to this merchant host, sent again
    for out_trade_no, times in twice.items():
        first, second = times
        assert kill_started - LEASE <= first <= kill_done, (out_trade_no, times, killed)
        assert second >= kill_done, (out_trade_no, times, killed)
    assert all(n["attempts"] and len(n["attempts"]) == 1 for n in statuses if n["out_trade_no"] not in twice)
    assert requests.get(f"{world.b.url}/_sandbox/api/health", timeout=10).status_code == 200  # B is back


def all_delivered(base_url: str, prefix: str, count: int) -> list[dict[str, Any]] | None:
    """The notifications of the orders named `prefix…`, once there are `count` and all are delivered."""
    mine = [n for n in notifications(base_url) if n["out_trade_no"].startswith(prefix)]
    return mine if len(mine) == count and all(n["status"] == "delivered" for n in mine) else None
