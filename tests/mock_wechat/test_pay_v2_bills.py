"""`/pay/downloadbill` on the wire: WeChat's backtick CSV once the bill is ready, its XML refusals before."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from mock_wechat import times
from mock_wechat.clock import ManualClock
from mock_wechat.keys import PAY
from mock_wechat.pay import bills
from mock_wechat.pay.orders import Order, Outcome
from tests.pay_helpers import (
    APPID,
    HMAC,
    MCH_ID,
    MCH_KEY,
    MD5,
    SIGN_TYPES,
    assert_protocol_fail,
    assert_success,
    base_fields,
    openid,
    order_fields,
    parse,
    post,
    signed_xml,
)

Client = TestClient[web.Request, web.Application]

DAY = "20231115"
"""The Beijing day the ManualClock starts on (2023-11-15 06:13:20 +08:00)."""
READY = times.parse_compact("20231116100000")
NO_BILL = {"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"}
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


async def call(client: Client, fields: dict[str, Any], key: str = MCH_KEY, sign_type: str = MD5) -> str:
    status, text = await post(client, "/pay/downloadbill", fields, key, sign_type)
    assert status == 200, text
    return text


async def paid(client: Client, out_trade_no: str = "T1", total_fee: int = 100, **overrides: Any) -> Order:
    text = await post(
        client, "/pay/unifiedorder", order_fields(out_trade_no=out_trade_no, total_fee=total_fee, **overrides)
    )
    assert_success(text[1])
    return client.app[PAY].pay(MCH_ID, out_trade_no, None, Outcome.SUCCESS)


async def refund(client: Client, out_trade_no: str, refund_fee: int, out_refund_no: str, total_fee: int = 100) -> None:
    fields = base_fields(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no, total_fee=total_fee, refund_fee=refund_fee
    )
    assert_success((await post(client, "/secapi/pay/refund", fields))[1])


def ready(clock: ManualClock) -> None:
    assert READY is not None
    clock.advance(READY - clock.now())


def bill(bill_type: str = "ALL", bill_date: str = DAY, **overrides: Any) -> dict[str, Any]:
    return base_fields(bill_date=bill_date, bill_type=bill_type, **overrides)


def lines(text: str) -> list[str]:
    assert text.endswith("\r\n"), text
    return text[: -len("\r\n")].split("\r\n")


def cells(line: str) -> list[str]:
    """A data row's values, each stripped of its leading backtick (which must be there)."""
    values = line.split(",")
    assert all(v.startswith("`") for v in values), line
    return [v[1:] for v in values]


def row(text: str, n: int) -> dict[str, str]:
    header = lines(text)[0].split(",")
    return dict(zip(header, cells(lines(text)[1 + n]), strict=True))


def summary(text: str) -> dict[str, str]:
    found = lines(text)
    assert found[-2] == SUMMARY_HEADER
    return dict(zip(SUMMARY_HEADER.split(","), cells(found[-1]), strict=True))


# -- not ready, nothing, wrong parameters -------------------------------------------------------------------


async def test_the_bill_is_still_creating_before_ten_the_next_day(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    clock.advance(-1)
    assert_protocol_fail(await call(client, bill()), "Bill Creating")


async def test_the_bill_of_today_is_still_creating(client: Client) -> None:
    await paid(client)
    assert_protocol_fail(await call(client, bill()), "Bill Creating")


async def test_a_day_without_trades_is_no_bill_exist_20002(client: Client, clock: ManualClock) -> None:
    ready(clock)
    assert parse(await call(client, bill())) == NO_BILL


async def test_unpaid_orders_make_no_bill(client: Client, clock: ManualClock) -> None:
    assert_success((await post(client, "/pay/unifiedorder", order_fields()))[1])
    ready(clock)
    assert parse(await call(client, bill())) == NO_BILL


async def test_a_refund_bill_of_a_day_without_refunds_is_no_bill_exist(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    assert parse(await call(client, bill("REFUND"))) == NO_BILL


@pytest.mark.parametrize("bill_type", ["all", "FAILED", "RECHARGE", "X"])
async def test_an_unknown_bill_type_is_invalid_bill_type(client: Client, clock: ManualClock, bill_type: str) -> None:
    await paid(client)
    ready(clock)
    assert_protocol_fail(await call(client, bill(bill_type)), "invalid bill_type")


@pytest.mark.parametrize("bill_date", ["2023-11-15", "231115", "20231332", "yesterday"])
async def test_a_malformed_bill_date_is_refused(client: Client, clock: ManualClock, bill_date: str) -> None:
    ready(clock)
    assert_protocol_fail(await call(client, bill(bill_date=bill_date)), "invalid bill_date")


async def test_a_wrongly_signed_bill_request_is_signerror(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    assert_protocol_fail(await call(client, bill(), key="k" * 32), "签名错误")


# -- the CSV ----------------------------------------------------------------------------------------------


async def test_the_bill_is_plain_utf8_text(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    resp = await client.post("/pay/downloadbill", data=signed_xml(bill(), MCH_KEY))
    assert (resp.status, resp.content_type, resp.charset) == (200, "text/plain", "utf-8")
    assert not (await resp.text()).startswith("<")


async def test_the_bill_starts_with_wechats_header(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    assert lines(await call(client, bill()))[0] == bills.HEADER


async def test_the_bill_header_has_the_all_type_columns(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    header = lines(await call(client, bill()))[0].split(",")
    assert header[:5] == ["交易时间", "公众账号ID", "商户号", "特约商户号", "设备号"]
    assert len(header) == 27


async def test_every_bill_row_value_has_a_backtick(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1")
    await refund(client, "T1", 30, "R1")
    ready(clock)
    text = await call(client, bill())
    for line in lines(text)[1:-2] + lines(text)[-1:]:
        cells(line)


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_the_bill_accepts_both_sign_types(client: Client, clock: ManualClock, sign_type: str) -> None:
    await paid(client)
    ready(clock)
    assert lines(await call(client, bill(), sign_type=sign_type))[0] == bills.HEADER


async def test_a_payment_row_describes_the_payment(client: Client, clock: ManualClock) -> None:
    order = await paid(client, "T1", 100, attach="gift")
    ready(clock)
    assert row(await call(client, bill()), 0) == {
        "交易时间": times.bill_time(order.paid_at or 0),
        "公众账号ID": APPID,
        "商户号": MCH_ID,
        "特约商户号": "0",
        "设备号": "",
        "微信订单号": order.transaction_id,
        "商户订单号": "T1",
        "用户标识": openid("alice"),
        "交易类型": "JSAPI",
        "交易状态": "SUCCESS",
        "付款银行": "OTHERS",
        "货币种类": "CNY",
        "应结订单金额": "1.00",
        "代金券金额": "0.00",
        "微信退款单号": "0",
        "商户退款单号": "0",
        "退款金额": "0.00",
        "充值券退款金额": "0.00",
        "退款类型": "",
        "退款状态": "",
        "商品名称": order.body,
        "商户数据包": "gift",
        "手续费": "0.01",
        "费率": "0.60%",
        "订单金额": "1.00",
        "申请退款金额": "0.00",
        "费率备注": "",
    }


async def test_a_refund_row_describes_the_refund(client: Client, clock: ManualClock) -> None:
    order = await paid(client, "T1", 1000)
    await refund(client, "T1", 500, "R1", total_fee=1000)
    ready(clock)
    found = row(await call(client, bill("REFUND")), 0)
    assert (found["交易状态"], found["商户订单号"], found["微信订单号"]) == ("REFUND", "T1", order.transaction_id)
    assert (found["商户退款单号"], found["退款金额"], found["申请退款金额"]) == ("R1", "5.00", "5.00")
    assert (found["退款类型"], found["退款状态"], found["应结订单金额"], found["手续费"]) == (
        "ORIGINAL",
        "SUCCESS",
        "0.00",
        "-0.03",
    )


async def test_the_all_bill_has_payments_and_refunds(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1")
    await refund(client, "T1", 30, "R1")
    ready(clock)
    text = await call(client, bill())
    assert [row(text, n)["交易状态"] for n in range(2)] == ["SUCCESS", "REFUND"]
    assert len(lines(text)) == 1 + 2 + 2


async def test_the_success_bill_has_only_payments(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1")
    await refund(client, "T1", 30, "R1")
    ready(clock)
    text = await call(client, bill("SUCCESS"))
    assert len(lines(text)) == 1 + 1 + 2
    assert row(text, 0)["交易状态"] == "SUCCESS"


async def test_the_refund_bill_has_only_refunds(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1")
    await refund(client, "T1", 30, "R1")
    ready(clock)
    text = await call(client, bill("REFUND"))
    assert len(lines(text)) == 1 + 1 + 2
    assert row(text, 0)["交易状态"] == "REFUND"


async def test_the_bill_ends_with_the_summary(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1", 100)
    await paid(client, "T2", 250)
    await refund(client, "T1", 30, "R1")
    ready(clock)
    assert summary(await call(client, bill())) == {
        "总交易单数": "3",
        "应结订单总金额": "3.50",
        "退款总金额": "0.30",
        "充值券退款总金额": "0.00",
        "手续费总金额": "0.03",
        "订单总金额": "3.50",
        "申请退款总金额": "0.30",
    }


async def test_the_bill_rows_are_in_time_order(client: Client, clock: ManualClock) -> None:
    await paid(client, "T2")
    clock.advance(60)
    await paid(client, "T1")
    ready(clock)
    text = await call(client, bill())
    assert [row(text, n)["商户订单号"] for n in range(2)] == ["T2", "T1"]


async def test_the_bill_holds_only_its_beijing_day(client: Client, clock: ManualClock) -> None:
    end_of_day = times.parse_compact(DAY + "235959")
    assert end_of_day is not None
    clock.advance(end_of_day - clock.now())
    await paid(client, "T1")
    clock.advance(1)
    await paid(client, "T2")
    ready(clock)
    text = await call(client, bill())
    assert [row(text, n)["商户订单号"] for n in range(len(lines(text)) - 3)] == ["T1"]


async def test_the_next_days_bill_holds_the_order_paid_after_midnight(client: Client, clock: ManualClock) -> None:
    midnight = times.parse_compact("20231116000000")
    assert midnight is not None
    clock.advance(midnight - clock.now())
    await paid(client, "T2")
    clock.advance(2 * 86400)
    text = await call(client, bill(bill_date="20231116"))
    assert row(text, 0)["商户订单号"] == "T2"


async def test_the_bill_is_the_same_when_asked_twice(client: Client, clock: ManualClock) -> None:
    await paid(client)
    ready(clock)
    assert await call(client, bill()) == await call(client, bill(), sign_type=HMAC)


async def test_bill_type_defaults_to_all(client: Client, clock: ManualClock) -> None:
    await paid(client, "T1")
    await refund(client, "T1", 30, "R1")
    ready(clock)
    fields = base_fields(bill_date=DAY)
    assert len(lines(await call(client, fields))) == 1 + 2 + 2
