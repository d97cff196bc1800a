"""Resend a notification on demand: again, twice at once, or forged, so a merchant can test its handler."""

from __future__ import annotations

from enum import StrEnum

from mock_wechat import errors
from mock_wechat.pay import refunding, v2_xml
from mock_wechat.pay.notifications import Kind, Notification
from mock_wechat.pay.service import PayService


class Tamper(StrEnum):
    SIGN = "sign"
    AMOUNT = "amount"


def _forge(body: str, tamper: Tamper) -> str:
    """A copy that must be refused: a wrong sign, or an amount changed after signing."""
    fields: dict[str, str | int] = dict(v2_xml.parse(body.encode()))
    if tamper == Tamper.SIGN:
        if "sign" in fields:
            fields["sign"] = "0" * len(str(fields["sign"]))
        else:
            fields["req_info"] = "Zm9yZ2VkIHJlcV9pbmZv" + str(fields.get("req_info", ""))[20:]
    else:
        if "total_fee" not in fields:
            raise errors.ParamError("only payment notifications carry an amount to tamper with")
        fields["total_fee"] = int(fields["total_fee"]) + 1
        fields["cash_fee"] = fields["total_fee"]
    return v2_xml.render(fields)


def resend(
    pay: PayService, note_id: str, *, duplicate: bool = False, tamper: Tamper | None = None
) -> list[Notification]:
    """New copies of a notification, freshly signed (or forged), each with WeChat's retry schedule."""
    original = pay.book.get(note_id)
    if original is None:
        raise errors.ParamError(f"no notification {note_id!r}")
    order = pay.order(original.mch_id, original.out_trade_no)
    if order is None:
        raise errors.OrderNotExist(f"order {original.out_trade_no} is gone (reset?)")
    if original.kind == Kind.PAYMENT:
        body = pay.payment_notification(order)
    else:
        made = pay.refunds.get(f"{original.mch_id}:{original.out_refund_no}")
        if made is None:
            raise errors.RefundNotExist(f"refund {original.out_refund_no} is gone (reset?)")
        body = refunding.refund_notification(pay, order, made)
    note = "resent"
    if tamper is not None:
        body, note = _forge(body, tamper), f"forged ({tamper.value}): the merchant must refuse it"
    copies = 2 if duplicate else 1
    return [
        pay.book.create(
            kind=Kind(original.kind),
            mch_id=original.mch_id,
            out_trade_no=original.out_trade_no,
            out_refund_no=original.out_refund_no,
            notify_url=original.notify_url,
            body=body,
            note=note + (f" (duplicate {i + 1} of 2)" if duplicate else ""),
        )
        for i in range(copies)
    ]
