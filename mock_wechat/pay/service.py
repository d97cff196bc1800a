"""The pay service: every merchant's orders, refunds and notifications in the store, one order book."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mock_wechat import errors, signing, times
from mock_wechat.account.service import AccountService
from mock_wechat.clock import Clock
from mock_wechat.config import Merchant, User, WeChatConfig
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.ids import Ids, openid_for
from mock_wechat.masking import mask
from mock_wechat.pay import orders, rules, v2_xml
from mock_wechat.pay.book import NotificationBook
from mock_wechat.pay.notifications import Kind
from mock_wechat.pay.orders import Order, Outcome, TradeType
from mock_wechat.pay.refunds import Refund
from mock_wechat.store import Pointer, Store, Table


@dataclass(frozen=True)
class Signer:
    """Who signed a v2 request and how: the answer is signed the same way."""

    merchant: Merchant
    key: str
    sign_type: str
    sandbox: bool


def sandbox_signkey(merchant: Merchant) -> str:
    """The key `getsignkey` hands out; requests on the sandbox paths are signed with it."""
    return hashlib.md5(f"sandbox_signkey:{merchant.mch_id}:{merchant.key}".encode()).hexdigest()  # noqa: S324


def require(fields: Mapping[str, str], *names: str) -> None:
    missing = [n for n in names if not fields.get(n)]
    if missing:
        raise errors.LackParams(f"missing required parameters: {', '.join(missing)}")


def fen(fields: Mapping[str, str], name: str) -> int:
    """The amount `name` in fen: a positive integer that fits WeChat's `Int`, or INVALID_REQUEST naming it."""
    return orders.fen(fields.get(name, ""), name)


class PayService:
    """Orders (v2 and v3 share them), refunds, wallets and notification deliveries."""

    def __init__(
        self,
        config: WeChatConfig,
        store: Store,
        clock: Clock,
        ids: Ids,
        accounts: AccountService,
        notify_speed: float = 1.0,
    ) -> None:
        self.config, self.store, self.clock, self.ids, self.accounts = config, store, clock, ids, accounts
        self.orders = Table(store, Order, "order")
        self.refunds = Table(store, Refund, "refund")
        self.index = Table(store, Pointer, "pay_index")
        self.book = NotificationBook(store, clock, ids, notify_speed)

    # -- merchants and signatures -------------------------------------------------------------------

    def merchant(self, mch_id: str) -> Merchant:
        if not mch_id:
            raise errors.MchidNotExist("the mch_id parameter is missing")
        merchant = self.config.merchant(mch_id)
        if merchant is None:
            known = ", ".join(m.mch_id for m in self.config.merchants)
            raise errors.MchidNotExist(f"mch_id {mch_id!r} is not configured; configured: {known}")
        return merchant

    def authenticate(self, fields: Mapping[str, str], sandbox: bool) -> Signer:
        """The request's merchant, checked against its `sign` (the sandbox key on the sandbox paths)."""
        merchant = self.merchant(fields.get("mch_id", ""))
        sign_type = fields.get("sign_type") or signing.MD5
        if sign_type not in signing.SIGN_TYPES:
            raise errors.SignError(f"sign_type {sign_type!r} is neither MD5 nor HMAC-SHA256")
        key = sandbox_signkey(merchant) if sandbox else merchant.key
        if not fields.get("sign"):
            raise errors.SignError("the sign parameter is missing")
        if not signing.v2_verify(fields, key, sign_type):
            raise errors.SignError(self._sign_diagnostic(fields, merchant, key, sign_type, sandbox))
        return Signer(merchant, key, sign_type, sandbox)

    def _sign_diagnostic(
        self, fields: Mapping[str, str], merchant: Merchant, key: str, sign_type: str, sandbox: bool
    ) -> str:
        masked = signing.v2_string_to_sign(fields, mask(key))
        lines = [
            f"sign {fields.get('sign')!r} does not verify with {sign_type}.",
            f"The sandbox signed (key masked): {masked}",
            f"and expected {signing.v2_sign(fields, key, sign_type)}.",
        ]
        other = signing.HMAC_SHA256 if sign_type == signing.MD5 else signing.MD5
        if signing.v2_verify(fields, key, other):
            lines.append(f"It verifies with {other}: set sign_type={other!r} or sign with {sign_type}.")
        if fields.get("sign", "").upper() == signing.v2_sign(fields, key, sign_type):
            lines.append("It is right but lowercase: WeChat signs in uppercase hex.")
        other_key = merchant.key if sandbox else sandbox_signkey(merchant)
        for candidate in (signing.MD5, signing.HMAC_SHA256):
            if signing.v2_verify(fields, other_key, candidate):
                which = "the merchant's API key" if sandbox else "the sandbox_signkey from getsignkey"
                lines.append(
                    f"It verifies with {which}: on {'sandbox' if sandbox else 'normal'} paths use the other key."
                )
        for m in self.config.merchants:
            if m.mch_id != merchant.mch_id and signing.v2_verify(fields, m.key, sign_type):
                lines.append(f"It verifies with the key of merchant {m.mch_id}: mch_id and key do not belong together.")
        return " ".join(lines)

    def getsignkey(self, fields: Mapping[str, str]) -> tuple[Merchant, str]:
        """`getsignkey`: MD5-signed with the real API key, answers the sandbox key."""
        merchant = self.merchant(fields.get("mch_id", ""))
        if not signing.v2_verify(fields, merchant.key, signing.MD5):
            raise errors.SignError(self._sign_diagnostic(fields, merchant, merchant.key, signing.MD5, False))
        return merchant, sandbox_signkey(merchant)

    def check_appid(self, signer: Signer, appid: str) -> None:
        if not appid:
            raise errors.LackParams("missing required parameter: appid")
        if self.config.account(appid) is None:
            raise errors.AppidNotExist(f"appid {appid!r} is not a configured Official Account")
        if appid not in signer.merchant.appids:
            raise errors.AppidMchidNotMatch(
                f"appid {appid} is not bound to merchant {signer.merchant.mch_id}; "
                f"bound: {', '.join(signer.merchant.appids) or '(none)'}"
            )

    # -- orders -------------------------------------------------------------------------------------

    def _key(self, mch_id: str, out_trade_no: str) -> str:
        return f"{mch_id}:{out_trade_no}"

    def order(self, mch_id: str, out_trade_no: str) -> Order | None:
        found = self.orders.get(self._key(mch_id, out_trade_no))
        return None if found is None else orders.effective(found, self.clock.now())

    def save(self, order: Order) -> None:
        self.orders.put(self._key(order.mch_id, order.out_trade_no), order.mch_id, order)

    def payer(self, appid: str, openid: str) -> User | None:
        for user in self.accounts.all_users():
            if openid_for(appid, user.id) == openid:
                return user
        return None

    def check_notify_url(self, merchant: Merchant, url: str) -> None:
        origin = parse_origin(url)
        if origin is None or "?" in url:
            raise errors.InvalidRequest(
                f"notify_url {url!r} must be an absolute http(s) URL without a query string",
                err_code_des="notify_url参数错误",
            )
        if not allowed(origin, merchant.notify_hosts, merchant.trust_loopback):
            hosts = ", ".join(merchant.notify_hosts) or "(none)"
            raise errors.InvalidRequest(
                f"notify_url host {origin.host_port} is not in the notify allowlist of {merchant.mch_id} ({hosts}"
                f"{'; loopback allowed' if merchant.trust_loopback else ''}): the sandbox never calls other hosts",
                err_code_des="notify_url参数错误",
            )

    def unifiedorder(self, signer: Signer, fields: Mapping[str, str]) -> Order:
        require(fields, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type")
        appid = fields.get("appid", "")
        self.check_appid(signer, appid)
        total_fee = fen(fields, "total_fee")
        orders.check_within_limit(total_fee, signer.merchant.single_payment_limit, signer.merchant.mch_id)
        trade_type = fields["trade_type"]
        if trade_type not in TradeType.__members__:
            raise errors.InvalidRequest(
                f"trade_type {orders.shown(trade_type)} is not JSAPI, NATIVE, APP or MWEB",
                err_code_des="trade_type参数错误",
            )
        out_trade_no = fields["out_trade_no"]
        orders.check_out_trade_no(out_trade_no)
        orders.check_length("body", fields["body"], orders.BODY_MAX)
        orders.check_length("attach", fields.get("attach", ""), orders.ATTACH_MAX)
        orders.check_ip("spbill_create_ip", fields["spbill_create_ip"])
        openid = fields.get("openid", "")
        user: User | None = None
        if trade_type == TradeType.JSAPI and not openid:
            raise errors.LackParams("JSAPI orders need the payer's openid", err_code_des="JSAPI支付必须传openid")
        if trade_type == TradeType.NATIVE and not fields.get("product_id"):
            raise errors.LackParams("NATIVE orders need product_id", err_code_des="NATIVE支付必须传product_id")
        if openid:
            user = self.payer(appid, openid)
            if user is None:
                raise errors.InvalidRequest(
                    f"openid {openid} is not a user of appid {appid} "
                    "(openids differ per appid; see GET /_sandbox/api/config)",
                    err_code_des="appid和openid不匹配",
                )
        self.check_notify_url(signer.merchant, fields["notify_url"])
        now = self.clock.now()
        expires_at = self._time_expire(fields.get("time_expire", ""))
        if rules.effect(total_fee, signer.sandbox) == rules.Effect.UNIFIEDORDER_SYSTEMERROR:
            raise errors.PaySystemError(f"total_fee {total_fee} is the sandbox amount that forces SYSTEMERROR")
        snapshot = {k: fields.get(k, "") for k in orders.REENTRY_FIELDS}
        with self.store.transaction():
            existing = self.order(signer.merchant.mch_id, out_trade_no)
            if existing is not None:
                order = orders.reenter(existing, snapshot, now)
                if now >= order.prepay_expires_at:
                    order = orders.renew_prepay(order, self.ids.prepay_id(now), now)
                    self._index_order(order)
                    self.save(order)
                return order
            self._check_time_expire_leaves_time(fields.get("time_expire", ""), expires_at, now)
            order = Order(
                mch_id=signer.merchant.mch_id,
                appid=appid,
                out_trade_no=out_trade_no,
                body=fields["body"],
                total_fee=total_fee,
                trade_type=trade_type,
                notify_url=fields["notify_url"],
                spbill_create_ip=fields["spbill_create_ip"],
                created_at=now,
                prepay_id=self.ids.prepay_id(now),
                prepay_expires_at=now + orders.PREPAY_TTL,
                sign_type=signer.sign_type,
                fields=snapshot,
                openid=openid,
                user_id=user.id if user else "",
                attach=fields.get("attach", ""),
                device_info=fields.get("device_info", ""),
                fee_type=fields.get("fee_type") or "CNY",
                expires_at=expires_at,
                sandbox=signer.sandbox,
            )
            self.save(order)
            self._index_order(order)
            if rules.effect(total_fee, signer.sandbox) == rules.Effect.AUTOPAY:
                order = self._autopay(order)
        return order

    def _time_expire(self, value: str) -> float | None:
        if not value:
            return None
        expires_at = times.parse_compact(value)
        if expires_at is None:
            raise errors.InvalidRequest(
                f"time_expire {value!r} is not yyyyMMddHHmmss", err_code_des="time_expire参数格式错误"
            )
        return expires_at

    def _check_time_expire_leaves_time(self, value: str, expires_at: float | None, now: float) -> None:
        """A new order must leave the payer 5 minutes (a re-entry answers from the existing order instead)."""
        if expires_at is not None and expires_at - now < orders.MIN_TIME_EXPIRE:
            raise errors.InvalidRequest(
                f"time_expire {value} is {int(expires_at - now)} s from now (Beijing time); at least 300 s",
                err_code_des="time_expire时间过短，刷卡至少1分钟，其他5分钟",
            )

    def note_answer_sign(self, mch_id: str, out_trade_no: str, sign: str) -> None:
        """Remember the unifiedorder answer's sign: a page that reuses it as paySign gets told so."""
        order = self.orders.get(self._key(mch_id, out_trade_no))
        if order is not None:
            self.save(replace(order, answer_sign=sign))

    def _index_order(self, order: Order) -> None:
        key = self._key(order.mch_id, order.out_trade_no)
        self.index.put(f"prepay:{order.prepay_id}", order.mch_id, Pointer(key))
        if order.transaction_id:
            self.index.put(f"transaction:{order.transaction_id}", order.mch_id, Pointer(key))

    def by_prepay_id(self, prepay_id: str) -> Order | None:
        """The order of a prepay_id, while it is the order's current one (a renewed order drops the old)."""
        pointer = self.index.get(f"prepay:{prepay_id}")
        found = self.orders.get(pointer.value) if pointer else None
        if found is None or found.prepay_id != prepay_id:
            return None
        return orders.effective(found, self.clock.now())

    def find(self, mch_id: str, fields: Mapping[str, str]) -> Order:
        """By transaction_id (preferred) or out_trade_no, as orderquery and refund look orders up."""
        transaction_id, out_trade_no = fields.get("transaction_id", ""), fields.get("out_trade_no", "")
        if not transaction_id and not out_trade_no:
            raise errors.LackParams("either transaction_id or out_trade_no is required")
        if transaction_id:
            pointer = self.index.get(f"transaction:{transaction_id}")
            found = self.orders.get(pointer.value) if pointer else None
            if found is None or found.mch_id != mch_id:
                raise errors.OrderNotExist(f"no order of {mch_id} has transaction_id {transaction_id}")
            return orders.effective(found, self.clock.now())
        order = self.order(mch_id, out_trade_no)
        if order is None:
            raise errors.OrderNotExist(f"merchant {mch_id} has no order {out_trade_no!r}")
        return order

    def orderquery(self, signer: Signer, fields: Mapping[str, str]) -> Order:
        self.check_appid(signer, fields.get("appid", ""))
        return self.find(signer.merchant.mch_id, fields)

    def closeorder(self, signer: Signer, fields: Mapping[str, str]) -> Order:
        self.check_appid(signer, fields.get("appid", ""))
        require(fields, "out_trade_no")
        with self.store.transaction():
            order = self.orders.get(self._key(signer.merchant.mch_id, fields["out_trade_no"]))
            if order is None:
                raise errors.OrderNotExist(f"merchant {signer.merchant.mch_id} has no order {fields['out_trade_no']!r}")
            closed = orders.close(order, self.clock.now())
            self.save(closed)
        return closed

    # -- paying -------------------------------------------------------------------------------------

    def pay(self, mch_id: str, out_trade_no: str, user_id: str | None, outcome: Outcome) -> Order:
        """The payer confirms on the pay sheet (or a script does it): money moves, WeChat notifies."""
        now = self.clock.now()
        with self.store.transaction():
            order = self.orders.get(self._key(mch_id, out_trade_no))
            if order is None:
                raise errors.OrderNotExist(f"merchant {mch_id} has no order {out_trade_no!r}")
            order = orders.check_payable(order, now)
            user = self._resolve_payer(order, user_id)
            effect = rules.effect(order.total_fee, order.sandbox)
            if outcome == Outcome.NOTENOUGH or effect == rules.Effect.PAY_NOTENOUGH:
                raise errors.NotEnough(f"{user.id} pays {order.total_fee} fen: balance not enough (forced)")
            if outcome == Outcome.FAIL or effect == rules.Effect.PAY_FAIL:
                failed = orders.failed(order)
                self.save(failed)
                return failed
            if user.balance < order.total_fee:
                raise errors.NotEnough(f"{user.id} has {user.balance} fen, the order needs {order.total_fee}")
            return self._settle(order, user, now)

    def _resolve_payer(self, order: Order, user_id: str | None) -> User:
        if order.user_id:
            if user_id and user_id != order.user_id:
                raise errors.InvalidRequest(
                    f"order {order.out_trade_no} belongs to openid {order.openid} ({order.user_id}), not {user_id}",
                    err_code_des="支付用户与下单用户不一致",
                )
            chosen = order.user_id
        else:
            chosen = user_id or self.config.auto_user or (self.config.users[0].id if self.config.users else "")
        user = self.accounts.user(chosen)
        if user is None:
            raise errors.InvalidRequest(f"user {chosen!r} does not exist", err_code_des="用户不存在")
        return user

    def _settle(self, order: Order, user: User, now: float) -> Order:
        self.accounts.put_user(replace(user, balance=user.balance - order.total_fee))
        settled = orders.paid(
            order, transaction_id=self.ids.transaction_id(now), time_end=times.compact(now), now=now, user_id=user.id
        )
        if not settled.openid:
            settled = replace(settled, openid=openid_for(settled.appid, user.id))
        self.save(settled)
        self._index_order(settled)
        self.book.create(
            kind=Kind.PAYMENT,
            mch_id=settled.mch_id,
            out_trade_no=settled.out_trade_no,
            notify_url=settled.notify_url,
            body=self.payment_notification(settled),
        )
        return settled

    def _autopay(self, order: Order) -> Order:
        user = self._resolve_payer(order, None)
        return self._settle(order, user, self.clock.now())

    def key_of(self, order: Order) -> str:
        merchant = self.merchant(order.mch_id)
        return sandbox_signkey(merchant) if order.sandbox else merchant.key

    def payment_notification(self, order: Order) -> str:
        fields: dict[str, str | int] = {
            "appid": order.appid,
            "bank_type": order.bank_type,
            "cash_fee": order.cash_fee,
            "fee_type": order.fee_type,
            "is_subscribe": "N",
            "mch_id": order.mch_id,
            "nonce_str": self.ids.nonce(),
            "openid": order.openid,
            "out_trade_no": order.out_trade_no,
            "result_code": "SUCCESS",
            "return_code": "SUCCESS",
            "time_end": order.time_end,
            "total_fee": order.total_fee,
            "trade_type": order.trade_type,
            "transaction_id": order.transaction_id,
        }
        for optional in ("attach", "device_info"):
            if getattr(order, optional):
                fields[optional] = getattr(order, optional)
        return v2_xml.render_signed(dict(sorted(fields.items())), self.key_of(order), order.sign_type)
