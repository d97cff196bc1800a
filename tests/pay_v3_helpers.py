"""Shared helpers for WeChat Pay API v3 tests: signed requests and checks of signed answers.

- `keys()`: the default merchant's `MerchantKeys` (the session-wide material of `tests.conftest.v3_material`).
- `authorization(method, url, body, timestamp, nonce=…, key=…, serial=…)`: an `Authorization` header value.
- `call(client, method, url, body, timestamp)`: send it signed; `(status, headers, text)`.
- `assert_signed(headers, text, timestamp)`: the answer is signed with the WeChat Pay public key, as wechatpayv3 checks.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from mock_wechat import signing
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults
from tests.conftest import v3_material

MCH_ID = defaults.DEFAULT_MCH_ID
APPID = defaults.DEFAULT_APPID
NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"


def keys() -> MerchantKeys:
    return MerchantKeys.load(MCH_ID, v3_material())


def authorization(
    method: str,
    url: str,
    body: str,
    timestamp: int,
    *,
    nonce: str = NONCE,
    key: RSAPrivateKey | None = None,
    serial: str | None = None,
    mchid: str = MCH_ID,
) -> str:
    """`WECHATPAY2-SHA256-RSA2048 …` as wechatpay-go orders its pairs, signed with the merchant's API key."""
    own = keys()
    message = signing.v3_request_message(method, url, str(timestamp), nonce, body)
    signature = signing.rsa_sign(key or own.merchant_private_key, message)
    return (
        f'{signing.V3_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",timestamp="{timestamp}",'
        f'serial_no="{serial or own.serial_no}",signature="{signature}"'
    )


async def call(
    client: Any, method: str, url: str, body: dict[str, Any] | str | None, timestamp: int, **auth: Any
) -> tuple[int, dict[str, str], str]:
    """Send a signed v3 request (a dict body is sent as compact JSON, exactly the bytes signed)."""
    text = body if isinstance(body, str) else ("" if body is None else json.dumps(body, separators=(",", ":")))
    headers = {
        "Authorization": authorization(method, url, text, timestamp, **auth),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    resp = await client.request(method, url, data=text.encode() if text else None, headers=headers)
    return resp.status, dict(resp.headers), await resp.text()


def public_key() -> RSAPublicKey:
    loaded = serialization.load_pem_public_key(keys().public_key.encode())
    assert isinstance(loaded, RSAPublicKey)
    return loaded


def assert_signed(headers: dict[str, str], text: str, timestamp: int) -> None:
    """Wechatpay-* headers over `TIMESTAMP\\nNONCE\\nBODY\\n`, verified with the WeChat Pay public key."""
    assert headers["Wechatpay-Serial"] == keys().public_key_id
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert headers["Wechatpay-Timestamp"] == str(timestamp)
    assert headers["Request-ID"]
    message = signing.v3_response_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], text)
    assert signing.rsa_verify(public_key(), message, headers["Wechatpay-Signature"])


def order_body(**overrides: Any) -> dict[str, Any]:
    """A valid JSAPI order of 100 fen for alice; an override of `None` drops the field."""
    from tests.pay_helpers import openid

    body: dict[str, Any] = {
        "appid": APPID,
        "mchid": MCH_ID,
        "description": "沙箱小店-测试商品",
        "out_trade_no": "T20240101000001",
        "notify_url": "http://127.0.0.1:9/v3/notify",
        "amount": {"total": 100, "currency": "CNY"},
        "payer": {"openid": openid("alice")},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}
