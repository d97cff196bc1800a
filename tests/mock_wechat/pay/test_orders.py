"""Rules of an order's life (pure): expiry, re-entry, paying, failing, closing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mock_wechat import errors
from mock_wechat.pay import orders
from mock_wechat.pay.orders import Order, TradeState

NOW = 1_700_000_000.0
SNAPSHOT = {
    "appid": "wx1",
    "body": "goods",
    "detail": "",
    "attach": "",
    "total_fee": "100",
    "fee_type": "",
    "trade_type": "JSAPI",
    "openid": "o1",
    "product_id": "",
    "goods_tag": "",
    "limit_pay": "",
    "notify_url": "http://127.0.0.1/notify",
}


def make_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {
        "mch_id": "1900000109",
        "appid": "wx1",
        "out_trade_no": "T1",
        "body": "goods",
        "total_fee": 100,
        "trade_type": "JSAPI",
        "notify_url": "http://127.0.0.1/notify",
        "spbill_create_ip": "127.0.0.1",
        "created_at": NOW,
        "prepay_id": "wx20231115061320aaaaaaaaaaaaaaaaaaaa",
        "prepay_expires_at": NOW + orders.PREPAY_TTL,
        "sign_type": "MD5",
        "fields": dict(SNAPSHOT),
        "openid": "o1",
        "user_id": "alice",
    }
    values.update(overrides)
    return Order(**values)


def test_prepay_id_lives_two_hours() -> None:
    assert orders.PREPAY_TTL == 7200


def test_time_expire_must_leave_five_minutes() -> None:
    assert orders.MIN_TIME_EXPIRE == 300


def test_every_trade_state_has_a_description() -> None:
    assert set(orders.STATE_DESC) == set(TradeState)


def test_trade_state_descriptions_are_wechats() -> None:
    assert orders.STATE_DESC[TradeState.NOTPAY] == "订单未支付"
    assert orders.STATE_DESC[TradeState.SUCCESS] == "支付成功"
    assert orders.STATE_DESC[TradeState.CLOSED] == "已关闭"
    assert orders.STATE_DESC[TradeState.REFUND] == "转入退款"
    assert orders.STATE_DESC[TradeState.PAYERROR] == "支付失败"


def test_a_new_order_is_notpay() -> None:
    assert make_order().trade_state == TradeState.NOTPAY


# -- effective (time_expire) -----------------------------------------------------------------------


def test_unpaid_order_before_time_expire_reads_notpay() -> None:
    order = make_order(expires_at=NOW + 600)
    assert orders.effective(order, NOW + 599).trade_state == TradeState.NOTPAY


def test_unpaid_order_at_time_expire_reads_closed() -> None:
    order = make_order(expires_at=NOW + 600)
    assert orders.effective(order, NOW + 600).trade_state == TradeState.CLOSED


def test_unpaid_order_without_time_expire_never_closes_by_itself() -> None:
    assert orders.effective(make_order(), NOW + 10 * 365 * 86400).trade_state == TradeState.NOTPAY


def test_paid_order_past_time_expire_stays_paid() -> None:
    order = make_order(expires_at=NOW + 600, trade_state=TradeState.SUCCESS.value)
    assert orders.effective(order, NOW + 601).trade_state == TradeState.SUCCESS


def test_effective_does_not_change_the_stored_order() -> None:
    order = make_order(expires_at=NOW + 600)
    orders.effective(order, NOW + 601)
    assert order.trade_state == TradeState.NOTPAY


# -- re-entry ----------------------------------------------------------------------------------------


def test_identical_reentry_returns_the_same_order() -> None:
    order = make_order()
    assert orders.reenter(order, dict(SNAPSHOT), NOW + 60) is order


def test_reentry_ignores_fields_outside_the_reentry_set() -> None:
    order = make_order()
    assert orders.reenter(order, {**SNAPSHOT, "spbill_create_ip": "10.0.0.1", "nonce_str": "x"}, NOW) is order


@pytest.mark.parametrize(
    "field",
    [
        "body",
        "detail",
        "attach",
        "total_fee",
        "fee_type",
        "openid",
        "product_id",
        "goods_tag",
        "limit_pay",
        "notify_url",
    ],
)
def test_reentry_with_a_changed_field_is_invalid_request_201(field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.reenter(make_order(), {**SNAPSHOT, field: "changed"}, NOW)
    assert caught.value.des == "201 商户订单号重复"
    assert field in caught.value.diagnostic


def test_reentry_with_another_trade_type_is_out_trade_no_used() -> None:
    with pytest.raises(errors.OutTradeNoUsed) as caught:
        orders.reenter(make_order(), {**SNAPSHOT, "trade_type": "NATIVE"}, NOW)
    assert caught.value.des == "商户订单号重复"


def test_reentry_with_another_appid_is_out_trade_no_used() -> None:
    with pytest.raises(errors.OutTradeNoUsed):
        orders.reenter(make_order(), {**SNAPSHOT, "appid": "wx2"}, NOW)


def test_reentry_of_a_paid_order_is_orderpaid() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.reenter(make_order(trade_state=TradeState.SUCCESS.value), dict(SNAPSHOT), NOW)


def test_reentry_of_a_refunded_order_is_orderpaid() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.reenter(make_order(trade_state=TradeState.REFUND.value), dict(SNAPSHOT), NOW)


def test_reentry_of_a_closed_order_is_orderclosed() -> None:
    with pytest.raises(errors.OrderClosed):
        orders.reenter(make_order(trade_state=TradeState.CLOSED.value), dict(SNAPSHOT), NOW)


def test_reentry_of_an_expired_order_is_orderclosed() -> None:
    with pytest.raises(errors.OrderClosed):
        orders.reenter(make_order(expires_at=NOW + 300), dict(SNAPSHOT), NOW + 300)


def test_paid_state_wins_over_changed_parameters() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.reenter(make_order(trade_state=TradeState.SUCCESS.value), {**SNAPSHOT, "total_fee": "1"}, NOW)


def test_reentry_of_a_payerror_order_returns_it() -> None:
    order = make_order(trade_state=TradeState.PAYERROR.value)
    assert orders.reenter(order, dict(SNAPSHOT), NOW) is order


def test_renew_prepay_gives_a_new_prepay_id_for_two_more_hours() -> None:
    renewed = orders.renew_prepay(make_order(), "wxNEW", NOW + 8000)
    assert (renewed.prepay_id, renewed.prepay_expires_at) == ("wxNEW", NOW + 8000 + 7200)


def test_renew_prepay_keeps_the_order() -> None:
    order = make_order()
    renewed = orders.renew_prepay(order, "wxNEW", NOW + 8000)
    assert replace(renewed, prepay_id=order.prepay_id, prepay_expires_at=order.prepay_expires_at) == order


# -- paying --------------------------------------------------------------------------------------------


def test_notpay_order_is_payable() -> None:
    order = make_order()
    assert orders.check_payable(order, NOW) == order


def test_payerror_order_is_payable_again() -> None:
    order = make_order(trade_state=TradeState.PAYERROR.value)
    assert orders.check_payable(order, NOW) == order


def test_paid_order_is_not_payable() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.check_payable(make_order(trade_state=TradeState.SUCCESS.value), NOW)


def test_refunded_order_is_not_payable() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.check_payable(make_order(trade_state=TradeState.REFUND.value), NOW)


def test_closed_order_is_not_payable() -> None:
    with pytest.raises(errors.OrderClosed):
        orders.check_payable(make_order(trade_state=TradeState.CLOSED.value), NOW)


def test_expired_order_is_not_payable() -> None:
    with pytest.raises(errors.OrderClosed):
        orders.check_payable(make_order(expires_at=NOW + 300), NOW + 300)


def test_paid_records_the_payment() -> None:
    order = orders.paid(
        make_order(user_id=""), transaction_id="4200", time_end="20231115061320", now=NOW + 5, user_id="bob"
    )
    assert (order.trade_state, order.transaction_id, order.time_end, order.paid_at, order.user_id) == (
        TradeState.SUCCESS,
        "4200",
        "20231115061320",
        NOW + 5,
        "bob",
    )


def test_paid_pays_the_whole_amount_in_cash_from_others() -> None:
    order = orders.paid(make_order(total_fee=551), transaction_id="t", time_end="t", now=NOW, user_id="alice")
    assert (order.cash_fee, order.bank_type) == (551, "OTHERS")


def test_failed_is_payerror() -> None:
    assert orders.failed(make_order()).trade_state == TradeState.PAYERROR


# -- closing -------------------------------------------------------------------------------------------


def test_close_closes_an_unpaid_order() -> None:
    assert orders.close(make_order(), NOW).trade_state == TradeState.CLOSED


def test_close_closes_a_payerror_order() -> None:
    assert orders.close(make_order(trade_state=TradeState.PAYERROR.value), NOW).trade_state == TradeState.CLOSED


def test_close_of_an_expired_order_stores_it_closed() -> None:
    assert orders.close(make_order(expires_at=NOW + 300), NOW + 400).trade_state == TradeState.CLOSED


def test_close_of_a_paid_order_is_orderpaid() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.close(make_order(trade_state=TradeState.SUCCESS.value), NOW)


def test_close_of_a_refunded_order_is_orderpaid() -> None:
    with pytest.raises(errors.OrderPaid):
        orders.close(make_order(trade_state=TradeState.REFUND.value), NOW)


def test_close_of_a_closed_order_is_orderclosed() -> None:
    with pytest.raises(errors.OrderClosed):
        orders.close(make_order(trade_state=TradeState.CLOSED.value), NOW)


def test_remaining_refundable_is_total_less_refunded() -> None:
    assert make_order(total_fee=100, refunded_fee=30).remaining_refundable == 70


# -- field limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("0100", 100), ("2147483647", 2**31 - 1)])
def test_fen_reads_a_positive_int(value: str, expected: int) -> None:
    assert orders.fen(value, "total_fee") == expected


@pytest.mark.parametrize("value", ["", "0", "000", "-1", "2147483648", str(2**63), "9" * 5000, "１"])
def test_fen_refuses_what_is_not_a_positive_wechat_int(value: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.fen(value, "refund_fee")
    assert caught.value.des == "refund_fee参数错误"


def test_fen_diagnostic_cuts_a_huge_value_short() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.fen("9" * 5000, "total_fee")
    assert "(5000 characters)" in caught.value.diagnostic
    assert len(caught.value.diagnostic) < 200


def test_check_length_names_the_field() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.check_length("body", "x" * 129, orders.BODY_MAX)
    assert caught.value.des == "body参数长度有误"
    assert "body is 129 characters long; at most 128" in caught.value.diagnostic


def test_check_length_counts_characters_not_bytes() -> None:
    orders.check_length("body", "商" * 128, orders.BODY_MAX)


def test_out_trade_no_refuses_at_sign() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.check_out_trade_no("T@1")
    assert caught.value.des == "out_trade_no参数错误"


def test_out_trade_no_allows_letters_digits_and_the_four_marks() -> None:
    orders.check_out_trade_no("aZ09_-|*" + "x" * 24)


@pytest.mark.parametrize("value", ["", "localhost", "1.2.3.4.5", "01.2.3.4"])
def test_check_ip_refuses_what_is_not_an_address(value: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.check_ip("spbill_create_ip", value)
    assert caught.value.des == "spbill_create_ip参数错误"


def test_check_within_limit_allows_the_limit_itself() -> None:
    orders.check_within_limit(500, 500, "1900000109")


def test_check_within_limit_refuses_one_fen_more() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        orders.check_within_limit(501, 500, "1900000109")
    assert caught.value.des == "total_fee超出单笔支付限额"
    assert "single-payment limit of merchant 1900000109 (500 fen" in caught.value.diagnostic
