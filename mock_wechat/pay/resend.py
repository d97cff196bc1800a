"""Resend a notification on demand: again, twice at once, or forged, so a merchant can test its handler."""

from __future__ import annotations

from mock_wechat import errors
from mock_wechat.pay.notifications import Kind, Notification, Tamper
from mock_wechat.pay.orders import Api
from mock_wechat.pay.service import PayService


def resend(
    pay: PayService, note_id: str, *, duplicate: bool = False, tamper: Tamper | None = None
) -> list[Notification]:
    """New copies of a notification, each rendered afresh (or forged) at delivery, with WeChat's retry schedule."""
    original = pay.book.get(note_id)
    if original is None:
        raise errors.ParamError(f"no notification {note_id!r}")
    if pay.order(original.mch_id, original.out_trade_no) is None:
        raise errors.OrderNotExist(f"order {original.out_trade_no} is gone (reset?)")
    if original.kind == Kind.REFUND and pay.refund(original.mch_id, original.out_refund_no) is None:
        raise errors.RefundNotExist(f"refund {original.out_refund_no} is gone (reset?)")
    if tamper == Tamper.AMOUNT and original.kind != Kind.PAYMENT:
        raise errors.ParamError("only payment notifications carry an amount to tamper with")
    if tamper == Tamper.CIPHERTEXT and original.api != Api.V3:
        raise errors.ParamError("only API v3 notifications carry a ciphertext to tamper with")
    note = "resent" if tamper is None else f"forged ({tamper.value}): the merchant must refuse it"
    copies = 2 if duplicate else 1
    return [
        pay.book.create(
            kind=Kind(original.kind),
            mch_id=original.mch_id,
            out_trade_no=original.out_trade_no,
            out_refund_no=original.out_refund_no,
            notify_url=original.notify_url,
            api=original.api,
            tamper="" if tamper is None else tamper.value,
            note=note + (f" (duplicate {i + 1} of 2)" if duplicate else ""),
        )
        for i in range(copies)
    ]
