"""`/pay/downloadbill`: the day's trade bill as WeChat's backtick-prefixed CSV."""

from __future__ import annotations

from collections.abc import Mapping

from mock_wechat import errors, times
from mock_wechat.pay.orders import Order
from mock_wechat.pay.refunds import Refund
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v2_dialect import Signer, require

FEE_RATE = 0.006
HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
BILL_TYPES = ("ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND")
READY_AFTER = 10 * 3600
"""A day's bill is ready at 10:00 the next day (Beijing time), as WeChat advises."""


def yuan(value: int) -> str:
    return f"{value / 100:.2f}"


def _row(values: list[str]) -> str:
    return ",".join("`" + v for v in values)


def _order_row(o: Order) -> list[str]:
    fee = round(o.total_fee * FEE_RATE)
    return [
        times.bill_time(o.paid_at or o.created_at), o.appid, o.mch_id, "0", o.device_info, o.transaction_id,
        o.out_trade_no, o.openid, o.trade_type, "SUCCESS", o.bank_type, o.fee_type, yuan(o.total_fee), "0.00",
        "0", "0", "0.00", "0.00", "", "", o.body, o.attach, yuan(fee), "0.60%", yuan(o.total_fee), "0.00", "",
    ]  # fmt: skip


def _refund_row(o: Order, r: Refund) -> list[str]:
    fee = -round(r.refund_fee * FEE_RATE)
    return [
        times.bill_time(r.created_at), o.appid, o.mch_id, "0", o.device_info, o.transaction_id, o.out_trade_no,
        o.openid, o.trade_type, "REFUND", o.bank_type, o.fee_type, "0.00", "0.00", r.refund_id, r.out_refund_no,
        yuan(r.refund_fee), "0.00", "ORIGINAL", r.status, o.body, o.attach, yuan(fee), "0.60%", yuan(o.total_fee),
        yuan(r.refund_fee), "",
    ]  # fmt: skip


def downloadbill(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> str:
    """v2's `/pay/downloadbill`: `bill_date` as yyyyMMdd."""
    require(fields, "bill_date")
    pay.check_appid(signer.merchant, fields.get("appid", ""))
    return trade_bill(pay, signer.merchant.mch_id, fields["bill_date"], fields.get("bill_type") or "ALL")


def trade_bill(pay: PayService, mch_id: str, bill_date: str, bill_type: str) -> str:
    """One merchant's bill of one Beijing day (`yyyyMMdd`), or BillUnavailable saying why not (yet)."""
    if bill_type not in BILL_TYPES:
        raise errors.BillUnavailable(
            f"bill_type {bill_type!r} is not one of {BILL_TYPES}", return_msg="invalid bill_type"
        )
    start = times.parse_compact(bill_date + "000000")
    if start is None:
        raise errors.BillUnavailable(f"bill_date {bill_date!r} is not yyyyMMdd", return_msg="invalid bill_date")
    if pay.clock.now() < start + 86_400 + READY_AFTER:
        raise errors.BillUnavailable(
            f"the bill of {bill_date} is ready at 10:00 the next day, Beijing time "
            "(advance the sandbox clock with POST /_sandbox/api/clock)",
            return_msg="Bill Creating",
        )
    end = start + 86_400
    rows: list[list[str]] = []
    paid_total = refund_total = fee_total = order_total = 0
    if bill_type in ("ALL", "SUCCESS"):
        for o in pay.orders_of(mch_id):
            if o.paid_at is not None and start <= o.paid_at < end:
                rows.append(_order_row(o))
                paid_total += o.total_fee
                order_total += o.total_fee
                fee_total += round(o.total_fee * FEE_RATE)
    if bill_type in ("ALL", "REFUND"):
        for r in pay.refunds_by(mch_id):
            order = pay.order(mch_id, r.out_trade_no)
            if order is not None and start <= r.created_at < end:
                rows.append(_refund_row(order, r))
                refund_total += r.refund_fee
                fee_total -= round(r.refund_fee * FEE_RATE)
    if not rows:
        raise errors.BillUnavailable(
            f"merchant {mch_id} has no {bill_type} trades on {bill_date}",
            return_msg="No Bill Exist",
            error_code="20002",
        )
    rows.sort(key=lambda r: r[0])
    summary = [
        str(len(rows)),
        yuan(paid_total),
        yuan(refund_total),
        "0.00",
        yuan(fee_total),
        yuan(order_total),
        yuan(refund_total),
    ]
    lines = [HEADER, *(_row(r) for r in rows), SUMMARY, _row(summary)]
    return "\r\n".join(lines) + "\r\n"
