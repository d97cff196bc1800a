"""Refund and refund query of API v2, and the refund notification with its encrypted `req_info`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from mock_wechat import errors, signing, times
from mock_wechat.pay import refunds, v2_xml
from mock_wechat.pay.notifications import Kind
from mock_wechat.pay.orders import Order
from mock_wechat.pay.refunds import Refund
from mock_wechat.pay.service import PayService, Signer, fen, require
from mock_wechat.store import Pointer


def refund(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> tuple[Refund, Order]:
    """`/secapi/pay/refund`: money goes back to the payer's wallet at once; the order turns REFUND."""
    pay.check_appid(signer, fields.get("appid", ""))
    require(fields, "out_refund_no", "total_fee", "refund_fee")
    total_fee, refund_fee = fen(fields, "total_fee"), fen(fields, "refund_fee")
    notify_url = fields.get("notify_url", "")
    if notify_url:
        pay.check_notify_url(signer.merchant, notify_url)
    mch_id = signer.merchant.mch_id
    now = pay.clock.now()
    with pay.store.transaction():
        order = pay.find(mch_id, fields)
        existing = pay.refunds.get(f"{mch_id}:{fields['out_refund_no']}")
        if existing is not None:
            if existing.out_trade_no != order.out_trade_no:
                raise errors.InvalidRequest(
                    f"out_refund_no {existing.out_refund_no} already refunds order {existing.out_trade_no}",
                    err_code_des="商户退款单号重复",
                )
            return refunds.reenter(existing, total_fee, refund_fee), order
        refunds.check_refundable(order, total_fee, refund_fee)
        made = Refund(
            mch_id=mch_id,
            appid=order.appid,
            out_trade_no=order.out_trade_no,
            transaction_id=order.transaction_id,
            out_refund_no=fields["out_refund_no"],
            refund_id=pay.ids.refund_id(now),
            total_fee=total_fee,
            refund_fee=refund_fee,
            created_at=now,
            success_time=times.bill_time(now),
            notify_url=notify_url,
            refund_account=fields.get("refund_account") or "REFUND_SOURCE_UNSETTLED_FUNDS",
            refund_desc=fields.get("refund_desc", ""),
        )
        pay.refunds.put(f"{mch_id}:{made.out_refund_no}", mch_id, made)
        pay.index.put(f"refund_id:{made.refund_id}", mch_id, Pointer(f"{mch_id}:{made.out_refund_no}"))
        order = refunds.apply(order, refund_fee)
        pay.save(order)
        payer = pay.accounts.user(order.user_id)
        if payer is not None:
            pay.accounts.put_user(replace(payer, balance=payer.balance + refund_fee))
        if notify_url:
            pay.book.create(
                kind=Kind.REFUND,
                mch_id=mch_id,
                out_trade_no=order.out_trade_no,
                out_refund_no=made.out_refund_no,
                notify_url=notify_url,
                body=refund_notification(pay, order, made),
            )
    return made, order


def refund_notification(pay: PayService, order: Order, made: Refund) -> str:
    inner: dict[str, str | int] = {
        "out_refund_no": made.out_refund_no,
        "out_trade_no": made.out_trade_no,
        "refund_account": made.refund_account,
        "refund_fee": made.refund_fee,
        "refund_id": made.refund_id,
        "refund_recv_accout": made.recv_account,
        "refund_request_source": "API",
        "refund_status": made.status,
        "settlement_refund_fee": made.refund_fee,
        "settlement_total_fee": made.total_fee,
        "success_time": made.success_time,
        "total_fee": made.total_fee,
        "transaction_id": made.transaction_id,
    }
    root = v2_xml.render(inner).replace("<xml>", "<root>", 1).removesuffix("</xml>") + "</root>"
    outer: dict[str, str | int] = {
        "return_code": "SUCCESS",
        "appid": order.appid,
        "mch_id": order.mch_id,
        "nonce_str": pay.ids.nonce(),
        "req_info": signing.v2_refund_req_info(root, pay.key_of(order)),
    }
    return v2_xml.render(outer)


def refundquery(pay: PayService, signer: Signer, fields: Mapping[str, str]) -> tuple[Order, list[Refund]]:
    """`/pay/refundquery` by refund_id, out_refund_no, transaction_id or out_trade_no."""
    pay.check_appid(signer, fields.get("appid", ""))
    mch_id = signer.merchant.mch_id
    keys = ("refund_id", "out_refund_no", "transaction_id", "out_trade_no")
    if not any(fields.get(k) for k in keys):
        raise errors.LackParams("one of refund_id, out_refund_no, transaction_id, out_trade_no is required")
    if fields.get("refund_id") or fields.get("out_refund_no"):
        if fields.get("refund_id"):
            pointer = pay.index.get(f"refund_id:{fields['refund_id']}")
            found = pay.refunds.get(pointer.value) if pointer else None
        else:
            found = pay.refunds.get(f"{mch_id}:{fields['out_refund_no']}")
        if found is None or found.mch_id != mch_id:
            raise errors.RefundNotExist("no such refund for this merchant")
        order = pay.order(mch_id, found.out_trade_no)
        assert order is not None
        return order, [found]
    try:
        order = pay.find(mch_id, fields)
    except errors.OrderNotExist as exc:
        raise errors.RefundNotExist(exc.diagnostic) from None
    made = sorted(
        (r for r in pay.refunds.query(mch_id) if r.out_trade_no == order.out_trade_no), key=lambda r: r.created_at
    )
    if not made:
        raise errors.RefundNotExist(f"order {order.out_trade_no} has no refunds")
    return order, made
