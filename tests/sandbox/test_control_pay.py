"""The control API's pay side: orders, paying them as a script, notifications, resending, the clock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import sandbox
from mock_wechat import signing
from mock_wechat.ids import openid_for
from mock_wechat.pay import v2_xml
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults
from tests.conftest import APPID, ClientFactory, make_config, v3_material

Client = TestClient[web.Request, web.Application]
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

MCH_ID = defaults.DEFAULT_MCH_ID
MCH_KEY = defaults.DEFAULT_MCH_KEY
MD5, HMAC = signing.MD5, signing.HMAC_SHA256
BALANCE = 1_000_000
ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
WAIT = 5.0
"""Seconds a background delivery may take to show up (it takes milliseconds; this only bounds a hang)."""
TRANSACTION_ID = re.compile(r"^4200\d{24}$")
TIME_END = re.compile(r"^20\d{12}$")


@dataclass
class Listener:
    """A merchant's notify_url in the test's loop: scripted answers (then ACK), every request body kept."""

    url: str = ""
    replies: list[tuple[int, str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append((await request.read()).decode())
        status, text = self.replies.pop(0) if self.replies else (200, ACK)
        return web.Response(status=status, text=text, content_type="text/xml")


@pytest.fixture
async def listener(aiohttp_server: ServerFactory) -> Listener:
    found = Listener()
    app = web.Application()
    app.router.add_post("/pay/notify", found.handle)
    server = await aiohttp_server(app)
    found.url = str(server.make_url("/pay/notify"))
    return found


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    """The whole sandbox on the shared test config, in memory, its deliverer running."""
    return await aiohttp_client(sandbox.create_app(make_config()))


# -- helpers --------------------------------------------------------------------------------------


def xml_fields(text: str) -> dict[str, str]:
    return v2_xml.parse(text.encode())


async def v2(api: Client, path: str, fields: dict[str, str | int], sign_type: str = MD5) -> dict[str, str]:
    """POST `fields` signed with the default merchant's key, as a merchant back end would."""
    fields = {"mch_id": MCH_ID, "nonce_str": "n0nce", **fields}
    if sign_type != MD5:
        fields["sign_type"] = sign_type
    fields["sign"] = signing.v2_sign({k: str(v) for k, v in fields.items()}, MCH_KEY, sign_type)
    resp = await api.post(path, data=v2_xml.render(fields).encode(), headers={"Content-Type": "text/xml"})
    assert resp.status == 200
    answer = xml_fields(await resp.text())
    assert signing.v2_verify(answer, MCH_KEY, sign_type), answer
    return answer


async def create_order(
    api: Client,
    out_trade_no: str,
    notify_url: str,
    *,
    total_fee: int = 100,
    user: str = "alice",
    sign_type: str = MD5,
) -> dict[str, str]:
    answer = await v2(
        api,
        "/pay/unifiedorder",
        {
            "appid": APPID,
            "body": "沙箱小店-测试商品",
            "out_trade_no": out_trade_no,
            "total_fee": total_fee,
            "spbill_create_ip": "127.0.0.1",
            "notify_url": notify_url,
            "trade_type": "JSAPI",
            "openid": openid_for(APPID, user),
        },
        sign_type,
    )
    assert answer["result_code"] == "SUCCESS", answer
    return answer


async def get_json(api: Client, path: str, status: int = 200) -> Any:
    resp = await api.get(path)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def post_json(api: Client, path: str, body: Any, status: int = 200) -> Any:
    resp = await api.post(path, json=body)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def pay(api: Client, out_trade_no: str, body: Any = None, status: int = 200) -> Any:
    return await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay", body or {}, status)


async def order(api: Client, out_trade_no: str) -> dict[str, Any]:
    found = await get_json(api, f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}")
    assert isinstance(found, dict)
    return found


async def notes(api: Client, out_trade_no: str | None = None) -> list[dict[str, Any]]:
    query = "" if out_trade_no is None else f"?out_trade_no={out_trade_no}"
    found = (await get_json(api, f"/_sandbox/api/notifications{query}"))["notifications"]
    assert isinstance(found, list)
    return found


async def balance(api: Client, user: str) -> int:
    users = (await get_json(api, "/_sandbox/api/config"))["users"]
    [found] = [u for u in users if u["id"] == user]
    value = found["balance"]
    assert isinstance(value, int)
    return value


async def eventually(
    api: Client, check: Callable[[list[dict[str, Any]]], bool], out_trade_no: str | None = None
) -> list[dict[str, Any]]:
    """Poll GET /_sandbox/api/notifications until `check` holds (bounded; no fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        found = await notes(api, out_trade_no)
        if check(found):
            return found
        assert loop.time() < deadline, f"not within {WAIT} s: {found}"
        await asyncio.sleep(0.01)


def all_delivered(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: len(found) == count and all(n["status"] == "delivered" for n in found)


async def paid_and_notified(api: Client, listener: Listener, out_trade_no: str = "T1") -> dict[str, Any]:
    await create_order(api, out_trade_no, listener.url)
    await pay(api, out_trade_no)
    [note] = await eventually(api, all_delivered(1), out_trade_no)
    return note


# -- orders ---------------------------------------------------------------------------------------


async def test_orders_lists_every_order_with_its_fields(api: Client, listener: Listener) -> None:
    first = await create_order(api, "T1", listener.url)
    await create_order(api, "T2", listener.url, total_fee=250, user="bob")
    found = (await get_json(api, "/_sandbox/api/orders"))["orders"]
    assert [o["out_trade_no"] for o in found] == ["T1", "T2"]
    one = found[0]
    assert {k: one[k] for k in ("mch_id", "appid", "out_trade_no", "trade_state", "total_fee", "openid")} == {
        "mch_id": MCH_ID,
        "appid": APPID,
        "out_trade_no": "T1",
        "trade_state": "NOTPAY",
        "total_fee": 100,
        "openid": openid_for(APPID, "alice"),
    }
    assert one["transaction_id"] is None
    assert one["prepay_id"] == first["prepay_id"]
    assert one["notify_url"] == listener.url
    assert one["sign_type"] == MD5
    assert (found[1]["total_fee"], found[1]["openid"]) == (250, openid_for(APPID, "bob"))


async def test_orders_filter_by_mch_id(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    assert len((await get_json(api, f"/_sandbox/api/orders?mch_id={MCH_ID}"))["orders"]) == 1
    assert (await get_json(api, "/_sandbox/api/orders?mch_id=1999999999"))["orders"] == []


async def test_orders_is_empty_at_first(api: Client) -> None:
    assert await get_json(api, "/_sandbox/api/orders") == {"orders": []}


async def test_one_order_by_mch_id_and_out_trade_no(api: Client, listener: Listener) -> None:
    created = await create_order(api, "T1", listener.url, sign_type=HMAC)
    found = await order(api, "T1")
    assert found["mch_id"] == MCH_ID
    assert found["appid"] == APPID
    assert found["out_trade_no"] == "T1"
    assert found["trade_state"] == "NOTPAY"
    assert found["trade_state_desc"] == "订单未支付"
    assert found["total_fee"] == 100
    assert found["openid"] == openid_for(APPID, "alice")
    assert found["user"] == "alice"
    assert found["transaction_id"] is None
    assert found["prepay_id"] == created["prepay_id"]
    assert found["sign_type"] == HMAC
    assert found["refunds"] == []


async def test_an_unknown_order_is_404(api: Client) -> None:
    body = await get_json(api, f"/_sandbox/api/orders/{MCH_ID}/nope", status=404)
    assert body == {"error": f"merchant {MCH_ID} has no order 'nope'"}


# -- paying as a script ---------------------------------------------------------------------------


async def test_paying_moves_the_balance_and_completes_the_order(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url, total_fee=1234)
    paid = await pay(api, "T1", {"outcome": "success"})
    assert paid["trade_state"] == "SUCCESS"
    assert TRANSACTION_ID.match(paid["transaction_id"])
    assert TIME_END.match(paid["time_end"])
    assert paid["payer"] == {"id": "alice", "balance": BALANCE - 1234}
    assert await balance(api, "alice") == BALANCE - 1234
    assert await balance(api, "bob") == BALANCE
    found = await order(api, "T1")
    assert (found["trade_state"], found["transaction_id"], found["time_end"]) == (
        "SUCCESS",
        paid["transaction_id"],
        paid["time_end"],
    )
    query = await v2(api, "/pay/orderquery", {"appid": APPID, "out_trade_no": "T1"})
    assert (query["trade_state"], query["transaction_id"]) == ("SUCCESS", paid["transaction_id"])


async def test_a_reset_gives_the_configured_balance_back(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    assert await balance(api, "alice") == BALANCE - 100
    await post_json(api, "/_sandbox/api/reset", {})
    assert await balance(api, "alice") == BALANCE
    assert await get_json(api, "/_sandbox/api/orders") == {"orders": []}


async def test_paying_schedules_the_payment_notification(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    paid = await pay(api, "T1")
    [note] = await eventually(api, all_delivered(1), "T1")
    assert (note["kind"], note["out_trade_no"], note["notify_url"]) == ("payment", "T1", listener.url)
    [body] = listener.bodies
    fields = xml_fields(body)
    assert fields["transaction_id"] == paid["transaction_id"]
    assert signing.v2_verify(fields, MCH_KEY, MD5)


async def test_the_order_owner_may_be_named(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    paid = await pay(api, "T1", {"user": "alice", "outcome": "success"})
    assert paid["payer"]["id"] == "alice"


async def test_notenough_is_409_and_leaves_the_order_unpaid(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    body = await pay(api, "T1", {"outcome": "notenough"}, status=409)
    assert body["err_code"] == "NOTENOUGH"
    assert body["error"] == "余额不足"
    assert (await order(api, "T1"))["trade_state"] == "NOTPAY"
    assert await balance(api, "alice") == BALANCE
    assert await notes(api) == []


async def test_fail_ends_in_payerror_without_money_or_notification(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    failed = await pay(api, "T1", {"outcome": "fail"})
    assert failed["trade_state"] == "PAYERROR"
    assert failed["transaction_id"] is None
    assert (await order(api, "T1"))["trade_state"] == "PAYERROR"
    assert await balance(api, "alice") == BALANCE
    assert await notes(api) == []


async def test_a_failed_payment_may_be_retried(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1", {"outcome": "fail"})
    paid = await pay(api, "T1", {"outcome": "success"})
    assert paid["trade_state"] == "SUCCESS"
    assert await balance(api, "alice") == BALANCE - 100


async def test_an_order_without_openid_is_paid_by_the_named_user(api: Client, listener: Listener) -> None:
    answer = await v2(
        api,
        "/pay/unifiedorder",
        {
            "appid": APPID,
            "body": "扫码商品",
            "out_trade_no": "N1",
            "total_fee": 300,
            "spbill_create_ip": "127.0.0.1",
            "notify_url": listener.url,
            "trade_type": "NATIVE",
            "product_id": "P1",
        },
    )
    assert answer["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert (await order(api, "N1"))["openid"] == ""
    paid = await pay(api, "N1", {"user": "bob"})
    assert paid["payer"] == {"id": "bob", "balance": BALANCE - 300}
    assert paid["openid"] == openid_for(APPID, "bob")
    [note] = await eventually(api, all_delivered(1), "N1")
    assert xml_fields(note["body"])["openid"] == openid_for(APPID, "bob")


async def test_paying_twice_is_orderpaid(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    body = await pay(api, "T1", status=409)
    assert body["err_code"] == "ORDERPAID"
    assert await balance(api, "alice") == BALANCE - 100


async def test_paying_a_closed_order_is_orderclosed(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    closed = await v2(api, "/pay/closeorder", {"appid": APPID, "out_trade_no": "T1"})
    assert closed["result_code"] == "SUCCESS"
    body = await pay(api, "T1", status=409)
    assert body["err_code"] == "ORDERCLOSED"


async def test_paying_an_unknown_order_is_404(api: Client) -> None:
    body = await pay(api, "nope", status=404)
    assert body["err_code"] == "ORDERNOTEXIST"


async def test_a_user_other_than_the_openids_owner_is_409(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    body = await pay(api, "T1", {"user": "bob"}, status=409)
    assert body["err_code"] == "INVALID_REQUEST"
    assert "bob" in body["diagnostic"]
    assert (await order(api, "T1"))["trade_state"] == "NOTPAY"
    assert await balance(api, "alice") == BALANCE
    assert await balance(api, "bob") == BALANCE


async def test_a_balance_below_the_amount_is_notenough(api: Client, listener: Listener) -> None:
    created = await post_json(api, "/_sandbox/api/users", {"id": "poor", "balance": 99}, status=201)
    assert created["balance"] == 99
    await create_order(api, "T1", listener.url, total_fee=100, user="poor")
    body = await pay(api, "T1", status=409)
    assert body["err_code"] == "NOTENOUGH"
    assert await balance(api, "poor") == 99
    assert (await order(api, "T1"))["trade_state"] == "NOTPAY"


async def test_a_balance_equal_to_the_amount_is_enough(api: Client, listener: Listener) -> None:
    await post_json(api, "/_sandbox/api/users", {"id": "exact", "balance": 100}, status=201)
    await create_order(api, "T1", listener.url, total_fee=100, user="exact")
    paid = await pay(api, "T1")
    assert paid["payer"] == {"id": "exact", "balance": 0}


@pytest.mark.parametrize(("total_fee", "state"), [(9921, "NOTPAY"), (9931, "PAYERROR")])
async def test_the_forcing_amounts_apply_on_the_normal_paths(
    api: Client, listener: Listener, total_fee: int, state: str
) -> None:
    await create_order(api, "T1", listener.url, total_fee=total_fee)
    resp = await api.post(f"/_sandbox/api/orders/{MCH_ID}/T1/pay", json={})
    if state == "NOTPAY":
        assert resp.status == 409
        assert (await resp.json())["err_code"] == "NOTENOUGH"
    else:
        assert resp.status == 200
    assert (await order(api, "T1"))["trade_state"] == state
    assert await balance(api, "alice") == BALANCE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"outcome": "maybe"}, "outcome must be one of: success, notenough, fail"),
        ({"user": 5}, "user must be a user id"),
        ([], "body must be a JSON object"),
    ],
)
async def test_bad_pay_requests_are_400(api: Client, listener: Listener, body: Any, message: str) -> None:
    await create_order(api, "T1", listener.url)
    resp = await api.post(f"/_sandbox/api/orders/{MCH_ID}/T1/pay", json=body)
    assert resp.status == 400
    assert await resp.json() == {"error": message}
    assert (await order(api, "T1"))["trade_state"] == "NOTPAY"


async def test_a_pay_body_that_is_not_json_is_400(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    resp = await api.post(f"/_sandbox/api/orders/{MCH_ID}/T1/pay", data=b"outcome=success")
    assert resp.status == 400
    assert await resp.json() == {
        "error": "body must be a JSON object; this one is not JSON (Expecting value: line 1 column 1 (char 0))"
    }


# -- notifications --------------------------------------------------------------------------------


async def test_a_delivered_notification_as_json(api: Client, listener: Listener) -> None:
    note = await paid_and_notified(api, listener)
    assert note["kind"] == "payment"
    assert note["mch_id"] == MCH_ID
    assert note["out_trade_no"] == "T1"
    assert note["out_refund_no"] is None
    assert note["notify_url"] == listener.url
    assert note["status"] == "delivered"
    assert note["next_at"] is None
    assert note["body"] == listener.bodies[0]
    [attempt] = note["attempts"]
    assert attempt == {
        "number": 1,
        "at": attempt["at"],
        "status": 200,
        "body": ACK,
        "verdict": "acknowledged with return_code SUCCESS",
        "ok": True,
        "next_at": None,
    }
    assert isinstance(note["id"], str)
    assert note["id"]


async def test_notifications_filter_by_out_trade_no(api: Client, listener: Listener) -> None:
    await paid_and_notified(api, listener, "T1")
    await paid_and_notified(api, listener, "T2")
    assert [n["out_trade_no"] for n in await notes(api)] == ["T1", "T2"]
    assert [n["out_trade_no"] for n in await notes(api, "T2")] == ["T2"]
    assert await notes(api, "T3") == []


async def test_a_failed_attempt_is_recorded_and_advancing_the_clock_retries(api: Client, listener: Listener) -> None:
    listener.replies = [(500, "busy")]
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    [note] = await eventually(api, lambda found: len(found) == 1 and len(found[0]["attempts"]) == 1)
    assert note["status"] == "pending"
    [attempt] = note["attempts"]
    assert (attempt["status"], attempt["body"], attempt["ok"]) == (500, "busy", False)
    assert attempt["verdict"] == "HTTP 500; WeChat needs 200"
    assert attempt["next_at"] == pytest.approx(attempt["at"] + 15)
    assert note["next_at"] == attempt["next_at"]
    clock = await post_json(api, "/_sandbox/api/clock", {"advance": 15})
    assert clock["offset"] == 15
    [note] = await eventually(api, all_delivered(1))
    assert [a["ok"] for a in note["attempts"]] == [False, True]
    assert note["attempts"][1]["at"] >= attempt["next_at"]
    assert len(listener.bodies) == 2


async def test_notify_speed_compresses_the_schedule_in_real_time(
    aiohttp_client: ClientFactory, listener: Listener
) -> None:
    """At --notify-speed 60 the first retry is due 0.25 s after the failure, with no clock advance."""
    fast = await aiohttp_client(sandbox.create_app(make_config(), notify_speed=60))
    listener.replies = [(500, "busy")]
    await create_order(fast, "T1", listener.url)
    await pay(fast, "T1")
    [note] = await eventually(fast, all_delivered(1))
    first, second = note["attempts"]
    assert first["next_at"] == pytest.approx(first["at"] + 0.25)
    assert second["at"] >= first["next_at"]
    assert (await get_json(fast, "/_sandbox/api/clock"))["offset"] == 0


async def test_a_refund_notification_is_listed_as_refund(api: Client, listener: Listener) -> None:
    await paid_and_notified(api, listener)
    refunded = await v2(
        api,
        "/secapi/pay/refund",
        {
            "appid": APPID,
            "out_trade_no": "T1",
            "out_refund_no": "R1",
            "total_fee": 100,
            "refund_fee": 30,
            "notify_url": listener.url,
        },
    )
    assert refunded["result_code"] == "SUCCESS", refunded
    found = await eventually(api, all_delivered(2), "T1")
    assert [(n["kind"], n["out_refund_no"]) for n in found] == [("payment", None), ("refund", "R1")]
    inner = signing.v2_refund_req_info_decrypt(xml_fields(listener.bodies[1])["req_info"], MCH_KEY)
    assert "<out_refund_no><![CDATA[R1]]></out_refund_no>" in inner
    assert (await order(api, "T1"))["refunds"][0]["refund_fee"] == 30
    assert await balance(api, "alice") == BALANCE - 100 + 30


# -- resending ------------------------------------------------------------------------------------


async def resend(api: Client, note_id: str, body: Any, status: int = 201) -> Any:
    return await post_json(api, f"/_sandbox/api/notifications/{note_id}/resend", body, status)


async def test_resend_sends_a_fresh_valid_copy(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    answer = await resend(api, original["id"], {})
    [copy] = answer["notifications"]
    assert copy["id"] != original["id"]
    assert (copy["kind"], copy["out_trade_no"], copy["notify_url"]) == ("payment", "T1", listener.url)
    assert copy["note"] == "resent"
    await eventually(api, all_delivered(2), "T1")
    assert len(listener.bodies) == 2
    fields = xml_fields(listener.bodies[1])
    assert signing.v2_verify(fields, MCH_KEY, MD5)
    assert fields["transaction_id"] == xml_fields(listener.bodies[0])["transaction_id"]


async def test_resend_with_an_empty_body_is_a_plain_resend(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    resp = await api.post(f"/_sandbox/api/notifications/{original['id']}/resend")
    assert resp.status == 201
    assert len((await resp.json())["notifications"]) == 1


async def test_resend_duplicate_sends_two_copies(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    answer = await resend(api, original["id"], {"duplicate": True})
    assert len(answer["notifications"]) == 2
    await eventually(api, all_delivered(3), "T1")
    assert len(listener.bodies) == 3
    copies = [xml_fields(b) for b in listener.bodies[1:]]
    assert all(signing.v2_verify(c, MCH_KEY, MD5) for c in copies)
    assert {c["transaction_id"] for c in copies} == {xml_fields(listener.bodies[0])["transaction_id"]}


async def test_resend_tamper_sign_delivers_a_forgery(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    [forged] = (await resend(api, original["id"], {"tamper": "sign"}))["notifications"]
    assert forged["note"].startswith("forged (sign)")
    await eventually(api, all_delivered(2), "T1")
    fields = xml_fields(listener.bodies[1])
    assert not signing.v2_verify(fields, MCH_KEY, MD5)
    assert fields["total_fee"] == "100"


async def test_resend_tamper_amount_changes_the_amount_not_the_sign(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    await resend(api, original["id"], {"tamper": "amount"})
    await eventually(api, all_delivered(2), "T1")
    fields = xml_fields(listener.bodies[1])
    assert fields["total_fee"] == "101"
    assert not signing.v2_verify(fields, MCH_KEY, MD5)
    assert signing.v2_verify({**fields, "total_fee": "100", "cash_fee": "100"}, MCH_KEY, MD5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"duplicate": "yes"}, "duplicate must be true or false"),
        ({"tamper": "everything"}, 'tamper must be "sign", "amount" or "ciphertext" (API v3 notifications)'),
        ({"tamper": 1}, 'tamper must be "sign", "amount" or "ciphertext" (API v3 notifications)'),
        ([], "body must be a JSON object"),
    ],
)
async def test_bad_resend_requests_are_400(api: Client, listener: Listener, body: Any, message: str) -> None:
    original = await paid_and_notified(api, listener)
    assert await resend(api, original["id"], body, status=400) == {"error": message}
    assert len(await notes(api)) == 1


async def test_a_resend_body_that_is_not_json_is_400(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    resp = await api.post(f"/_sandbox/api/notifications/{original['id']}/resend", data=b"{duplicate")
    assert resp.status == 400


async def test_resending_an_unknown_notification_is_404(api: Client) -> None:
    body = await resend(api, "no-such-notification", {}, status=404)
    assert body == {"error": "no notification 'no-such-notification'"}


async def test_tampering_with_the_amount_of_a_refund_notification_is_400(api: Client, listener: Listener) -> None:
    await paid_and_notified(api, listener)
    await v2(
        api,
        "/secapi/pay/refund",
        {
            "appid": APPID,
            "out_trade_no": "T1",
            "out_refund_no": "R1",
            "total_fee": 100,
            "refund_fee": 100,
            "notify_url": listener.url,
        },
    )
    [_, refund] = await eventually(api, all_delivered(2), "T1")
    body = await resend(api, refund["id"], {"tamper": "amount"}, status=400)
    assert body == {
        "error": "参数错误",
        "err_code": "PARAM_ERROR",
        "diagnostic": "only payment notifications carry an amount to tamper with",
    }
    assert len(await notes(api)) == 2


async def test_a_v2_notification_is_listed_as_api_v2(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    assert original["api"] == "v2"


async def test_ciphertext_tampering_of_a_v2_notification_is_refused(api: Client, listener: Listener) -> None:
    original = await paid_and_notified(api, listener)
    body = await resend(api, original["id"], {"tamper": "ciphertext"}, status=400)
    assert body == {
        "error": "参数错误",
        "err_code": "PARAM_ERROR",
        "diagnostic": "only API v3 notifications carry a ciphertext to tamper with",
    }


# -- the config lists the merchant and the wallets ------------------------------------------------


async def test_config_lists_the_merchant_and_each_users_balance_and_pin(api: Client) -> None:
    cfg = await get_json(api, "/_sandbox/api/config")
    [merchant] = cfg["merchants"]
    keys = MerchantKeys.load(MCH_ID, v3_material())
    assert merchant == {
        "mch_id": MCH_ID,
        "key": MCH_KEY,
        "name": "沙箱小店 Sandbox Shop",
        "appids": [APPID],
        "pay_directories": ["http://127.0.0.1/", "http://localhost/"],
        "notify_hosts": [],
        "h5_domains": [],
        "native_callback_url": "",
        "trust_loopback": True,
        "apiv3_key": keys.apiv3_key,
        "serial_no": keys.serial_no,
        "private_key": keys.private_key,
        "certificate": keys.certificate,
        "platform_serial_no": keys.platform_serial_no,
        "platform_certificate": keys.platform_certificate,
        "public_key_id": keys.public_key_id,
        "public_key": keys.public_key,
        "response_signing": "public_key",
    }
    wallets = {u["id"]: (u["balance"], u["pin"]) for u in cfg["users"]}
    assert wallets == {"alice": (BALANCE, "123456"), "bob": (BALANCE, "123456"), "snap": (BALANCE, "123456")}
    alice = next(u for u in cfg["users"] if u["id"] == "alice")
    assert alice["openids"][APPID] == openid_for(APPID, "alice")
