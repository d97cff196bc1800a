"""The shop's WeChat client: one function per step of the seed's flow, talking HTTP to configurable hosts."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from xml.parsers.expat import ExpatError

import aiohttp
import xmltodict

from demo_shop.pay_api import Link, Prepay, Trade
from demo_shop.settings import Settings
from demo_shop.signing import jsapi_signature, pay_sign, verify
from demo_shop.trace import Step, Trace, masked

TOKEN_MARGIN = 300
"""Refresh cached tokens 5 minutes before WeChat says they expire."""
STALE_TOKEN = {40001, 42001}


class WeChatError(Exception):
    """WeChat answered an error: `errcode`/`errmsg`, or v2's `return_code`/`err_code`."""

    def __init__(self, code: str | int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass
class Cached:
    value: str
    expires_at: float

    def fresh(self) -> bool:
        return time.time() < self.expires_at - TOKEN_MARGIN


def nonce() -> str:
    return secrets.token_hex(16)


class WeChat:
    """Shared by every request of the shop; caches the base access_token and jsapi_ticket (seed step 2).

    Its WeChat Pay calls speak API v2 (XML, signed with the API key); `wechat_v3.WeChatPayV3` speaks API v3."""

    def __init__(self, settings: Settings, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http
        self._token: Cached | None = None
        self._ticket: Cached | None = None
        self._lock = asyncio.Lock()

    async def _get(self, trace: Trace, step: int, what: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            async with self.http.get(self.settings.api_base + path, params=params) as response:
                body: dict[str, Any] = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            trace.append(Step(step, what, masked({"GET": path, **params}), str(exc), False, "demo_shop/wechat.py"))
            raise WeChatError("NETWORK", f"WeChat did not answer {path}: {exc}") from None
        failed = bool(body.get("errcode"))
        trace.append(Step(step, what, masked({"GET": path, **params}), masked(body), not failed, "demo_shop/wechat.py"))
        if failed:
            raise WeChatError(body["errcode"], body.get("errmsg", ""))
        return body

    # -- step 4: send the user's browser to WeChat's authorize page ---------------------------------------

    def authorize_url(self, redirect_uri: str, state: str, scope: str = "snsapi_userinfo") -> str:
        """Step 4. A server-side redirect to this URL (seed note 4), at sign-in rather than at checkout."""
        query = (
            f"appid={self.settings.appid}&redirect_uri={quote(redirect_uri, safe='')}"
            f"&response_type=code&scope={scope}&state={state}"
        )
        return f"{self.settings.open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    # -- step 5: code → web access_token + openid ----------------------------------------------------------

    async def exchange_code(self, code: str, trace: Trace) -> dict[str, Any]:
        """Step 5. Only the server holds the secret and the tokens (the seed's security note)."""
        params = {"appid": self.settings.appid, "secret": self.settings.secret, "code": code,
                  "grant_type": "authorization_code"}  # fmt: skip
        return await self._get(trace, 5, "exchange the code", "/sns/oauth2/access_token", params)

    async def userinfo(self, access_token: str, openid: str, trace: Trace) -> dict[str, Any]:
        """Step 4's reward for snsapi_userinfo: nickname and avatar."""
        params = {"access_token": access_token, "openid": openid, "lang": "zh_CN"}
        return await self._get(trace, 5, "fetch the user's profile", "/sns/userinfo", params)

    # -- step 6: refresh the web access_token ---------------------------------------------------------------

    async def refresh_web_token(self, refresh_token: str, trace: Trace) -> dict[str, Any]:
        """Step 6. refresh_token lives 30 days; after that the user signs in again."""
        params = {"appid": self.settings.appid, "grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._get(trace, 6, "refresh the web access_token", "/sns/oauth2/refresh_token", params)

    # -- step 2: access_token → jsapi_ticket → signature ----------------------------------------------------

    async def access_token(self, trace: Trace, *, force: bool = False) -> str:
        """Step 2a. Cached until shortly before expiry: WeChat limits how often it may be fetched."""
        async with self._lock:
            if force or self._token is None or not self._token.fresh():
                params = {"grant_type": "client_credential", "appid": self.settings.appid,
                          "secret": self.settings.secret}  # fmt: skip
                body = await self._get(trace, 2, "get the base access_token", "/cgi-bin/token", params)
                self._token = Cached(body["access_token"], time.time() + int(body["expires_in"]))
            return self._token.value

    async def jsapi_ticket(self, trace: Trace) -> str:
        """Step 2b. Cached like the token; a stale token (40001/42001) is refreshed once, then retried."""
        if self._ticket is not None and self._ticket.fresh():
            return self._ticket.value
        for attempt in (1, 2):
            token = await self.access_token(trace, force=attempt == 2)
            try:
                body = await self._get(
                    trace,
                    2,
                    "get the jsapi_ticket",
                    "/cgi-bin/ticket/getticket",
                    {"access_token": token, "type": "jsapi"},
                )
            except WeChatError as error:
                if error.code in STALE_TOKEN and attempt == 1:
                    continue
                raise
            self._ticket = Cached(body["ticket"], time.time() + int(body["expires_in"]))
            return self._ticket.value
        raise AssertionError("unreachable")  # pragma: no cover

    def forget_ticket(self) -> None:
        """The page reported `config:invalid signature`: the next signature fetches a new ticket."""
        self._ticket = None

    async def jssdk_config(self, url: str, trace: Trace, *, keep_fragment: bool = False) -> dict[str, Any]:
        """Steps 1–2 (the seed's /api/Imp/WxShareHelp): sign the page URL without `#`.

        `keep_fragment` signs the URL as given, `#…` included: only the /broken "hash" page asks for that."""
        ticket = await self.jsapi_ticket(trace)
        page = url if keep_fragment else url.split("#", 1)[0]
        timestamp, noncestr = int(time.time()), nonce()
        config: dict[str, Any] = {"appId": self.settings.appid, "timestamp": timestamp, "nonceStr": noncestr}
        config["signature"] = jsapi_signature(ticket, noncestr, timestamp, page, keep_fragment=keep_fragment)
        trace.append(Step(1, "sign wx.config for the page", {"url": page}, masked(config), True, "demo_shop/wechat.py"))
        return config

    # -- steps 3 and 8: unified order → prepay_id → paySign --------------------------------------------------

    async def _pay(
        self, trace: Trace, step: int, what: str, path: str, fields: dict[str, str], appid: str = ""
    ) -> dict[str, str]:
        fields = {**fields, "appid": appid or self.settings.appid, "mch_id": self.settings.mch_id, "nonce_str": nonce()}
        if self.settings.sign_type != "MD5":
            fields["sign_type"] = self.settings.sign_type
        fields["sign"] = pay_sign(fields, self.settings.mch_key, self.settings.sign_type)
        body = xmltodict.unparse({"xml": fields}, full_document=False)
        try:
            async with self.http.post(self.settings.pay_base + path, data=body.encode()) as response:
                text = await response.text()
            answer = parse_xml(text)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, ExpatError) as exc:
            trace.append(Step(step, what, masked({"POST": path, **fields}), str(exc), False, "demo_shop/wechat.py"))
            raise WeChatError("NETWORK", f"WeChat Pay did not answer {path}: {exc}") from None
        ok = answer.get("return_code") == "SUCCESS" and answer.get("result_code") == "SUCCESS"
        trace.append(Step(step, what, masked({"POST": path, **fields}), masked(answer), ok, "demo_shop/wechat.py"))
        if answer.get("return_code") != "SUCCESS":
            raise WeChatError(answer.get("return_code", "FAIL"), answer.get("return_msg", ""))
        if not verify(answer, self.settings.mch_key):  # an answer is trusted only once its sign checks out
            raise WeChatError("SIGN", f"the answer of {path} is not signed with the merchant key")
        if answer.get("result_code") != "SUCCESS":
            raise WeChatError(answer.get("err_code", "FAIL"), answer.get("err_code_des", ""))
        return answer

    async def unified_order(
        self, out_trade_no: str, body: str, total_fee: int, openid: str, client_ip: str, trace: Trace
    ) -> Prepay:
        """Steps 3 and 8 (the seed's /api/Mall/H5PrePay, first half): the payer's openid is already known."""
        fields = {"body": body, "out_trade_no": out_trade_no, "total_fee": str(total_fee),
                  "spbill_create_ip": client_ip, "notify_url": f"{self.settings.public_url}/notify/pay",
                  "trade_type": "JSAPI", "openid": openid}  # fmt: skip
        answer = await self._pay(trace, 8, "unified order", "/pay/unifiedorder", fields)
        return Prepay(answer["prepay_id"], answer.get("sign", ""))

    def pay_params(self, prepay_id: str, trace: Trace) -> dict[str, str]:
        """Step 8, second half: a fresh paySign over appId, timeStamp, nonceStr, package, signType."""
        params = {"appId": self.settings.appid, "timeStamp": str(int(time.time())), "nonceStr": nonce(),
                  "package": f"prepay_id={prepay_id}", "signType": self.settings.sign_type}  # fmt: skip
        params["paySign"] = pay_sign(params, self.settings.mch_key, self.settings.sign_type)
        trace.append(Step(8, "sign the JSAPI parameters (paySign)", None, masked(params), True, "demo_shop/wechat.py"))
        return params

    # -- outside WeChat: a QR code (NATIVE), H5 pay (MWEB), an app (APP) ------------------------------------------

    def _order_fields(
        self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trade_type: str
    ) -> dict[str, str]:
        return {"body": body, "out_trade_no": out_trade_no, "total_fee": str(total_fee), "spbill_create_ip": client_ip,
                "notify_url": f"{self.settings.public_url}/notify/pay", "trade_type": trade_type}  # fmt: skip

    async def native_order(
        self,
        out_trade_no: str,
        body: str,
        total_fee: int,
        product_id: str,
        client_ip: str,
        trace: Trace,
        openid: str = "",
    ) -> Link:
        """A desktop browser: the order's code_url, drawn as a QR code the payer scans with WeChat."""
        fields = self._order_fields(out_trade_no, body, total_fee, client_ip, "NATIVE") | {"product_id": product_id}
        if openid:  # mode 1: WeChat told the scan-pay callback who scanned
            fields["openid"] = openid
        answer = await self._pay(trace, 8, "unified order (NATIVE: a QR code)", "/pay/unifiedorder", fields)
        return Link(answer["prepay_id"], answer["code_url"])

    async def h5_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> Link:
        """A phone's browser outside WeChat: mweb_url opens WeChat's H5 cashier. spbill_create_ip must be the
        browser's own IP (WeChat compares them), and scene_info says which site asks."""
        scene = {"h5_info": {"type": "Wap", "wap_url": self.settings.public_url, "wap_name": "Demo shop"}}
        fields = self._order_fields(out_trade_no, body, total_fee, client_ip, "MWEB")
        fields["scene_info"] = json.dumps(scene, ensure_ascii=False, separators=(",", ":"))
        answer = await self._pay(trace, 8, "unified order (MWEB: H5 pay)", "/pay/unifiedorder", fields)
        return Link(answer["prepay_id"], answer["mweb_url"])

    async def app_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> str:
        """The shop's app: placed with the app's appid (a mobile app's, not the Official Account's)."""
        fields = self._order_fields(out_trade_no, body, total_fee, client_ip, "APP")
        answer = await self._pay(trace, 8, "unified order (APP)", "/pay/unifiedorder", fields, self.settings.app_appid)
        return answer["prepay_id"]

    def app_params(self, prepay_id: str, trace: Trace) -> dict[str, str]:
        """What the app hands WeChat's SDK: six lowercase fields, package Sign=WXPay, signed with the API key."""
        params = {"appid": self.settings.app_appid, "partnerid": self.settings.mch_id, "prepayid": prepay_id,
                  "package": "Sign=WXPay", "noncestr": nonce(), "timestamp": str(int(time.time()))}  # fmt: skip
        params["sign"] = pay_sign(params, self.settings.mch_key, self.settings.sign_type)
        trace.append(
            Step(8, "sign the APP parameters (not JSAPI's: note 6)", None, masked(params), True, "demo_shop/wechat.py")
        )
        return params

    def bizpayurl(self, product_id: str) -> str:
        """Scan to pay mode 1: a product's permanent code; scanning it makes WeChat call /native/callback."""
        fields = {"appid": self.settings.appid, "mch_id": self.settings.mch_id, "product_id": product_id,
                  "time_stamp": str(int(time.time())), "nonce_str": nonce()}  # fmt: skip
        sign = pay_sign(fields, self.settings.mch_key)
        return "weixin://wxpay/bizpayurl?sign=" + sign + "".join(f"&{k}={v}" for k, v in fields.items())

    # -- step 9: when the notification has not arrived yet, ask --------------------------------------------

    async def order_query(self, out_trade_no: str, trace: Trace) -> Trade:
        """Step 9. The page's `ok` is only a hint; the notification or this query is the truth."""
        answer = await self._pay(trace, 9, "order query", "/pay/orderquery", {"out_trade_no": out_trade_no})
        total = answer.get("total_fee", "")
        paid = int(total) if total.isdigit() else 0
        return Trade(answer.get("trade_state", ""), paid, answer.get("transaction_id", ""))

    async def refund(
        self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int, trace: Trace
    ) -> None:
        """After the sale. No client certificate against the sandbox (WeChat requires one for /secapi/)."""
        fields = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "total_fee": str(total_fee),
                  "refund_fee": str(refund_fee), "notify_url": f"{self.settings.public_url}/notify/refund"}  # fmt: skip
        await self._pay(trace, 9, "refund", "/secapi/pay/refund", fields)


def parse_xml(text: str) -> dict[str, str]:
    """A notification's `<xml>`, flat; entities are refused."""
    parsed = xmltodict.parse(text, disable_entities=True)
    return {k: "" if v is None else str(v) for k, v in (parsed.get("xml") or {}).items()}


def reply(success: bool, message: str = "OK") -> str:
    """What WeChat expects back from a notify handler."""
    code = "SUCCESS" if success else "FAIL"
    return f"<xml><return_code><![CDATA[{code}]]></return_code><return_msg><![CDATA[{message}]]></return_msg></xml>"
