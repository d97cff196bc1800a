"""The control API's order actions a console or the CLI drives: filters, close, refund, the users list."""

from __future__ import annotations

from typing import Any

from sandbox import defaults
from tests.sandbox.test_control_pay import (
    BALANCE,
    Client,
    Listener,
    api,
    balance,
    create_order,
    get_json,
    listener,
    order,
    pay,
    post_json,
)

__all__ = ["api", "listener"]  # fixtures used by name

MCH_ID = defaults.DEFAULT_MCH_ID


async def out_trade_nos(api: Client, query: str) -> list[str]:
    found: list[dict[str, Any]] = (await get_json(api, f"/_sandbox/api/orders?{query}"))["orders"]
    return [o["out_trade_no"] for o in found]


async def test_orders_filter_by_state(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await create_order(api, "T2", listener.url)
    await pay(api, "T2")
    assert await out_trade_nos(api, "state=SUCCESS") == ["T2"]
    assert await out_trade_nos(api, "state=notpay") == ["T1"]


async def test_orders_filter_by_payer_id_or_openid(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await create_order(api, "T2", listener.url, user="bob")
    bob = (await order(api, "T2"))["openid"]
    assert await out_trade_nos(api, "payer=bob") == ["T2"]
    assert await out_trade_nos(api, f"payer={bob}") == ["T2"]


async def test_orders_filter_by_out_trade_no(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await create_order(api, "T2", listener.url)
    assert await out_trade_nos(api, "out_trade_no=T2") == ["T2"]


async def test_an_unknown_filter_is_400(api: Client) -> None:
    assert await get_json(api, "/_sandbox/api/orders?colour=red", status=400) == {
        "error": "unknown filters ['colour']; filters: ['mch_id', 'state', 'payer', 'out_trade_no']"
    }


async def test_an_unknown_state_is_400(api: Client) -> None:
    assert await get_json(api, "/_sandbox/api/orders?state=DONE", status=400) == {
        "error": "state must be one of: SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR"
    }


async def test_close_closes_an_unpaid_order(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    closed = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/close", {})
    assert closed["trade_state"] == "CLOSED"
    assert (await order(api, "T1"))["trade_state"] == "CLOSED"


async def test_closing_a_paid_order_is_409(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/close", {}, status=409)
    assert body == {
        "error": "商户订单已支付",
        "err_code": "ORDERPAID",
        "diagnostic": "order T1 is paid and cannot be closed; refund it instead",
    }


async def test_closing_an_unknown_order_is_404(api: Client) -> None:
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/nope/close", {}, status=404)
    assert body["err_code"] == "ORDERNOTEXIST"


async def test_refund_gives_back_all_that_is_left_by_default(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url, total_fee=500)
    await pay(api, "T1")
    answer = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {}, status=201)
    assert answer["trade_state"] == "REFUND"
    assert answer["refunded_fee"] == 500
    assert (answer["refund"]["refund_fee"], answer["refund"]["status"]) == (500, "SUCCESS")
    assert answer["refund"]["out_refund_no"].startswith("R")
    assert await balance(api, "alice") == BALANCE


async def test_refund_takes_a_part_and_a_refund_number(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url, total_fee=500)
    await pay(api, "T1")
    body = {"amount": 200, "out_refund_no": "RF1"}
    answer = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", body, status=201)
    assert (answer["refunded_fee"], answer["refund"]["out_refund_no"]) == (200, "RF1")
    assert [r["out_refund_no"] for r in (await order(api, "T1"))["refunds"]] == ["RF1"]


async def test_refund_with_a_notify_url_notifies(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {"notify_url": listener.url}, status=201)
    kinds = [n["kind"] for n in (await get_json(api, "/_sandbox/api/notifications?out_trade_no=T1"))["notifications"]]
    assert sorted(kinds) == ["payment", "refund"]


async def test_refunding_more_than_is_left_is_409_with_wechats_words(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url, total_fee=100)
    await pay(api, "T1")
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {"amount": 101}, status=409)
    assert body == {
        "error": "申请退款金额超过订单可退金额",
        "err_code": "INVALID_REQUEST",
        "diagnostic": "refund_fee 101 exceeds what is left to refund (100 of 100; 0 already refunded)",
    }


async def test_refunding_an_unpaid_order_is_409(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {}, status=409)
    assert body["err_code"] == "TRADE_STATE_ERROR"


async def test_a_bad_refund_amount_is_400(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {"amount": "1"}, status=400)
    assert body == {"error": "amount must be a whole number of fen"}


async def test_an_unknown_refund_field_is_400(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    body = await post_json(api, f"/_sandbox/api/orders/{MCH_ID}/T1/refund", {"fee": 1}, status=400)
    assert body == {"error": "unknown fields ['fee']; allowed: amount, out_refund_no, notify_url, reason"}


async def test_users_lists_every_user_with_balance(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url, total_fee=300)
    await pay(api, "T1")
    users = {u["id"]: u for u in (await get_json(api, "/_sandbox/api/users"))["users"]}
    assert users["alice"]["balance"] == BALANCE - 300
    assert users["bob"]["balance"] == BALANCE
