"""Shared helpers for WeChat Pay API v2 tests: signed `<xml>` requests and whole-body assertions.

Stable API (other test modules import it):

- `sign(fields, key, sign_type="MD5") -> dict`: `fields` plus `sign` (plus `sign_type` when not MD5).
- `signed_xml(fields, key, sign_type="MD5") -> bytes`: the same as a `<xml>` body, as wechatpy writes it.
- `xml(fields) -> bytes`: an unsigned `<xml>` body (strings in CDATA, ints bare).
- `parse(body) -> dict[str, str]`: a response `<xml>` as a flat dict, parsed independently of the product.
- `order_fields(**overrides)`: a valid JSAPI unifiedorder for alice under APPID/MCH_ID (a `None` drops a field).
- `post(client, path, fields, key=MCH_KEY, sign_type="MD5")`: POST a signed body, answer `(status, text)`.
- `assert_protocol_fail(text, return_msg)` / `assert_business_fail(text, err_code, err_code_des, key, sign_type)`.
- `assert_success(text, key, sign_type) -> dict`: return_code and result_code SUCCESS, the sign verifies.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from mock_wechat import signing
from mock_wechat.ids import openid_for
from sandbox import defaults

APPID = defaults.DEFAULT_APPID
MCH_ID = defaults.DEFAULT_MCH_ID
MCH_KEY = defaults.DEFAULT_MCH_KEY
NOTIFY_URL = "http://127.0.0.1:9/pay/notify"
"""A loopback notify_url (in the default allowlist) where nothing listens: deliveries fail quietly."""
MD5 = signing.MD5
HMAC = signing.HMAC_SHA256
SIGN_TYPES = (MD5, HMAC)

BUSINESS_FAIL_KEYS = {
    "return_code",
    "return_msg",
    "appid",
    "mch_id",
    "nonce_str",
    "result_code",
    "err_code",
    "err_code_des",
    "sign",
}


def openid(user_id: str = "alice", appid: str = APPID) -> str:
    return openid_for(appid, user_id)


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml(fields: Mapping[str, Any]) -> bytes:
    """`<xml>` with strings in CDATA and integers bare, in the given order (no sign added)."""
    parts = ["<xml>"]
    for name, value in fields.items():
        text = str(value) if isinstance(value, int) else _cdata(str(value))
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</xml>")
    return "".join(parts).encode()


def sign(fields: Mapping[str, Any], key: str, sign_type: str = MD5) -> dict[str, Any]:
    """`fields` plus `sign_type` (unless MD5 or already present) plus its `sign`, last, as wechatpy does."""
    out = dict(fields)
    if sign_type != MD5:
        out.setdefault("sign_type", sign_type)
    out["sign"] = signing.v2_sign({k: str(v) for k, v in out.items()}, key, sign_type)
    return out


def signed_xml(fields: Mapping[str, Any], key: str, sign_type: str = MD5) -> bytes:
    """A signed `<xml>` request body: sorted fields, numbers bare, strings in CDATA, `<sign>` last."""
    signed = sign(dict(sorted(fields.items())), key, sign_type)
    return xml(signed)


def parse(body: bytes | str) -> dict[str, str]:
    """A flat `<xml>` answer as a dict of strings (ElementTree, independent of the product's parser)."""
    raw = body.encode() if isinstance(body, str) else body
    root = ET.fromstring(raw)  # noqa: S314 - the sandbox's own answers
    assert root.tag == "xml", raw
    out: dict[str, str] = {}
    for child in root:
        assert len(child) == 0, f"nested element in answer: {raw!r}"
        assert child.tag not in out, f"duplicate <{child.tag}> in answer: {raw!r}"
        out[child.tag] = child.text or ""
    return out


def order_fields(**overrides: Any) -> dict[str, Any]:
    """A valid JSAPI unifiedorder of 100 fen for alice; an override of `None` drops the field."""
    fields: dict[str, Any] = {
        "appid": APPID,
        "mch_id": MCH_ID,
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "body": "沙箱小店-测试商品",
        "out_trade_no": "T20240101000001",
        "total_fee": 100,
        "spbill_create_ip": "127.0.0.1",
        "notify_url": NOTIFY_URL,
        "trade_type": "JSAPI",
        "openid": openid("alice"),
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def base_fields(**overrides: Any) -> dict[str, Any]:
    """appid, mch_id, nonce_str: the fields every v2 request carries; an override of `None` drops one."""
    fields: dict[str, Any] = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "ibuaiVcKdpRxkhJA"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def post_raw(client: Any, path: str, body: bytes) -> tuple[int, str]:
    resp = await client.post(path, data=body, headers={"Content-Type": "text/xml"})
    return resp.status, await resp.text()


async def post(
    client: Any, path: str, fields: Mapping[str, Any], key: str = MCH_KEY, sign_type: str = MD5
) -> tuple[int, str]:
    """POST `fields` signed with `key`/`sign_type` to `path`; the HTTP status and the body text."""
    return await post_raw(client, path, signed_xml(fields, key, sign_type))


def assert_protocol_fail(text: str, return_msg: str) -> None:
    """Exactly `<xml><return_code>FAIL</return_code><return_msg>…</return_msg></xml>`, unsigned."""
    assert parse(text) == {"return_code": "FAIL", "return_msg": return_msg}, text


def assert_verifies(fields: Mapping[str, str], key: str, sign_type: str) -> None:
    assert signing.v2_verify(fields, key, sign_type), f"answer sign does not verify with {sign_type}: {fields}"


def assert_business_fail(
    text: str,
    err_code: str,
    err_code_des: str,
    *,
    key: str = MCH_KEY,
    sign_type: str = MD5,
    appid: str = APPID,
    mch_id: str = MCH_ID,
) -> dict[str, str]:
    """Exactly the signed `result_code=FAIL` answer, its sign verifying with the request's sign type."""
    fields = parse(text)
    assert set(fields) == BUSINESS_FAIL_KEYS, text
    assert fields["return_code"] == "SUCCESS", text
    assert fields["return_msg"] == "OK", text
    assert fields["appid"] == appid, text
    assert fields["mch_id"] == mch_id, text
    assert re.fullmatch(r"[0-9A-Za-z]{32}", fields["nonce_str"]), text
    assert fields["result_code"] == "FAIL", text
    assert fields["err_code"] == err_code, text
    assert fields["err_code_des"] == err_code_des, text
    assert_verifies(fields, key, sign_type)
    return fields


def assert_success(text: str, *, key: str = MCH_KEY, sign_type: str = MD5) -> dict[str, str]:
    """return_code SUCCESS/OK and result_code SUCCESS, signed with the request's key and sign type."""
    fields = parse(text)
    assert fields.get("return_code") == "SUCCESS", text
    assert fields.get("return_msg") == "OK", text
    assert fields.get("result_code") == "SUCCESS", text
    assert "err_code" not in fields, text
    assert_verifies(fields, key, sign_type)
    return fields
