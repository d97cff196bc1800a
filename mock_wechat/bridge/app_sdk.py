"""APP pay as WeChat's SDK in an app takes it (PayReq): the parameters the merchant's server signed, checked.

The app gets `appid, partnerid, prepayid, package=Sign=WXPay, noncestr, timestamp, sign` (wechatpy's
`get_appapi_params`). API v2: `sign` is MD5 / HMAC-SHA256 with the API key over those six lowercase names. API v3:
`sign` is SHA256-RSA with the API private key over `appid\\ntimestamp\\nnoncestr\\nprepayid\\n` (the bare prepay_id;
wechatpayv3's `sign([appid, timestamp, noncestr, prepayid])`). The SDK answers `errCode` 0 (paid), -2 (cancelled)
or -1 (anything else: a bad sign, an appid that is no mobile app's...), with no reason: the reasons are the
sandbox's, after the seed's note 6 ("签名算法h5和app端可能参数和计算方法不同").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_wechat import signing
from mock_wechat.bridge.paysheet import MerchantCertificate
from mock_wechat.config import Account, AccountKind
from mock_wechat.masking import mask
from mock_wechat.pay.orders import Api, Order, TradeType

FIELDS = ("appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign")
SIGNED = ("appid", "partnerid", "prepayid", "package", "noncestr", "timestamp")
PACKAGE = "Sign=WXPay"
CAMEL_CASE = {
    "appId": "appid",
    "partnerId": "partnerid",
    "prepayId": "prepayid",
    "packageValue": "package",
    "nonceStr": "noncestr",
    "timeStamp": "timestamp",
}
"""PayReq's Java field names: what the app sets, not what the server signs and sends."""
JSAPI_ONLY = ("paySign", "signType")
ERR_COMM, ERR_USER_CANCEL, ERR_OK = -1, -2, 0


class AppPayRefused(Exception):
    """The SDK's `errCode -1`, and why (the sandbox's words: WeChat gives none)."""

    def __init__(self, diagnostics: list[str]) -> None:
        super().__init__("; ".join(diagnostics))
        self.diagnostics = diagnostics


def field_names(params: Mapping[str, Any]) -> list[str]:
    """What is wrong with the names of the parameters (JSAPI's, camelCase), and which are missing."""
    notes = []
    camel = [name for name in CAMEL_CASE if name in params]
    jsapi = [name for name in JSAPI_ONLY if name in params]
    if camel:
        notes.append(
            f"camelCase names {camel}: those are PayReq's Java fields (and JSAPI's appId/nonceStr/timeStamp); the "
            f"server signs and sends the lowercase names {', '.join(SIGNED)}, sign"
        )
    if jsapi:
        notes.append(
            f"JSAPI's field names {jsapi}: the page's getBrandWCPayRequest takes paySign and signType; APP pay takes "
            "sign and no signType (the seed's note 6: the parameters differ between H5 and the app)"
        )
    missing = [name for name in FIELDS if not str(params.get(name, ""))]
    if missing:
        notes.append(f"missing: {', '.join(missing)}")
    return notes


def check(
    params: Mapping[str, Any],
    order: Order | None,
    account: Account | None,
    v2_key: str,
    v3_keys: MerchantCertificate | None,
    answer_sign: str,
) -> Order:
    """The order these parameters pay, or AppPayRefused naming each mistake found."""
    text = {k: str(v) for k, v in params.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    notes = field_names(params)
    if notes and any(n.startswith("missing") for n in notes):
        raise AppPayRefused(notes)
    if text["package"] != PACKAGE:
        why = " (JSAPI's package, prepay_id=…)" if text["package"].startswith("prepay_id=") else ""
        notes.append(f"package is {text['package']!r}{why}: APP pay's package is the fixed {PACKAGE!r}")
    if order is None:
        raise AppPayRefused([*notes, f"prepayid {text['prepayid']!r} is no order's (expired, or another sandbox's)"])
    if order.trade_type != TradeType.APP:
        notes.append(f"prepayid {order.prepay_id} is a {order.trade_type} order's: APP pay needs trade_type APP")
    if text["appid"] != order.appid:
        notes.append(f"appid {text['appid']} is not the appid the order was placed with ({order.appid})")
    if text["partnerid"] != order.mch_id:
        notes.append(f"partnerid {text['partnerid']} is not the order's merchant (mch_id {order.mch_id})")
    if account is not None and account.kind != AccountKind.APP:
        notes.append(
            f"appid {account.appid} is an Official Account's ({account.kind.value}): APP pay needs the appid of a "
            "mobile app (开放平台移动应用) bound to the merchant, the one the app registers with the SDK"
        )
    if order.api == Api.V3 and v3_keys is not None:
        notes += v3_sign_mistakes(text, v3_keys, v2_key)
    else:
        notes += v2_sign_mistakes(text, v2_key, answer_sign)
    if notes:
        raise AppPayRefused(notes)
    return order


def v2_sign_mistakes(text: Mapping[str, str], key: str, answer_sign: str) -> list[str]:
    """API v2: the sign over the six lowercase fields with the API key, MD5 or HMAC-SHA256."""
    sign = text["sign"]
    signed = {name: text[name] for name in SIGNED}
    if any(signing.v2_sign(signed, key, kind) == sign for kind in signing.SIGN_TYPES):
        return []
    plain = signing.v2_string_to_sign(signed, mask(key))
    expected = signing.v2_sign(signed, key)
    notes = [f"sign {sign!r} does not verify. The sandbox signed (key masked) {plain} and expected {expected} (MD5)"]
    if any(signing.v2_sign(signed, key, kind) == sign.upper() for kind in signing.SIGN_TYPES):
        notes.append("It is right but lowercase: WeChat signs in uppercase hex.")
    jsapi = {
        "appId": text["appid"],
        "timeStamp": text["timestamp"],
        "nonceStr": text["noncestr"],
        "package": f"prepay_id={text['prepayid']}",
    }
    for kind in signing.SIGN_TYPES:
        if signing.v2_sign({**jsapi, "signType": kind}, key, kind) == sign:
            notes.append(
                f"It is a JSAPI paySign ({kind} over appId, nonceStr, package=prepay_id=…, signType, timeStamp): the "
                "APP sign covers appid, noncestr, package=Sign=WXPay, partnerid, prepayid and timestamp (note 6)"
            )
    camel = {"appId": text["appid"], "partnerId": text["partnerid"], "prepayId": text["prepayid"]}
    camel |= {"packageValue": text["package"], "nonceStr": text["noncestr"], "timeStamp": text["timestamp"]}
    if any(signing.v2_sign(camel, key, kind) == sign for kind in signing.SIGN_TYPES):
        notes.append("It was signed over camelCase names (appId, nonceStr…): sign the lowercase names.")
    if answer_sign and sign == answer_sign:
        notes.append("sign is the `sign` of the unifiedorder answer: compute it anew over the six APP fields.")
    return notes


def v3_message(text: Mapping[str, str], prepayid: str | None = None) -> str:
    return f"{text['appid']}\n{text['timestamp']}\n{text['noncestr']}\n{prepayid or text['prepayid']}\n"


def v3_sign_mistakes(text: Mapping[str, str], keys: MerchantCertificate, v2_key: str) -> list[str]:
    """API v3: SHA256-RSA with the API private key over appid\\ntimestamp\\nnoncestr\\nprepayid\\n."""
    sign = text["sign"]
    message = v3_message(text)
    if signing.rsa_verify(keys.merchant_public_key, message, sign):
        return []
    notes = [
        f"sign does not verify as SHA256-RSA with the merchant API certificate (serial_no {keys.serial_no}) over "
        f"{message.replace(chr(10), chr(92) + 'n')!r} (appid, timestamp, noncestr, prepayid: each line ends with \\n)"
    ]
    jsapi = v3_message(text, f"prepay_id={text['prepayid']}")
    if signing.rsa_verify(keys.merchant_public_key, jsapi, sign):
        notes.append(
            "It verifies over JSAPI's message (its fourth line package=prepay_id=…): APP's fourth line is the bare "
            "prepayid (the seed's note 6)"
        )
    if signing.rsa_verify(keys.merchant_public_key, message[:-1], sign):
        notes.append("It verifies over the message without its last \\n: each of the four lines ends with \\n.")
    signed = {name: text[name] for name in SIGNED}
    if any(signing.v2_sign(signed, v2_key, kind) == sign for kind in signing.SIGN_TYPES):
        notes.append("It is an API v2 sign (the API key, MD5/HMAC): an order placed with API v3 is signed with RSA.")
    return notes
