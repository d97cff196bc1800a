"""The pay service: every merchant's orders, refunds and notifications in the store, one order book."""

from __future__ import annotations

from dataclasses import replace

from mock_wechat import errors, times
from mock_wechat.account.service import AccountService
from mock_wechat.clock import Clock
from mock_wechat.config import Merchant, User, WeChatConfig
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.ids import Ids, openid_for
from mock_wechat.pay import links, orders, refunds, rules
from mock_wechat.pay.book import NotificationBook
from mock_wechat.pay.notifications import Kind
from mock_wechat.pay.orders import Order, OrderRequest, Outcome, TradeType
from mock_wechat.pay.refunds import Refund, RefundRequest
from mock_wechat.store import Pointer, Store, Table


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

    def check_appid(self, merchant: Merchant, appid: str) -> None:
        if not appid:
            raise errors.LackParams("missing required parameter: appid")
        if self.config.account(appid) is None:
            raise errors.AppidNotExist(f"appid {appid!r} is not a configured Official Account")
        if appid not in merchant.appids:
            raise errors.AppidMchidNotMatch(
                f"appid {appid} is not bound to merchant {merchant.mch_id}; "
                f"bound: {', '.join(merchant.appids) or '(none)'}"
            )

    # -- orders -------------------------------------------------------------------------------------

    def _key(self, mch_id: str, out_trade_no: str) -> str:
        return f"{mch_id}:{out_trade_no}"

    def order(self, mch_id: str, out_trade_no: str) -> Order | None:
        found = self.orders.get(self._key(mch_id, out_trade_no))
        return None if found is None else orders.effective(found, self.clock.now())

    def orders_of(self, mch_id: str | None = None) -> list[Order]:
        """Every order (of one merchant), as it reads now, oldest first."""
        now = self.clock.now()
        return sorted((orders.effective(o, now) for o in self.orders.query(mch_id)), key=lambda o: o.created_at)

    def save(self, order: Order) -> None:
        self.orders.put(self._key(order.mch_id, order.out_trade_no), order.mch_id, order)

    def payer(self, appid: str, openid: str) -> User | None:
        return self.accounts.user_by_openid(appid, openid)

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

    def place_order(self, req: OrderRequest) -> Order:
        """A new order (or a re-entry of one), after the rules both APIs share."""
        mch_id = req.merchant.mch_id
        user: User | None = None
        if req.openid:
            user = self.payer(req.appid, req.openid)
            if user is None:
                raise errors.InvalidRequest(
                    f"openid {req.openid} is not a user of appid {req.appid} "
                    "(openids differ per appid; see GET /_sandbox/api/config)",
                    err_code_des="appid和openid不匹配",
                )
        self.check_notify_url(req.merchant, req.notify_url)
        now = self.clock.now()
        effect = rules.effect(req.total, req.sandbox)
        if effect == rules.Effect.UNIFIEDORDER_SYSTEMERROR:
            raise errors.PaySystemError(f"total_fee {req.total} is the sandbox amount that forces SYSTEMERROR")
        if effect == rules.Effect.FREQUENCY_LIMITED:
            raise errors.FrequencyLimited(f"total_fee {req.total} is the sandbox amount that forces FREQUENCY_LIMITED")
        with self.store.transaction():
            existing = self.order(mch_id, req.out_trade_no)
            if existing is not None:
                order = orders.reenter(existing, req.reentry, now)
                if now >= order.prepay_expires_at:
                    order = orders.renew_prepay(order, self.ids.prepay_id(now), now)
                    self._index_order(order)
                    self.save(order)
                return order
            self._check_time_expire_leaves_time(req.time_expire_text, req.time_expire, now)
            order = Order(
                mch_id=mch_id,
                appid=req.appid,
                out_trade_no=req.out_trade_no,
                body=req.description,
                total_fee=req.total,
                trade_type=req.trade_type.value,
                notify_url=req.notify_url,
                spbill_create_ip=req.payer_ip,
                created_at=now,
                prepay_id=self.ids.prepay_id(now),
                prepay_expires_at=now + orders.PREPAY_TTL,
                sign_type=req.sign_type,
                fields=dict(req.reentry),
                openid=req.openid,
                user_id=user.id if user else "",
                attach=req.attach,
                device_info=req.device_info,
                fee_type=req.fee_type,
                expires_at=req.time_expire,
                sandbox=req.sandbox,
                api=req.api.value,
            )
            self.save(order)
            self._index_order(order)
            if rules.effect(req.total, req.sandbox) == rules.Effect.AUTOPAY:
                order = self._autopay(order)
        return order

    def _check_time_expire_leaves_time(self, value: str, expires_at: float | None, now: float) -> None:
        """A new order must leave the payer 5 minutes (a re-entry answers from the existing order instead)."""
        if expires_at is not None and expires_at - now < orders.MIN_TIME_EXPIRE:
            raise errors.InvalidRequest(
                f"time_expire {value} is {int(expires_at - now)} s from now (Beijing time); at least 300 s",
                err_code_des="time_expire时间过短，刷卡至少1分钟，其他5分钟",
            )

    def note_answer_sign(self, mch_id: str, out_trade_no: str, sign: str) -> None:
        """Remember the unifiedorder answer's sign: a page that reuses it as paySign gets told so. A small record
        of its own: the order is not read and written again for a diagnostic."""
        self.index.put(f"answer_sign:{self._key(mch_id, out_trade_no)}", mch_id, Pointer(sign))

    def answer_sign(self, order: Order) -> str:
        """The sign of the last unifiedorder answer for `order` ("" when none was noted)."""
        noted = self.index.get(f"answer_sign:{self._key(order.mch_id, order.out_trade_no)}")
        return noted.value if noted is not None else order.answer_sign

    def _index_order(self, order: Order) -> None:
        key = self._key(order.mch_id, order.out_trade_no)
        self.index.put(f"prepay:{order.prepay_id}", order.mch_id, Pointer(key))
        if order.trade_type == TradeType.NATIVE:  # a scanned code_url finds its order without reading them all
            self.index.put(f"pr:{links.pr_of(order.prepay_id)}", order.mch_id, Pointer(key))
        if order.transaction_id:
            self.index.put(f"transaction:{order.transaction_id}", order.mch_id, Pointer(key))

    def by_prepay_id(self, prepay_id: str) -> Order | None:
        """The order of a prepay_id, while it is the order's current one (a renewed order drops the old)."""
        pointer = self.index.get(f"prepay:{prepay_id}")
        found = self.orders.get(pointer.value) if pointer else None
        if found is None or found.prepay_id != prepay_id:
            return None
        return orders.effective(found, self.clock.now())

    def by_pr(self, pr: str) -> Order | None:
        """The NATIVE order whose code_url (`weixin://wxpay/bizpayurl?pr=…`) carries `pr`, while its prepay_id is
        current; the newest when two orders' codes collide."""
        pointer = self.index.get(f"pr:{pr}")
        found = self.orders.get(pointer.value) if pointer else None
        if found is None or links.pr_of(found.prepay_id) != pr:
            return None
        return orders.effective(found, self.clock.now())

    def find(self, mch_id: str, *, transaction_id: str = "", out_trade_no: str = "") -> Order:
        """By transaction_id (preferred) or out_trade_no."""
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

    def close(self, mch_id: str, out_trade_no: str) -> Order:
        with self.store.transaction():
            order = self.orders.get(self._key(mch_id, out_trade_no))
            if order is None:
                raise errors.OrderNotExist(f"merchant {mch_id} has no order {out_trade_no!r}")
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
            api=settled.api,
        )
        return settled

    def _autopay(self, order: Order) -> Order:
        user = self._resolve_payer(order, None)
        return self._settle(order, user, self.clock.now())

    # -- refunds ------------------------------------------------------------------------------------

    def _refund_key(self, mch_id: str, out_refund_no: str) -> str:
        return f"{mch_id}:{out_refund_no}"

    def refund(self, mch_id: str, out_refund_no: str) -> Refund | None:
        return self.refunds.get(self._refund_key(mch_id, out_refund_no))

    def refund_by_id(self, refund_id: str) -> Refund | None:
        pointer = self.index.get(f"refund_id:{refund_id}")
        return self.refunds.get(pointer.value) if pointer else None

    def refunds_by(self, mch_id: str | None = None) -> list[Refund]:
        """Every refund (of one merchant), oldest first."""
        return sorted(self.refunds.query(mch_id), key=lambda r: r.created_at)

    def refunds_of(self, order: Order) -> list[Refund]:
        """An order's refunds, oldest first."""
        made = (r for r in self.refunds.query(order.mch_id) if r.out_trade_no == order.out_trade_no)
        return sorted(made, key=lambda r: r.created_at)

    def make_refund(self, req: RefundRequest) -> tuple[Refund, Order]:
        """Money goes back to the payer's wallet at once; the order turns REFUND (a re-entry answers the same)."""
        mch_id = req.order.mch_id
        now = self.clock.now()
        with self.store.transaction():
            order = self.find(mch_id, out_trade_no=req.order.out_trade_no)
            existing = self.refund(mch_id, req.out_refund_no)
            if existing is not None:
                if existing.out_trade_no != order.out_trade_no:
                    raise errors.InvalidRequest(
                        f"out_refund_no {existing.out_refund_no} already refunds order {existing.out_trade_no}",
                        err_code_des="商户退款单号重复",
                    )
                return refunds.reenter(existing, req.total, req.refund), order
            refunds.check_refundable(order, req.total, req.refund)
            made = Refund(
                mch_id=mch_id,
                appid=order.appid,
                out_trade_no=order.out_trade_no,
                transaction_id=order.transaction_id,
                out_refund_no=req.out_refund_no,
                refund_id=self.ids.refund_id(now),
                total_fee=req.total,
                refund_fee=req.refund,
                created_at=now,
                success_time=times.bill_time(now),
                notify_url=req.notify_url,
                refund_account=req.refund_account,
                refund_desc=req.reason,
            )
            key = self._refund_key(mch_id, made.out_refund_no)
            self.refunds.put(key, mch_id, made)
            self.index.put(f"refund_id:{made.refund_id}", mch_id, Pointer(key))
            order = refunds.apply(order, req.refund)
            self.save(order)
            payer = self.accounts.user(order.user_id)
            if payer is not None:
                self.accounts.put_user(replace(payer, balance=payer.balance + req.refund))
            if req.notify_url:
                self.book.create(
                    kind=Kind.REFUND,
                    mch_id=mch_id,
                    out_trade_no=order.out_trade_no,
                    out_refund_no=made.out_refund_no,
                    notify_url=req.notify_url,
                    api=order.api,
                )
        return made, order
