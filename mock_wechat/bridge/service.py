"""The bridge service: pages (their wx.config) and pay sheets in the store, decided by the rules modules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from mock_wechat import errors
from mock_wechat.account.service import AccountService
from mock_wechat.bridge import jsapi, paysheet
from mock_wechat.bridge.jsapi import Page, Verdict
from mock_wechat.bridge.paysheet import Sheet, SheetRefused
from mock_wechat.clock import Clock
from mock_wechat.config import WeChatConfig
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.ids import Ids
from mock_wechat.pay import v2_dialect
from mock_wechat.pay.orders import Api, Order, Outcome, TradeState, TradeType
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v3_keys import MerchantKeyring
from mock_wechat.store import Store, Table

KEEP = 86_400
WRONG_PIN = "支付密码错误，请重试"
TOO_MANY_PINS = "支付密码错误次数过多，请稍后再试"
PIN_TRIES = 5
"""Wrong PINs a sheet accepts before it fails the payment (WeChat locks the PIN after a few tries)."""


class SheetNotOpen(errors.InvalidArgs):
    """Confirm or cancel of a pay sheet that is not open (closed already, or unknown after a reset)."""


class BridgeService:
    """What WeChat's client decides for the calls a page makes through WeixinJSBridge."""

    def __init__(
        self,
        config: WeChatConfig,
        store: Store,
        clock: Clock,
        ids: Ids,
        accounts: AccountService,
        pay: PayService,
        keyring: MerchantKeyring,
    ) -> None:
        self.config, self.store, self.clock, self.ids = config, store, clock, ids
        self.accounts, self.pay, self.keyring = accounts, pay, keyring
        self.pages = Table(store, Page, "bridge_page")
        self.sheets = Table(store, Sheet, "bridge_sheet")

    # -- wx.config ----------------------------------------------------------------------------------

    def preverify(self, page_id: str, href: str, args: Mapping[str, Any]) -> Verdict:
        appid = str(args.get("verifyAppId") or args.get("appId") or "")
        now = self.clock.now()
        tickets = self.accounts.valid_tickets(appid)
        expired = [t for t in self.accounts.tickets.query(appid) if t.type == "jsapi" and t.expires_at <= now]
        verdict = jsapi.verify_config(args, href, self.config.account(appid), tickets, expired)
        previous = self.pages.get(page_id)
        count = 1 if previous is None else previous.config_count + 1
        api_list = args.get("verifyJsApiList")
        page = Page(
            page_id=page_id,
            appid=appid,
            url=jsapi.page_url(href),
            config_count=count,
            state="ok" if verdict.ok else "fail",
            api_list=[str(a) for a in api_list] if isinstance(api_list, list) else [],
            created_at=previous.created_at if previous else now,
        )
        self.pages.put(page_id, appid, page, now + KEEP)
        if count > 1:
            verdict.diagnostics.append(
                f"wx.config was called {count} times on this page: every wx.ready handler runs again each time "
                "(the seed's pitfall 8: two wx.config calls opened two pay sheets). Call wx.config once per page."
            )
        return verdict

    # -- other APIs ---------------------------------------------------------------------------------

    def invoke(
        self, page_id: str, href: str, name: str, args: Mapping[str, Any], config_answers: int | None = None
    ) -> Verdict:
        if name not in jsapi.BRIDGE_APIS:
            return jsapi.unknown_function(name)
        page = self.pages.get(page_id)
        refusal = jsapi.permission(page, name, args, config_answers)
        if refusal is not None:
            return refusal
        if name == "getNetworkType":
            return Verdict({"err_msg": "network_type:wifi"})
        if name == "checkJsApi":
            asked = args.get("jsApiList") if isinstance(args.get("jsApiList"), list) else []
            result = {str(a): jsapi.js_name(str(a)) in jsapi.KNOWN_APIS for a in asked or []}
            return Verdict({"err_msg": "checkJsApi:ok", "checkResult": result})
        if name in jsapi.SHARE_APIS:
            return self._share(page, href, name, args)
        return Verdict({"err_msg": f"{name}:ok"})

    def _share(self, page: Page | None, href: str, name: str, args: Mapping[str, Any]) -> Verdict:
        link = str(args.get("link") or jsapi.page_url(href))
        shown = {k: args.get(k) for k in ("title", "desc", "link", "imgUrl", "img_url") if args.get(k)}
        notes = [f"{jsapi.js_name(name)} set the share card: {shown}"]
        account = self.config.account(page.appid) if page else None
        origin = parse_origin(link)
        if account is not None and (origin is None or not allowed(origin, account.js_domains, account.trust_loopback)):
            notes.append(f"the share link {link} is outside the JS-safe domains of {account.appid}: WeChat refuses it")
        return Verdict({"err_msg": f"{name}:ok", "share": shown}, diagnostics=notes)

    # -- the pay sheet ------------------------------------------------------------------------------

    def open_sheet(self, page_id: str, href: str, args: Mapping[str, Any]) -> tuple[Sheet, dict[str, Any], list[str]]:
        now = self.clock.now()
        notes = paysheet.check_fields(args)
        prepay_id = paysheet.prepay_id_of(args)
        try:
            order = paysheet.check_order(self.pay.by_prepay_id(prepay_id), str(args["appId"]), now)
            if order.trade_type != TradeType.JSAPI or not order.user_id:
                raise SheetRefused(
                    "支付参数错误", diagnostics=[f"order {order.out_trade_no} is {order.trade_type}, not JSAPI"]
                )
            merchant = self.pay.merchant(order.mch_id)
            notes += self._check_pay_sign(order, args)
            paysheet.check_directory(href, merchant)
        except SheetRefused as refused:
            refused.diagnostics[:0] = notes
            raise
        already = [s for s in self.sheets.query(prepay_id) if s.status == "open"]
        if any(s.page_id == page_id for s in already):
            notes.append(
                f"a second pay sheet opened for prepay_id {prepay_id} on this page while one was still open: both "
                "are open, as in WeChat. This is how the seed's double pay sheet happened: is the pay code running "
                "twice (wx.config called twice, wx.ready or a click handler registered twice)?"
            )
        elif already:
            notes.append(
                f"another page (another tab, or this page before a reload) still has a pay sheet open for "
                f"prepay_id {prepay_id}; whichever is confirmed first pays, the other then fails"
            )
        sheet, info = self._sheet(order, page_id, order.user_id, urlsplit(href).netloc)
        return sheet, info, notes

    def open_order_sheet(self, order: Order, user_id: str, page_id: str, host: str) -> tuple[Sheet, dict[str, Any]]:
        """The pay sheet of an order the payer reached another way than a JSAPI page: a scanned code (NATIVE),
        the H5 cashier (MWEB), an app (APP). The payer is `user_id`, or the order's own when it names one."""
        order = paysheet.check_order(order, order.appid, self.clock.now())
        if order.user_id and user_id and user_id != order.user_id:
            raise SheetRefused(
                "支付用户与下单用户不一致",
                diagnostics=[
                    f"order {order.out_trade_no} was placed for {order.user_id} ({order.openid}), not {user_id}"
                ],
            )
        payer = order.user_id or user_id
        if self.accounts.user(payer) is None:
            raise SheetRefused("用户不存在", diagnostics=[f"user {payer!r} is not a sandbox user"])
        return self._sheet(order, page_id, payer, host)

    def _sheet(self, order: Order, page_id: str, user_id: str, host: str) -> tuple[Sheet, dict[str, Any]]:
        now = self.clock.now()
        user = self.accounts.user(user_id)
        merchant = self.pay.merchant(order.mch_id)
        sheet = Sheet(self.ids.uuid(), page_id, order.prepay_id, order.mch_id, order.out_trade_no, user_id, "open", now)
        self.sheets.put(sheet.sheet_id, order.prepay_id, sheet, now + KEEP)
        info = {
            "sheet_id": sheet.sheet_id,
            "merchant": merchant.name,
            "body": order.body,
            "total_fee": order.total_fee,
            "amount": f"{order.total_fee / 100:.2f}",
            "user": {"id": user_id, "nickname": user.nickname if user else user_id},
            "outcomes": [o.value for o in Outcome],
            "host": host,
        }
        return sheet, info

    def _check_pay_sign(self, order: Order, args: Mapping[str, Any]) -> list[str]:
        """By the API the order was placed with: v2 MD5/HMAC-SHA256 with the API key, v3 RSA with the API cert."""
        others = [a.appid for a in self.config.accounts if a.appid != args["appId"]]
        if order.api == Api.V3:
            keys = self.keyring.keys(order.mch_id)
            v2_key = self.pay.merchant(order.mch_id).key
            return paysheet.check_v3_pay_sign(args, keys, v2_key, self.pay.answer_sign(order), others)
        return paysheet.check_pay_sign(args, v2_dialect.order_key(self.pay, order), self.pay.answer_sign(order), others)

    def confirm(self, sheet_id: str, pin: str, outcome: Outcome) -> dict[str, Any]:
        sheet = self._open(sheet_id)
        user = self.accounts.user(sheet.user_id)
        if user is None or pin != user.pin:
            tries = sheet.wrong_pins + 1
            if tries >= PIN_TRIES:
                self._close(replace(sheet, wrong_pins=tries), "failed")
                return {
                    "result": {"err_msg": "get_brand_wcpay_request:fail"},
                    "alert": TOO_MANY_PINS,
                    "diagnostics": [f"{tries} wrong PINs for user {sheet.user_id}: the sheet gives up, as WeChat does"],
                }
            self.sheets.put(sheet.sheet_id, sheet.prepay_id, replace(sheet, wrong_pins=tries), self.clock.now() + KEEP)
            return {
                "retry": WRONG_PIN,
                "diagnostics": [
                    f"wrong PIN for user {sheet.user_id} ({tries} of {PIN_TRIES}; see the console at /_sandbox/)"
                ],
            }
        try:
            order = self.pay.pay(sheet.mch_id, sheet.out_trade_no, sheet.user_id, outcome)
        except errors.NotEnough as exc:
            self._close(sheet, "failed")
            return {
                "result": {"err_msg": "get_brand_wcpay_request:fail"},
                "alert": "零钱余额不足",
                "diagnostics": [exc.diagnostic],
            }
        except errors.PayV2Error as exc:
            self._close(sheet, "failed")
            return {
                "result": {"err_msg": "get_brand_wcpay_request:fail"},
                "alert": exc.des,
                "diagnostics": [exc.diagnostic],
            }
        if order.trade_state == TradeState.PAYERROR:
            self._close(sheet, "failed")
            return {
                "result": {"err_msg": "get_brand_wcpay_request:fail"},
                "alert": "支付失败",
                "diagnostics": ["outcome fail: the order is PAYERROR"],
            }
        self._close(sheet, "paid")
        return {"result": {"err_msg": "get_brand_wcpay_request:ok"}, "transaction_id": order.transaction_id}

    def cancel(self, sheet_id: str) -> dict[str, Any]:
        self._close(self._open(sheet_id), "cancelled")
        return {"result": {"err_msg": "get_brand_wcpay_request:cancel"}}

    def _open(self, sheet_id: str) -> Sheet:
        sheet = self.sheets.get(sheet_id)
        if sheet is None:
            raise SheetNotOpen(
                f"pay sheet {sheet_id!r} is not open: the sandbox does not know it (was it reset or restarted "
                "without its data while the sheet was open?)"
            )
        if sheet.status != "open":
            raise SheetNotOpen(f"pay sheet {sheet_id!r} is not open: it was already {sheet.status}")
        return sheet

    def _close(self, sheet: Sheet, status: str) -> None:
        self.sheets.put(sheet.sheet_id, sheet.prepay_id, replace(sheet, status=status), self.clock.now() + KEEP)
