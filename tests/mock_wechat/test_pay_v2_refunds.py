"""`/secapi/pay/refund` and `/pay/refundquery` on the wire: partial, full, over-refund, re-entry, four query keys."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from mock_wechat import times
from mock_wechat.clock import ManualClock
from mock_wechat.keys import ACCOUNTS, PAY
from mock_wechat.pay.orders import Order, Outcome
from mock_wechat.pay.v2_dialect import sandbox_signkey
from sandbox import defaults
from tests.conftest import OTHER_APPID
from tests.pay_helpers import (
    APPID,
    HMAC,
    MCH_ID,
    MCH_KEY,
    MD5,
    SIGN_TYPES,
    assert_business_fail,
    assert_success,
    base_fields,
    order_fields,
    parse,
    post,
)

Client = TestClient[web.Request, web.Application]

OUT_TRADE_NO = "T20240101000001"
SANDBOX_KEY = sandbox_signkey(defaults.default_merchant())
MISMATCH = "订单金额或退款金额与之前请求不一致，请核实后再试"
REFUND_KEYS = {
    "return_code",
    "return_msg",
    "appid",
    "mch_id",
    "nonce_str",
    "result_code",
    "transaction_id",
    "out_trade_no",
    "out_refund_no",
    "refund_id",
    "refund_fee",
    "coupon_refund_fee",
    "total_fee",
    "cash_fee",
    "coupon_refund_count",
    "cash_refund_fee",
    "sign",
}
QUERY_KEYS = {
    "return_code",
    "return_msg",
    "appid",
    "mch_id",
    "nonce_str",
    "result_code",
    "transaction_id",
    "out_trade_no",
    "total_fee",
    "cash_fee",
    "fee_type",
    "total_refund_count",
    "refund_count",
    "sign",
}
PER_REFUND = (
    "out_refund_no",
    "refund_id",
    "refund_channel",
    "refund_fee",
    "settlement_refund_fee",
    "refund_status",
    "refund_account",
    "refund_recv_accout",
    "refund_success_time",
)


async def call(client: Client, path: str, fields: dict[str, Any], key: str = MCH_KEY, sign_type: str = MD5) -> str:
    status, text = await post(client, path, fields, key, sign_type)
    assert status == 200, text
    return text


async def paid_order(client: Client, total_fee: int = 100, **overrides: Any) -> Order:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=total_fee, **overrides))
    assert_success(text)
    return client.app[PAY].pay(MCH_ID, OUT_TRADE_NO, None, Outcome.SUCCESS)


def refund_fields(refund_fee: Any, out_refund_no: str = "R1", total_fee: Any = 100, **overrides: Any) -> dict[str, Any]:
    fields = base_fields(
        out_trade_no=OUT_TRADE_NO, out_refund_no=out_refund_no, total_fee=total_fee, refund_fee=refund_fee
    )
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def refund(client: Client, refund_fee: int, out_refund_no: str = "R1", **overrides: Any) -> dict[str, str]:
    text = await call(client, "/secapi/pay/refund", refund_fields(refund_fee, out_refund_no, **overrides))
    return assert_success(text)


async def refundquery(client: Client, sign_type: str = MD5, **keys: Any) -> dict[str, str]:
    text = await call(client, "/pay/refundquery", base_fields(**keys), sign_type=sign_type)
    return assert_success(text, sign_type=sign_type)


def balance(client: Client, user_id: str = "alice") -> int:
    user = client.app[ACCOUNTS].user(user_id)
    assert user is not None
    return user.balance


# -- refund: success ---------------------------------------------------------------------------------------


async def test_partial_refund_answers_exactly_the_refund(client: Client) -> None:
    order = await paid_order(client)
    fields = await refund(client, 30)
    assert set(fields) == REFUND_KEYS
    assert {k: fields[k] for k in REFUND_KEYS - {"nonce_str", "sign", "refund_id"}} == {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": APPID,
        "mch_id": MCH_ID,
        "result_code": "SUCCESS",
        "transaction_id": order.transaction_id,
        "out_trade_no": OUT_TRADE_NO,
        "out_refund_no": "R1",
        "refund_fee": "30",
        "coupon_refund_fee": "0",
        "total_fee": "100",
        "cash_fee": "100",
        "coupon_refund_count": "0",
        "cash_refund_fee": "30",
    }


async def test_refund_id_has_wechats_shape(client: Client, clock: ManualClock) -> None:
    await paid_order(client)
    assert re.fullmatch(r"5000\d{7}" + times.day(clock.now()) + r"\d{10}", (await refund(client, 30))["refund_id"])


async def test_refund_writes_amounts_as_bare_numbers(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(30))
    assert "<refund_fee>30</refund_fee>" in text
    assert "<total_fee>100</total_fee>" in text


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_refund_is_signed_with_the_requests_sign_type(client: Client, sign_type: str) -> None:
    await paid_order(client)
    assert_success(
        await call(client, "/secapi/pay/refund", refund_fields(30), sign_type=sign_type), sign_type=sign_type
    )


async def test_refund_by_transaction_id(client: Client) -> None:
    order = await paid_order(client)
    fields = await refund(client, 30, out_trade_no=None, transaction_id=order.transaction_id)
    assert fields["out_trade_no"] == OUT_TRADE_NO


async def test_a_refunded_order_reads_refund(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30)
    fields = assert_success(await call(client, "/pay/orderquery", base_fields(out_trade_no=OUT_TRADE_NO)))
    assert (fields["trade_state"], fields["trade_state_desc"]) == ("REFUND", "转入退款")


async def test_refund_returns_the_money_to_the_payer(client: Client) -> None:
    await paid_order(client)
    before = balance(client)
    await refund(client, 30)
    assert balance(client) - before == 30


async def test_partial_then_the_rest_refunds_in_full(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30, "R1")
    assert (await refund(client, 70, "R2"))["refund_fee"] == "70"


async def test_a_third_refund_after_a_full_one_is_refused(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30, "R1")
    await refund(client, 70, "R2")
    text = await call(client, "/secapi/pay/refund", refund_fields(1, "R3"))
    assert_business_fail(text, "INVALID_REQUEST", "订单已全额退款")


async def test_refunding_more_than_is_left_is_refused(client: Client) -> None:
    await paid_order(client)
    await refund(client, 60, "R1")
    text = await call(client, "/secapi/pay/refund", refund_fields(41, "R2"))
    assert_business_fail(text, "INVALID_REQUEST", "申请退款金额超过订单可退金额")


async def test_refunding_more_than_the_order_is_refused(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(101))
    assert_business_fail(text, "INVALID_REQUEST", "申请退款金额超过订单可退金额")


async def test_a_refused_refund_moves_no_money(client: Client) -> None:
    await paid_order(client)
    before = balance(client)
    await call(client, "/secapi/pay/refund", refund_fields(101))
    assert balance(client) == before


async def test_refund_reentry_with_the_same_out_refund_no_is_the_same_refund(client: Client) -> None:
    await paid_order(client)
    first = await refund(client, 30)
    again = await refund(client, 30)
    assert (again["refund_id"], again["refund_fee"]) == (first["refund_id"], "30")


async def test_refund_reentry_moves_the_money_once(client: Client) -> None:
    await paid_order(client)
    before = balance(client)
    await refund(client, 30)
    await refund(client, 30)
    assert balance(client) - before == 30


async def test_refund_reentry_counts_once(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30)
    await refund(client, 30)
    assert (await refundquery(client, out_trade_no=OUT_TRADE_NO))["refund_count"] == "1"


async def test_refund_reentry_of_a_full_refund_still_answers_it(client: Client) -> None:
    await paid_order(client)
    first = await refund(client, 100)
    assert (await refund(client, 100))["refund_id"] == first["refund_id"]


@pytest.mark.parametrize(
    "prefix",
    [
        "/sandboxnew/pay/refund",
        "/sandboxnew/secapi/pay/refund",
        "/xdc/apiv2sandbox/pay/refund",
        "/xdc/apiv2sandbox/secapi/pay/refund",
    ],
)
async def test_sandbox_refund_paths_refund(client: Client, prefix: str) -> None:
    await call(client, "/sandboxnew/pay/unifiedorder", order_fields(total_fee=551), key=SANDBOX_KEY)
    text = await call(client, prefix, refund_fields(551, total_fee=551), key=SANDBOX_KEY)
    assert assert_success(text, key=SANDBOX_KEY)["refund_fee"] == "551"


# -- refund: business faults -------------------------------------------------------------------------------


async def test_refund_reentry_with_other_amounts_is_invalid_request(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30)
    assert_business_fail(await call(client, "/secapi/pay/refund", refund_fields(31)), "INVALID_REQUEST", MISMATCH)


async def test_refund_with_a_total_fee_other_than_the_orders_is_invalid_request(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(30, total_fee=99))
    assert_business_fail(text, "INVALID_REQUEST", MISMATCH)


@pytest.mark.parametrize("refund_fee", ["0", "-1", "abc", "1.5"])
async def test_a_bad_refund_fee_is_invalid_request(client: Client, refund_fee: str) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(refund_fee))
    assert_business_fail(text, "INVALID_REQUEST", "refund_fee参数错误")


async def test_a_bad_refund_total_fee_is_invalid_request(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(1, total_fee="x"))
    assert_business_fail(text, "INVALID_REQUEST", "total_fee参数错误")


@pytest.mark.parametrize("refund_fee", ["2147483648", str(2**63), "9" * 5000])
async def test_a_refund_fee_beyond_wechats_int_is_invalid_request(client: Client, refund_fee: str) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(refund_fee))
    assert_business_fail(text, "INVALID_REQUEST", "refund_fee参数错误")


@pytest.mark.parametrize("total_fee", ["2147483648", str(2**63), "9" * 5000])
async def test_a_refund_total_fee_beyond_wechats_int_is_invalid_request(client: Client, total_fee: str) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(1, total_fee=total_fee))
    assert_business_fail(text, "INVALID_REQUEST", "total_fee参数错误")


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_refunding_an_unpaid_order_is_trade_state_error(client: Client, sign_type: str) -> None:
    assert_success(await call(client, "/pay/unifiedorder", order_fields()))
    text = await call(client, "/secapi/pay/refund", refund_fields(30), sign_type=sign_type)
    assert_business_fail(text, "TRADE_STATE_ERROR", "订单状态错误", sign_type=sign_type)


async def test_refunding_a_closed_order_is_trade_state_error(client: Client) -> None:
    assert_success(await call(client, "/pay/unifiedorder", order_fields()))
    assert_success(await call(client, "/pay/closeorder", base_fields(out_trade_no=OUT_TRADE_NO)))
    text = await call(client, "/secapi/pay/refund", refund_fields(30))
    assert_business_fail(text, "TRADE_STATE_ERROR", "订单状态错误")


async def test_refunding_an_unknown_order_is_ordernotexist(client: Client) -> None:
    assert_business_fail(await call(client, "/secapi/pay/refund", refund_fields(30)), "ORDERNOTEXIST", "订单不存在")


async def test_refunding_an_unknown_transaction_id_is_ordernotexist(client: Client) -> None:
    fields = refund_fields(30, out_trade_no=None, transaction_id="4200000000202311150000000000")
    assert_business_fail(await call(client, "/secapi/pay/refund", fields), "ORDERNOTEXIST", "订单不存在")


@pytest.mark.parametrize("missing", ["out_refund_no", "total_fee", "refund_fee"])
async def test_refund_without_a_required_field_is_lack_params(client: Client, missing: str) -> None:
    await paid_order(client)
    fields = refund_fields(30)
    del fields[missing]
    text = await call(client, "/secapi/pay/refund", fields)
    assert_business_fail(text, "LACK_PARAMS", "缺少参数")


async def test_refund_without_an_order_key_is_lack_params(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(30, out_trade_no=None))
    assert_business_fail(text, "LACK_PARAMS", "缺少参数")


async def test_refund_with_a_notify_url_outside_the_allowlist_is_invalid_request(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(30, notify_url="http://evil.example.com/refund"))
    assert_business_fail(text, "INVALID_REQUEST", "notify_url参数错误")


async def test_refund_with_an_unbound_appid_is_appid_mchid_not_match(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/secapi/pay/refund", refund_fields(30, appid=OTHER_APPID))
    assert_business_fail(text, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配", appid=OTHER_APPID)


# -- refundquery -------------------------------------------------------------------------------------------


async def test_refundquery_answers_exactly_the_order_and_its_refund(client: Client, clock: ManualClock) -> None:
    order = await paid_order(client)
    made = await refund(client, 30)
    fields = await refundquery(client, out_trade_no=OUT_TRADE_NO)
    assert set(fields) == QUERY_KEYS | {f"{name}_0" for name in PER_REFUND}
    assert {k: v for k, v in fields.items() if k not in ("nonce_str", "sign")} == {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": APPID,
        "mch_id": MCH_ID,
        "result_code": "SUCCESS",
        "transaction_id": order.transaction_id,
        "out_trade_no": OUT_TRADE_NO,
        "total_fee": "100",
        "cash_fee": "100",
        "fee_type": "CNY",
        "total_refund_count": "1",
        "refund_count": "1",
        "out_refund_no_0": "R1",
        "refund_id_0": made["refund_id"],
        "refund_channel_0": "ORIGINAL",
        "refund_fee_0": "30",
        "settlement_refund_fee_0": "30",
        "refund_status_0": "SUCCESS",
        "refund_account_0": "REFUND_SOURCE_UNSETTLED_FUNDS",
        "refund_recv_accout_0": "支付用户的零钱",
        "refund_success_time_0": times.bill_time(clock.now()),
    }


async def test_refundquery_writes_amounts_as_bare_numbers(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30)
    text = await call(client, "/pay/refundquery", base_fields(out_trade_no=OUT_TRADE_NO))
    assert "<refund_fee_0>30</refund_fee_0>" in text
    assert "<refund_count>1</refund_count>" in text


@pytest.mark.parametrize("key", ["out_trade_no", "transaction_id"])
async def test_refundquery_by_order_lists_every_refund_in_order(client: Client, clock: ManualClock, key: str) -> None:
    order = await paid_order(client)
    first = await refund(client, 30, "R1")
    clock.advance(60)
    second = await refund(client, 50, "R2")
    value = OUT_TRADE_NO if key == "out_trade_no" else order.transaction_id
    fields = await refundquery(client, **{key: value})
    assert (fields["refund_count"], fields["total_refund_count"]) == ("2", "2")
    assert (fields["out_refund_no_0"], fields["refund_id_0"], fields["refund_fee_0"]) == (
        "R1",
        first["refund_id"],
        "30",
    )
    assert (fields["out_refund_no_1"], fields["refund_id_1"], fields["refund_fee_1"]) == (
        "R2",
        second["refund_id"],
        "50",
    )
    assert set(fields) == QUERY_KEYS | {f"{name}_{n}" for name in PER_REFUND for n in (0, 1)}


@pytest.mark.parametrize("key", ["out_refund_no", "refund_id"])
async def test_refundquery_by_refund_answers_only_that_refund(client: Client, key: str) -> None:
    await paid_order(client)
    await refund(client, 30, "R1")
    second = await refund(client, 50, "R2")
    value = "R2" if key == "out_refund_no" else second["refund_id"]
    fields = await refundquery(client, **{key: value})
    assert (fields["refund_count"], fields["out_refund_no_0"], fields["refund_fee_0"]) == ("1", "R2", "50")
    assert "out_refund_no_1" not in fields


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_refundquery_is_signed_with_the_requests_sign_type(client: Client, sign_type: str) -> None:
    await paid_order(client)
    await refund(client, 30)
    await refundquery(client, sign_type=sign_type, out_refund_no="R1")


@pytest.mark.parametrize(
    "keys",
    [
        {"out_refund_no": "NOPE"},
        {"refund_id": "50000000000202311150000000000"},
        {"out_trade_no": "NOPE"},
        {"transaction_id": "4200000000202311150000000000"},
    ],
)
async def test_refundquery_of_an_unknown_key_is_refundnotexist(client: Client, keys: dict[str, str]) -> None:
    text = await call(client, "/pay/refundquery", base_fields(**keys))
    assert_business_fail(text, "REFUNDNOTEXIST", "退款订单查询失败")


async def test_refundquery_of_an_order_without_refunds_is_refundnotexist(client: Client) -> None:
    await paid_order(client)
    text = await call(client, "/pay/refundquery", base_fields(out_trade_no=OUT_TRADE_NO), sign_type=HMAC)
    assert_business_fail(text, "REFUNDNOTEXIST", "退款订单查询失败", sign_type=HMAC)


async def test_refundquery_without_a_key_is_lack_params(client: Client) -> None:
    assert_business_fail(await call(client, "/pay/refundquery", base_fields()), "LACK_PARAMS", "缺少参数")


async def test_refundquery_answer_parses_with_one_value_per_field(client: Client) -> None:
    await paid_order(client)
    await refund(client, 30)
    text = await call(client, "/pay/refundquery", base_fields(out_trade_no=OUT_TRADE_NO))
    assert parse(text)["refund_status_0"] == "SUCCESS"


async def test_out_refund_no_of_another_order_is_refused(client: Client) -> None:
    await paid_order(client)
    await refund(client, 10, "R-SHARED")
    await call(client, "/pay/unifiedorder", order_fields(out_trade_no="T-OTHER"))
    client.app[PAY].pay(MCH_ID, "T-OTHER", None, Outcome.SUCCESS)
    text = await call(client, "/secapi/pay/refund", refund_fields(10, "R-SHARED", out_trade_no="T-OTHER"))
    assert_business_fail(text, "INVALID_REQUEST", "商户退款单号重复")
