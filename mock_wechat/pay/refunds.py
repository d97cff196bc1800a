"""Rules of refunds: partial and full, never more than was paid, re-entry by out_refund_no."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from mock_wechat import errors
from mock_wechat.pay.orders import Order, TradeState


class RefundStatus(StrEnum):
    SUCCESS = "SUCCESS"
    REFUNDCLOSE = "REFUNDCLOSE"
    PROCESSING = "PROCESSING"
    CHANGE = "CHANGE"


@dataclass(frozen=True)
class Refund:
    mch_id: str
    appid: str
    out_trade_no: str
    transaction_id: str
    out_refund_no: str
    refund_id: str
    total_fee: int
    refund_fee: int
    created_at: float
    status: str = RefundStatus.SUCCESS.value
    success_time: str = ""
    notify_url: str = ""
    refund_account: str = "REFUND_SOURCE_UNSETTLED_FUNDS"
    refund_desc: str = ""
    recv_account: str = "支付用户的零钱"


@dataclass(frozen=True)
class RefundRequest:
    """A refund as a merchant asks for it, in plain values: each wire dialect reads its request into one."""

    order: Order
    out_refund_no: str
    total: int
    """The order's amount as the merchant states it, in fen."""
    refund: int
    notify_url: str = ""
    refund_account: str = "REFUND_SOURCE_UNSETTLED_FUNDS"
    reason: str = ""


def check_refundable(order: Order, total_fee: int, refund_fee: int) -> None:
    """The order is paid, the amounts are the order's, and there is enough left to refund."""
    if order.trade_state not in (TradeState.SUCCESS, TradeState.REFUND):
        raise errors.TradeStateError(f"order {order.out_trade_no} is {order.trade_state}; only paid orders refund")
    if total_fee != order.total_fee:
        raise errors.InvalidRequest(
            f"total_fee {total_fee} is not the order's total_fee {order.total_fee}",
            err_code_des="订单金额或退款金额与之前请求不一致，请核实后再试",
        )
    if refund_fee <= 0:
        raise errors.InvalidRequest("refund_fee must be a positive number of fen", err_code_des="refund_fee参数错误")
    if refund_fee > order.remaining_refundable:
        raise errors.InvalidRequest(
            f"refund_fee {refund_fee} exceeds what is left to refund ({order.remaining_refundable} of "
            f"{order.total_fee}; {order.refunded_fee} already refunded)",
            err_code_des="订单已全额退款" if order.remaining_refundable == 0 else "申请退款金额超过订单可退金额",
        )


def reenter(existing: Refund, total_fee: int, refund_fee: int) -> Refund:
    """The same out_refund_no again: the same refund if the amounts agree."""
    if (existing.total_fee, existing.refund_fee) != (total_fee, refund_fee):
        raise errors.InvalidRequest(
            f"out_refund_no {existing.out_refund_no} was {existing.refund_fee}/{existing.total_fee}, "
            f"now {refund_fee}/{total_fee}",
            err_code_des="订单金额或退款金额与之前请求不一致，请核实后再试",
        )
    return existing


def apply(order: Order, refund_fee: int) -> Order:
    return replace(order, refunded_fee=order.refunded_fee + refund_fee, trade_state=TradeState.REFUND.value)
