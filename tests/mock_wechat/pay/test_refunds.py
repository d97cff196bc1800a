"""Rules of refunds (pure): only paid orders, the order's amount, never more than is left, re-entry."""

from __future__ import annotations

from typing import Any

import pytest

from mock_wechat import errors
from mock_wechat.pay import refunds
from mock_wechat.pay.orders import Order, TradeState
from mock_wechat.pay.refunds import Refund, RefundStatus
from tests.mock_wechat.pay.test_orders import NOW, make_order

MISMATCH = "订单金额或退款金额与之前请求不一致，请核实后再试"


def paid_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {"trade_state": TradeState.SUCCESS.value, "transaction_id": "4200", "cash_fee": 100}
    return make_order(**{**values, **overrides})


def make_refund(**overrides: Any) -> Refund:
    values: dict[str, Any] = {
        "mch_id": "1900000109",
        "appid": "wx1",
        "out_trade_no": "T1",
        "transaction_id": "4200",
        "out_refund_no": "R1",
        "refund_id": "5000",
        "total_fee": 100,
        "refund_fee": 30,
        "created_at": NOW,
    }
    values.update(overrides)
    return Refund(**values)


def test_a_refund_succeeds_at_once_into_the_payers_change() -> None:
    made = make_refund()
    assert (made.status, made.recv_account, made.refund_account) == (
        RefundStatus.SUCCESS,
        "支付用户的零钱",
        "REFUND_SOURCE_UNSETTLED_FUNDS",
    )


def test_a_paid_order_is_refundable() -> None:
    refunds.check_refundable(paid_order(), 100, 100)


def test_a_partly_refunded_order_is_refundable_for_the_rest() -> None:
    refunds.check_refundable(paid_order(trade_state=TradeState.REFUND.value, refunded_fee=40), 100, 60)


@pytest.mark.parametrize("state", [TradeState.NOTPAY, TradeState.CLOSED, TradeState.PAYERROR, TradeState.REVOKED])
def test_an_unpaid_order_is_trade_state_error(state: TradeState) -> None:
    with pytest.raises(errors.TradeStateError) as caught:
        refunds.check_refundable(make_order(trade_state=state.value), 100, 1)
    assert caught.value.des == "订单状态错误"


def test_a_total_fee_other_than_the_orders_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.check_refundable(paid_order(), 99, 1)
    assert caught.value.des == MISMATCH


def test_a_zero_refund_fee_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.check_refundable(paid_order(), 100, 0)
    assert caught.value.des == "refund_fee参数错误"


def test_more_than_is_left_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.check_refundable(paid_order(refunded_fee=60, trade_state=TradeState.REFUND.value), 100, 41)
    assert caught.value.des == "申请退款金额超过订单可退金额"


def test_more_than_the_order_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.check_refundable(paid_order(), 100, 101)
    assert caught.value.des == "申请退款金额超过订单可退金额"


def test_a_fully_refunded_order_says_so() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.check_refundable(paid_order(refunded_fee=100, trade_state=TradeState.REFUND.value), 100, 1)
    assert caught.value.des == "订单已全额退款"


def test_reentry_with_the_same_amounts_is_the_same_refund() -> None:
    made = make_refund()
    assert refunds.reenter(made, 100, 30) is made


def test_reentry_with_another_refund_fee_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.reenter(make_refund(), 100, 31)
    assert caught.value.des == MISMATCH


def test_reentry_with_another_total_fee_is_invalid_request() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        refunds.reenter(make_refund(), 101, 30)
    assert caught.value.des == MISMATCH


def test_apply_turns_the_order_refund() -> None:
    assert refunds.apply(paid_order(), 30).trade_state == TradeState.REFUND


def test_apply_adds_up_the_refunded_amount() -> None:
    order = refunds.apply(refunds.apply(paid_order(), 30), 20)
    assert (order.refunded_fee, order.remaining_refundable) == (50, 50)
