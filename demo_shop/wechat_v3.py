"""The shop's WeChat Pay API v3 client: JSON requests signed with its API private key, every answer verified."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from yarl import URL

from demo_shop import signing_v3
from demo_shop.pay_api import Link, Prepay, Trade
from demo_shop.settings import PayV3Keys, Settings
from demo_shop.trace import Step, Trace, masked
from demo_shop.wechat import WeChatError, nonce

CODE = "demo_shop/wechat_v3.py"
WINDOW = 300
"""A signature whose `Wechatpay-Timestamp` is more than 5 minutes from this server's clock is refused (replays)."""
USER_AGENT = "wechat-sandbox-demo-shop/1.0"
"""WeChat Pay asks every API v3 client to send one."""


class Refused(Exception):
    """An answer or a notification that is not provably WeChat Pay's, and the HTTP status that refuses it."""

    def __init__(self, why: str, status: int = 401) -> None:
        super().__init__(why)
        self.why, self.status = why, status


@dataclass(frozen=True)
class Verifier:
    """WeChat Pay's keys, by the `Wechatpay-Serial` that names them: the WeChat Pay public key (`PUB_KEY_ID_…`)
    and, for merchants still on them, platform certificates (their serial)."""

    keys: Mapping[str, tuple[str, RSAPublicKey]]

    @classmethod
    def of(cls, v3: PayV3Keys) -> Verifier:
        public_key = signing_v3.load_public_key(v3.public_key)
        keys = {v3.public_key_id: (f"WeChat Pay's public key {v3.public_key_id}", public_key)}
        if v3.platform_certificate:
            serial = v3.platform_serial_no or signing_v3.certificate_serial(v3.platform_certificate)
            certificate = signing_v3.certificate_key(v3.platform_certificate)
            keys[serial.upper()] = (f"platform certificate {serial}", certificate)
        return cls(keys)

    def check(self, headers: Mapping[str, str], body: str) -> str:
        """Which key verified `Wechatpay-Signature` over `TIMESTAMP\\nNONCE\\nBODY\\n`; `Refused` otherwise."""
        serial, timestamp = headers.get("Wechatpay-Serial", ""), headers.get("Wechatpay-Timestamp", "")
        nonce_str, signature = headers.get("Wechatpay-Nonce", ""), headers.get("Wechatpay-Signature", "")
        if not (serial and timestamp and nonce_str and signature):
            raise Refused("Wechatpay-Serial, -Timestamp, -Nonce or -Signature is missing: not signed by WeChat Pay")
        found = self.keys.get(serial.upper())
        if found is None:
            raise Refused(f"Wechatpay-Serial {serial} names none of WeChat Pay's keys this shop holds")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WINDOW:
            raise Refused(f"Wechatpay-Timestamp {timestamp} is over {WINDOW} s from this server's clock (a replay?)")
        name, key = found
        if not signing_v3.verify(key, signing_v3.response_message(timestamp, nonce_str, body), signature):
            raise Refused(f"the signature does not verify with {name}")
        return name


@dataclass(frozen=True)
class Notification:
    id: str
    event_type: str
    """TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED."""
    resource: dict[str, Any]
    """The decrypted resource: the order as the query answers it, or the refund."""
    verified_with: str


class NotificationReader:
    """Opens what WeChat Pay POSTs to notify_url: the signature first, then the resource."""

    def __init__(self, v3: PayV3Keys) -> None:
        self.apiv3_key, self.verifier = v3.apiv3_key, Verifier.of(v3)

    def open(self, headers: Mapping[str, str], body: str) -> Notification:
        """Verified, then decrypted with the API v3 key; `Refused` (401 unsigned, 400 unreadable) otherwise."""
        verified_with = self.verifier.check(headers, body)  # never decrypt, let alone trust, before this
        try:
            envelope = json.loads(body)
        except ValueError:
            raise Refused("the body is not JSON", 400) from None
        resource = envelope.get("resource") if isinstance(envelope, dict) else None
        if not isinstance(resource, dict) or envelope.get("resource_type") != "encrypt-resource":
            raise Refused("no encrypt-resource in the body", 400)
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise Refused(f"resource algorithm {resource.get('algorithm')!r} is not AEAD_AES_256_GCM", 400)
        try:
            plaintext = signing_v3.decrypt(
                self.apiv3_key,
                str(resource.get("nonce", "")),
                str(resource.get("associated_data", "")),
                str(resource.get("ciphertext", "")),
            )
            opened = json.loads(plaintext)
        except ValueError as exc:
            raise Refused(f"the resource does not decrypt: {exc}", 400) from None
        if not isinstance(opened, dict):
            raise Refused("the decrypted resource is not a JSON object", 400)
        return Notification(str(envelope.get("id", "")), str(envelope.get("event_type", "")), opened, verified_with)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    signature: str
    """Its `Wechatpay-Signature` (verified)."""


class WeChatPayV3:
    """Steps 3, 8 and 9 and refunds over API v3. Shared by every request of the shop."""

    def __init__(self, settings: Settings, http: aiohttp.ClientSession) -> None:
        if settings.v3 is None:
            raise ValueError("WeChatPayV3 needs the merchant's API v3 keys (Settings.v3)")
        self.settings, self.http = settings, http
        self.serial_no = settings.v3.serial_no
        self.private_key = signing_v3.load_private_key(settings.v3.private_key)
        self.verifier = Verifier.of(settings.v3)

    async def _call(
        self, trace: Trace, step: int, what: str, method: str, url: str, body: dict[str, Any] | None = None
    ) -> Answer:
        """One signed request; its answer is trusted only once its signature checks out (errors included)."""
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        authorization = signing_v3.authorization(
            self.settings.mch_id, self.serial_no, self.private_key, method, url, text
        )  # signs exactly `text`, the bytes sent below: serialise once
        headers = {"Authorization": authorization, "Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        shown: dict[str, Any] = {method: url, "Authorization": signing_v3.parse_authorization(authorization)}
        if body is not None:
            shown["body"] = body
        try:
            async with self.http.request(
                method,
                URL(self.settings.pay_base + url, encoded=True),  # sent as signed: no re-encoding
                data=text.encode() if body is not None else None,
                headers=headers,
            ) as response:
                received = (await response.read()).decode("utf-8", errors="replace")  # signed as these bytes
                status, answer_headers = response.status, response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            trace.append(Step(step, what, masked(shown), str(exc), False, CODE))
            raise WeChatError("NETWORK", f"WeChat Pay did not answer {url}: {exc}") from None
        answered: dict[str, Any] = {"status": status, "Wechatpay-Serial": answer_headers.get("Wechatpay-Serial", "")}
        try:
            answered["verified with"] = self.verifier.check(answer_headers, received)
            data = json.loads(received) if received else {}
            if not isinstance(data, dict):
                raise ValueError("the answer is not a JSON object")
        except (Refused, ValueError) as exc:
            trace.append(Step(step, what, masked(shown), {**answered, "refused": str(exc)}, False, CODE))
            raise WeChatError("SIGN", f"the answer of {url} is not WeChat Pay's: {exc}") from None
        ok = 200 <= status < 300
        answered["body"] = masked(data)
        if not ok and "code" in data:
            answered["body"]["code"] = data["code"]  # WeChat Pay's error name (SIGN_ERROR …), not an OAuth code
        trace.append(Step(step, what, masked(shown), answered, ok, CODE))
        if not ok:
            raise WeChatError(str(data.get("code", status)), str(data.get("message", "")))
        return Answer(status, data, answer_headers.get("Wechatpay-Signature", ""))

    async def unified_order(
        self, out_trade_no: str, body: str, total_fee: int, openid: str, client_ip: str, trace: Trace
    ) -> Prepay:
        """Steps 3 and 8: the JSAPI order (API v3's unified order), for the signed-in payer's openid."""
        order = {
            "appid": self.settings.appid,
            "mchid": self.settings.mch_id,
            "description": body,
            "out_trade_no": out_trade_no,
            "notify_url": f"{self.settings.public_url}/notify/v3/pay",
            "amount": {"total": total_fee, "currency": "CNY"},
            "payer": {"openid": openid},
            "scene_info": {"payer_client_ip": client_ip},
        }
        answer = await self._call(trace, 8, "JSAPI order (API v3)", "POST", "/v3/pay/transactions/jsapi", order)
        return Prepay(str(answer.body["prepay_id"]), answer.signature)

    def pay_params(self, prepay_id: str, trace: Trace) -> dict[str, str]:
        """Step 8, second half: paySign is SHA256-RSA with the API private key, signType RSA."""
        params = {"appId": self.settings.appid, "timeStamp": str(int(time.time())), "nonceStr": nonce(),
                  "package": f"prepay_id={prepay_id}", "signType": "RSA"}  # fmt: skip
        params["paySign"] = signing_v3.pay_sign(
            self.private_key, params["appId"], params["timeStamp"], params["nonceStr"], params["package"]
        )
        what = "sign the JSAPI parameters: paySign RSA over appId\\ntimeStamp\\nnonceStr\\npackage\\n"
        trace.append(Step(8, what, None, masked(params), True, CODE))
        return params

    def _order(self, out_trade_no: str, body: str, total_fee: int, appid: str = "") -> dict[str, Any]:
        return {
            "appid": appid or self.settings.appid,
            "mchid": self.settings.mch_id,
            "description": body,
            "out_trade_no": out_trade_no,
            "notify_url": f"{self.settings.public_url}/notify/v3/pay",
            "amount": {"total": total_fee, "currency": "CNY"},
        }

    async def native_order(
        self, out_trade_no: str, body: str, total_fee: int, product_id: str, client_ip: str, trace: Trace
    ) -> Link:
        """A desktop browser: the Native order's code_url, drawn as a QR code (API v3 answers no prepay_id)."""
        order = self._order(out_trade_no, body, total_fee)
        answer = await self._call(trace, 8, "Native order (API v3)", "POST", "/v3/pay/transactions/native", order)
        return Link("", str(answer.body["code_url"]))

    async def h5_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> Link:
        """A phone's browser outside WeChat: h5_url opens WeChat's H5 cashier; payer_client_ip is the browser's."""
        order = self._order(out_trade_no, body, total_fee)
        order["scene_info"] = {"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}}
        answer = await self._call(trace, 8, "H5 order (API v3)", "POST", "/v3/pay/transactions/h5", order)
        return Link("", str(answer.body["h5_url"]))

    async def app_order(self, out_trade_no: str, body: str, total_fee: int, client_ip: str, trace: Trace) -> str:
        """The shop's app: placed with the app's appid."""
        order = self._order(out_trade_no, body, total_fee, self.settings.app_appid)
        answer = await self._call(trace, 8, "APP order (API v3)", "POST", "/v3/pay/transactions/app", order)
        return str(answer.body["prepay_id"])

    def app_params(self, prepay_id: str, trace: Trace) -> dict[str, str]:
        """What the app hands WeChat's SDK: sign is SHA256-RSA over appid\ntimestamp\nnoncestr\nprepayid\n."""
        params = {"appid": self.settings.app_appid, "partnerid": self.settings.mch_id, "prepayid": prepay_id,
                  "package": "Sign=WXPay", "noncestr": nonce(), "timestamp": str(int(time.time()))}  # fmt: skip
        message = f"{params['appid']}\n{params['timestamp']}\n{params['noncestr']}\n{prepay_id}\n"
        params["sign"] = signing_v3.sign(self.private_key, message)
        what = "sign the APP parameters: RSA over appid\\ntimestamp\\nnoncestr\\nprepayid\\n (not JSAPI's)"
        trace.append(Step(8, what, None, masked(params), True, CODE))
        return params

    async def order_query(self, out_trade_no: str, trace: Trace) -> Trade:
        """Step 9. The page's `ok` is only a hint; the notification or this query is the truth."""
        url = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}?mchid={self.settings.mch_id}"
        answer = await self._call(trace, 9, "order query (API v3)", "GET", url)
        amount = answer.body.get("amount") or {}
        total = amount.get("total") if isinstance(amount, dict) else None
        return Trade(
            str(answer.body.get("trade_state", "")),
            total if isinstance(total, int) else 0,
            str(answer.body.get("transaction_id", "")),
        )

    async def refund(
        self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int, trace: Trace
    ) -> None:
        """After the sale. Signed like any v3 request: no client certificate, unlike v2's /secapi/."""
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": "refunded from the demo shop's admin page",
            "notify_url": f"{self.settings.public_url}/notify/v3/refund",
            "amount": {"refund": refund_fee, "total": total_fee, "currency": "CNY"},
        }
        await self._call(trace, 9, "refund (API v3)", "POST", "/v3/refund/domestic/refunds", body)
