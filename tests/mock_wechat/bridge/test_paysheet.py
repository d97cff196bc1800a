"""What the client checks before the pay sheet opens (PROTOCOL.md §6, CLIENTS.md §C.5), as pure rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from mock_wechat.bridge import paysheet
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.config import Merchant
from mock_wechat.pay.orders import Order, TradeState
from tests.conftest import v3_material

APPID, OTHER_APPID = "wx2421b1c4370ec43b", "wx0000000000000002"
KEY = "192006250b4c09247ec02edce69f6a2d"
PREPAY_ID = "wx201410272009395522657a690389285100"
VECTOR = {
    "appId": APPID,
    "timeStamp": "1395712654",
    "nonceStr": "e61463f8efa94090b1f366cccfbbb444",
    "package": f"prepay_id={PREPAY_ID}",
}
MD5_SIGN = "05F30DD446ED1AFB88D72F6A0F93BAE7"  # PROTOCOL.md §6.3
HMAC_SIGN = "D3C8EC2BB7A501F85B7FE93E298F4CD23C7E8D90F37DF45D716DF18AE7B65F72"


def pay_sign(args: dict[str, str], algorithm: str, key: str = KEY) -> str:
    """Computed here, not with mock_wechat.signing: sorted k=v&…&key=KEY, MD5 or HMAC-SHA256, uppercase."""
    plain = "&".join(f"{k}={args[k]}" for k in sorted(args)) + f"&key={key}"
    if algorithm == "HMAC-SHA256":
        return hmac.new(key.encode(), plain.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(plain.encode()).hexdigest().upper()  # noqa: S324 - WeChat's algorithm


def params(sign_type: str = "MD5", **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {**VECTOR, "signType": sign_type}
    args["paySign"] = pay_sign(args, sign_type)
    args.update(changes)
    return args


def refusal(call: Any, *args: Any) -> SheetRefused:
    with pytest.raises(SheetRefused) as caught:
        call(*args)
    return caught.value


def merchant(*directories: str, trust_loopback: bool = False) -> Merchant:
    return Merchant("1900000109", KEY, "Shop", (APPID,), directories, trust_loopback=trust_loopback)


def order(**changes: Any) -> Order:
    values: dict[str, Any] = {
        "mch_id": "1900000109", "appid": APPID, "out_trade_no": "T1", "body": "b", "total_fee": 100,
        "trade_type": "JSAPI", "notify_url": "http://127.0.0.1/notify", "spbill_create_ip": "127.0.0.1",
        "created_at": 0.0, "prepay_id": PREPAY_ID, "prepay_expires_at": 7200.0, "sign_type": "MD5", "fields": {},
        "user_id": "alice",
    }  # fmt: skip
    values.update(changes)
    return Order(**values)


# -- the official vector -----------------------------------------------------------------------------


def test_helper_matches_the_official_vectors() -> None:
    assert params("MD5")["paySign"] == MD5_SIGN
    assert params("HMAC-SHA256")["paySign"] == HMAC_SIGN


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_correct_pay_sign_passes(sign_type: str) -> None:
    assert paysheet.check_pay_sign(params(sign_type), KEY, "", [OTHER_APPID]) == []


# -- fields ------------------------------------------------------------------------------------------


def test_complete_fields_have_no_notes() -> None:
    assert paysheet.check_fields(params()) == []


@pytest.mark.parametrize("name", paysheet.FIELDS)
def test_each_missing_field_refuses_the_sheet(name: str) -> None:
    args = params()
    del args[name]
    refused = refusal(paysheet.check_fields, args)
    assert refused.text == f"调用支付JSAPI缺少参数：{name}"
    assert refused.err_msg == "get_brand_wcpay_request:fail"
    assert any(name in line for line in refused.diagnostics)


def test_empty_field_counts_as_missing() -> None:
    assert refusal(paysheet.check_fields, params(nonceStr="")).text == "调用支付JSAPI缺少参数：nonceStr"


def test_timestamp_undefined_is_explained() -> None:
    """wx.chooseWXPay({timeStamp: …}) makes jweixin send String(undefined)."""
    notes = paysheet.check_fields(params(timeStamp="undefined", verifyAppId=APPID))
    assert len(notes) == 1
    assert "timeStamp is 'undefined'" in notes[0]
    assert "`timestamp` (lowercase)" in notes[0]


def test_sha1_from_jweixin_is_explained() -> None:
    notes = paysheet.check_fields(params(signType="SHA1", verifyAppId=APPID))
    assert len(notes) == 1
    assert "SHA1" in notes[0]
    assert "no signType" in notes[0]


def test_sha1_in_a_raw_call_is_not_blamed_on_jweixin() -> None:
    assert paysheet.check_fields(params(signType="SHA1")) == []


def test_notes_come_with_a_missing_field_refusal() -> None:
    args = params(timeStamp="undefined", verifyAppId=APPID)
    del args["paySign"]
    refused = refusal(paysheet.check_fields, args)
    assert "timeStamp is 'undefined'" in refused.diagnostics[0]


# -- package -----------------------------------------------------------------------------------------


def test_prepay_id_is_taken_from_the_package() -> None:
    assert paysheet.prepay_id_of(params()) == PREPAY_ID


@pytest.mark.parametrize("package", [PREPAY_ID, "prepay_id=", "prepayid=" + PREPAY_ID, ""])
def test_package_must_be_prepay_id_equals(package: str) -> None:
    refused = refusal(paysheet.prepay_id_of, params(package=package))
    assert refused.text == "调用支付JSAPI缺少参数：package"
    assert repr(package) in refused.diagnostics[0]


# -- the order ---------------------------------------------------------------------------------------


def test_unpaid_order_of_the_same_appid_passes() -> None:
    found = order()
    assert paysheet.check_order(found, APPID, 10.0) is found


def test_unknown_prepay_id_refuses() -> None:
    assert refusal(paysheet.check_order, None, APPID, 10.0).text == "订单不存在"


@pytest.mark.parametrize("state", [TradeState.SUCCESS, TradeState.REFUND])
def test_paid_order_refuses(state: TradeState) -> None:
    assert refusal(paysheet.check_order, order(trade_state=state.value), APPID, 10.0).text == "该订单已支付"


@pytest.mark.parametrize("state", [TradeState.CLOSED, TradeState.REVOKED])
def test_closed_order_refuses(state: TradeState) -> None:
    assert refusal(paysheet.check_order, order(trade_state=state.value), APPID, 10.0).text == "该订单已关闭"


def test_expired_prepay_id_refuses_at_two_hours() -> None:
    assert paysheet.check_order(order(), APPID, 7199.0)
    refused = refusal(paysheet.check_order, order(), APPID, 7200.0)
    assert refused.text == "支付订单已失效，请重新下单"


def test_appid_of_another_account_refuses() -> None:
    refused = refusal(paysheet.check_order, order(), OTHER_APPID, 10.0)
    assert refused.text == "appid和prepay_id不匹配"
    assert APPID in refused.diagnostics[0]
    assert OTHER_APPID in refused.diagnostics[0]


# -- paySign -----------------------------------------------------------------------------------------


def test_wrong_pay_sign_shows_the_string_signed_with_the_key_masked() -> None:
    refused = refusal(paysheet.check_pay_sign, params(paySign="0" * 32), KEY, "", [])
    assert refused.text == "支付验证签名失败"
    assert refused.err_msg == "get_brand_wcpay_request:fail_invalid signature"
    (line,) = refused.diagnostics
    assert f"appId={APPID}&nonceStr=" in line
    assert f"&key={KEY[:4]}…{KEY[-4:]}" in line
    assert KEY not in line


def test_hmac_sign_labelled_md5_is_explained() -> None:
    args = params("MD5")
    args["paySign"] = pay_sign({k: args[k] for k in paysheet.SIGNED}, "HMAC-SHA256")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [])
    assert any("It verifies with HMAC-SHA256" in line for line in refused.diagnostics), refused.diagnostics


def test_md5_sign_labelled_hmac_is_explained() -> None:
    args = params("HMAC-SHA256")
    args["paySign"] = pay_sign({k: args[k] for k in paysheet.SIGNED}, "MD5")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [])
    assert any("It verifies with MD5" in line for line in refused.diagnostics), refused.diagnostics


def test_sha1_sign_type_never_verifies_but_names_the_algorithm_that_would() -> None:
    args = params("MD5")
    args["signType"] = "SHA1"  # paySign made over signType=SHA1 with MD5
    args["paySign"] = pay_sign({k: args[k] for k in paysheet.SIGNED}, "MD5")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [])
    assert any("It verifies with MD5" in line for line in refused.diagnostics), refused.diagnostics


def test_pay_sign_for_md5_sent_as_sha1_names_the_sign_type_to_pass() -> None:
    """wx.chooseWXPay without signType: jweixin sends SHA1, the back end signed for MD5."""
    args = params("MD5", verifyAppId=APPID)
    args["signType"] = "SHA1"
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [])
    assert "signType 'SHA1' is not MD5 or HMAC-SHA256" in refused.diagnostics[0]
    assert any(
        "paySign is valid for signType MD5, but the call sent signType 'SHA1'" in line for line in refused.diagnostics
    ), refused.diagnostics


def test_pay_sign_for_hmac_sent_as_md5_names_the_sign_type_to_pass() -> None:
    args = params("HMAC-SHA256")
    args["signType"] = "MD5"
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [])
    assert any("paySign is valid for signType HMAC-SHA256" in line for line in refused.diagnostics)
    assert not any("It verifies with" in line for line in refused.diagnostics)


def test_unifiedorder_sign_passed_as_pay_sign_is_explained() -> None:
    answer_sign = "A" * 32
    refused = refusal(paysheet.check_pay_sign, params(paySign=answer_sign), KEY, answer_sign, [])
    assert any("`sign` of the unifiedorder answer" in line for line in refused.diagnostics), refused.diagnostics


def test_pay_sign_of_another_appid_is_explained() -> None:
    args = params("MD5")
    args["paySign"] = pay_sign({**{k: args[k] for k in paysheet.SIGNED}, "appId": OTHER_APPID}, "MD5")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [OTHER_APPID])
    assert any(f"signed with appId {OTHER_APPID}" in line for line in refused.diagnostics), refused.diagnostics


def test_pay_sign_of_another_appid_in_a_jweixin_call_blames_wx_config() -> None:
    args = params("MD5", verifyAppId=APPID)
    args["paySign"] = pay_sign({**{k: args[k] for k in paysheet.SIGNED}, "appId": OTHER_APPID}, "MD5")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [OTHER_APPID])
    assert (
        f"It was signed with appId {OTHER_APPID}, but the page's wx.config appId is {APPID}" in refused.diagnostics[-1]
    )


def test_pay_sign_of_another_appid_in_a_raw_call_names_the_passed_appid() -> None:
    args = params("MD5")
    args["paySign"] = pay_sign({**{k: args[k] for k in paysheet.SIGNED}, "appId": OTHER_APPID}, "MD5")
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [OTHER_APPID])
    assert "the appId passed to getBrandWCPayRequest" in refused.diagnostics[-1]
    assert "wx.config" not in refused.diagnostics[-1]


def test_pay_sign_with_another_key_has_no_false_explanation() -> None:
    args = params("MD5")
    args["paySign"] = pay_sign({k: args[k] for k in paysheet.SIGNED}, "MD5", key="k" * 32)
    refused = refusal(paysheet.check_pay_sign, args, KEY, "B" * 32, [OTHER_APPID])
    assert len(refused.diagnostics) == 1


def test_jweixin_verify_fields_are_not_signed() -> None:
    args = params("MD5", verifyAppId=APPID, verifySignType="sha1", verifySignature="x", verifyTimestamp="1")
    assert paysheet.check_pay_sign(args, KEY, "", []) == []


# -- pay directories (支付授权目录) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "directory"),
    [
        ("http://127.0.0.1:8000/shop/pay.html?x=1#/a", "http://127.0.0.1:8000/shop/"),
        ("https://shop.example.com/shop/", "https://shop.example.com/shop/"),
        ("https://shop.example.com/shop", "https://shop.example.com/"),
        ("https://shop.example.com", "https://shop.example.com/"),
        ("https://shop.example.com/a/b/c.php?d=/e/f", "https://shop.example.com/a/b/"),
    ],
)
def test_directory_of_a_page(url: str, directory: str) -> None:
    assert paysheet.directory_of(url) == directory


def test_top_level_directory_allows_the_whole_host() -> None:
    shop = merchant("https://shop.example.com/")
    for url in ("https://shop.example.com/pay.html", "https://shop.example.com/a/b/c/pay?x=1"):
        paysheet.check_directory(url, shop)


def test_top_level_directory_checks_scheme_host_and_port() -> None:
    shop = merchant("https://shop.example.com/")
    for url in ("http://shop.example.com/pay", "https://shop.example.com:8443/pay", "https://m.shop.example.com/"):
        assert refusal(paysheet.check_directory, url, shop).text.startswith("当前页面的URL未注册")


def test_top_level_directory_with_a_port() -> None:
    paysheet.check_directory("http://127.0.0.1:8000/x/y.html", merchant("http://127.0.0.1:8000/"))


def test_explicit_default_port_is_the_same_origin() -> None:
    paysheet.check_directory("https://shop.example.com/pay/index.html", merchant("https://shop.example.com:443/pay/"))


def test_deeper_directory_must_equal_the_pages_directory() -> None:
    shop = merchant("https://shop.example.com/pay/")
    paysheet.check_directory("https://shop.example.com/pay/index.html?order=1#/x", shop)
    paysheet.check_directory("https://shop.example.com/pay/", shop)
    for url in (
        "https://shop.example.com/pay/sub/index.html",  # a subdirectory is not covered
        "https://shop.example.com/index.html",  # nor the parent
        "https://shop.example.com/pay",  # `pay` is a file of /
        "https://shop.example.com/payment/index.html",
    ):
        assert refusal(paysheet.check_directory, url, shop).text.startswith("当前页面的URL未注册"), url


def test_directory_refusal_names_page_directory_registered_and_nearest() -> None:
    url = "http://127.0.0.1:8000/pay/checkout.html?x=1#/y"
    shop = merchant("http://127.0.0.1/shop/", "https://shop.example.com/")
    refused = refusal(paysheet.check_directory, url, shop)
    assert refused.text == "当前页面的URL未注册：http://127.0.0.1:8000/pay/checkout.html?x=1"
    assert refused.err_msg == "get_brand_wcpay_request:fail"
    (line,) = refused.diagnostics
    assert "http://127.0.0.1:8000/pay/" in line
    assert "http://127.0.0.1/shop/, https://shop.example.com/" in line
    assert "the nearest is http://127.0.0.1/shop/" in line


def test_merchant_without_directories_refuses_every_page() -> None:
    refused = refusal(paysheet.check_directory, "https://shop.example.com/pay/", merchant())
    assert "(none)" in refused.diagnostics[0]
    assert "nearest" not in refused.diagnostics[0]


def test_loopback_trust_allows_any_loopback_page() -> None:
    shop = merchant("https://shop.example.com/pay/", trust_loopback=True)
    paysheet.check_directory("http://127.0.0.1:5555/anything/page.html", shop)
    paysheet.check_directory("http://localhost/x", shop)
    assert refusal(paysheet.check_directory, "https://other.example.com/pay/", shop)


# -- paySign of an API v3 order (signType RSA) ----------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A merchant certificate as the rules see it: its serial and public key."""

    serial_no: str
    merchant_public_key: RSAPublicKey


V3_KEY = Path(__file__).parents[2] / "vectors" / "wechatpy_apiclient_key.pem"
V3_VECTOR = {
    "appId": "wx8888888888888888",
    "timeStamp": "1414561699",
    "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    "package": f"prepay_id={PREPAY_ID}",
}
V3_MESSAGE = f"wx8888888888888888\\n1414561699\\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\\nprepay_id={PREPAY_ID}\\n"
"""The message of V3_VECTOR as a diagnostic shows it (each newline written as \\n)."""
V3_SIGN = (  # PROTOCOL.md §6.3, wechatpy's test key
    "tQVXPvvcR6GmHIPQ7D9SmAXMyx3My05sqa9DUMI2BU1tENpoXvfgTWALP71q3WdO3nJjXnUMqH3/4Lvo3/aTmnxRB5k7BJmRfjaMMgStWIB9/4O4"
    "ev50t9kotFgrZCZ7Pgj8rTlnYl2kmhOA0pLflz6MYtoMBNcr2piCl0FBcyyE5Xq1GPIm7Nfg7b9pAt5iqlLgyiwj53h2jfWvIuQSnxpiHRVEqpuX+"
    "EEHSxBSqpNwfrzis94QGMO8cKLIjKMuarNkHjBcpbaqOkEMig/SyHH4kRwKuVQlDQgVLH04fxoFpmEBknWCJo4UrnaGxuZGtcfbRQdbsVAstg41Lup1dg=="
)
SERIAL = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
V3_RULE = (
    "this order was placed with API v3: its paySign is SHA256-RSA with the merchant's API private key "
    "(apiclient_key.pem) over appId\\ntimeStamp\\nnonceStr\\npackage\\n, signType RSA"
)
INVALID = ("支付验证签名失败", "get_brand_wcpay_request:fail_invalid signature")


def v3_key() -> RSAPrivateKey:
    key = serialization.load_pem_private_key(V3_KEY.read_bytes(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def certificate() -> Certificate:
    return Certificate(SERIAL, v3_key().public_key())


def rsa_sign(message: str, key: RSAPrivateKey | None = None) -> str:
    """Computed here, not with mock_wechat.signing: SHA256withRSA, PKCS#1 v1.5, base64."""
    raw = (key or v3_key()).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


def v3_params(sign_type: str = "RSA", **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {**V3_VECTOR, "signType": sign_type, "paySign": V3_SIGN}
    args.update(changes)
    return args


def v3_refusal(args: dict[str, Any], answer_sign: str = "", others: tuple[str, ...] = ()) -> list[str]:
    """The diagnostics of a refused v3 paySign, after checking the sheet's text and err_msg."""
    refused = refusal(paysheet.check_v3_pay_sign, args, certificate(), KEY, answer_sign, list(others))
    assert (refused.text, refused.err_msg) == INVALID
    return refused.diagnostics


def test_rsa_helper_matches_the_official_vector() -> None:
    assert rsa_sign(V3_MESSAGE.replace("\\n", "\n")) == V3_SIGN


def test_rsa_pay_sign_of_a_v3_order_passes() -> None:
    assert paysheet.check_v3_pay_sign(v3_params(), certificate(), KEY, "", [OTHER_APPID]) == []


def test_rsa_pay_sign_ignores_jweixins_verify_fields() -> None:
    args = v3_params(verifyAppId=V3_VECTOR["appId"], verifySignType="sha1", verifySignature="x")
    assert paysheet.check_v3_pay_sign(args, certificate(), KEY, "", []) == []


def test_rsa_pay_sign_over_another_message_shows_the_message_and_the_certificate() -> None:
    assert v3_refusal(v3_params(nonceStr="another-nonce")) == [
        f"paySign {V3_SIGN[:24]!r}… does not verify as SHA256-RSA with the merchant API certificate (serial_no "
        f"{SERIAL}) over {V3_MESSAGE.replace('5K8264ILTKCH16CQ2502SI8ZNMTM67VS', 'another-nonce')!r}: {V3_RULE}."
    ]


def test_rsa_pay_sign_of_another_key_has_no_false_explanation() -> None:
    other_key = serialization.load_pem_private_key(v3_material().private_key.encode(), password=None)
    assert isinstance(other_key, RSAPrivateKey)
    args = v3_params(paySign=rsa_sign(V3_MESSAGE.replace("\\n", "\n"), other_key))
    assert len(v3_refusal(args, answer_sign="A" * 344, others=(OTHER_APPID,))) == 1


@pytest.mark.parametrize("sign_type", ["MD5", "HMAC-SHA256"])
def test_v2_pay_sign_for_a_v3_order_is_named_as_such(sign_type: str) -> None:
    args = params(sign_type)  # the v2 vector: a correct v2 paySign, over the v2 fields, with the API key
    assert v3_refusal(args) == [
        f"paySign cannot verify: signType {sign_type} for an order placed with API v3: {V3_RULE}. The message to "
        f"sign: '{APPID}\\\\n1395712654\\\\ne61463f8efa94090b1f366cccfbbb444\\\\nprepay_id={PREPAY_ID}\\\\n'.",
        f"paySign is a v2 {sign_type} paySign (the merchant's API key over appId, nonceStr, package, "
        f"signType={sign_type} and timeStamp), the paySign of an order placed with /pay/unifiedorder: sign with "
        "the API private key, signType RSA.",
    ]


def test_v2_pay_sign_labelled_rsa_for_a_v3_order_is_named_as_such() -> None:
    args = {**params("MD5"), "signType": "RSA"}
    diagnostics = v3_refusal(args)
    assert diagnostics[0].startswith(f"paySign '{MD5_SIGN}' does not verify as SHA256-RSA")
    assert diagnostics[1:] == [
        "paySign is a v2 MD5 paySign (the merchant's API key over appId, nonceStr, package, signType=MD5 and "
        "timeStamp), the paySign of an order placed with /pay/unifiedorder: sign with the API private key, "
        "signType RSA."
    ]


@pytest.mark.parametrize(("digits", "shape"), [(32, "MD5"), (64, "HMAC-SHA256")])
def test_hex_pay_sign_of_another_key_is_named_by_its_shape(digits: int, shape: str) -> None:
    assert v3_refusal(v3_params(paySign="0F" * (digits // 2)))[1:] == [
        f"paySign is {digits} hex digits, the shape of a v2 {shape} paySign (made with another key or over other "
        "fields): a SHA256-RSA paySign is base64, 344 characters."
    ]


def test_rsa_pay_sign_sent_as_sha1_names_the_sign_type_to_pass() -> None:
    """wx.chooseWXPay without signType: jweixin sends SHA1."""
    assert v3_refusal(v3_params("SHA1", verifyAppId=V3_VECTOR["appId"])) == [
        f"paySign cannot verify: signType 'SHA1' is not RSA: {V3_RULE}.",
        "paySign is a valid RSA paySign, but the call sent signType 'SHA1': pass signType RSA "
        "(wx.chooseWXPay({..., signType: 'RSA'})).",
    ]


def test_rsa_pay_sign_sent_as_md5_names_the_sign_type_to_pass() -> None:
    assert v3_refusal(v3_params("MD5"))[1:] == [
        "paySign is a valid RSA paySign, but the call sent signType 'MD5': pass signType RSA "
        "(wx.chooseWXPay({..., signType: 'RSA'})).",
    ]


def test_the_orders_answer_signature_reused_as_pay_sign_is_explained() -> None:
    answer_sign = rsa_sign("1414561699\nnonce\n{}\n")
    assert v3_refusal(v3_params(paySign=answer_sign), answer_sign=answer_sign)[1:] == [
        "paySign is the signature of the order's answer (its Wechatpay-Signature): paySign must be computed anew "
        "with the merchant's API private key over appId\\ntimeStamp\\nnonceStr\\npackage\\n."
    ]


def test_rsa_pay_sign_without_the_last_newline_is_explained() -> None:
    args = v3_params(paySign=rsa_sign(V3_MESSAGE.replace("\\n", "\n")[:-1]))
    assert v3_refusal(args)[1:] == [
        "It verifies over the message without its last \\n (each of the four lines ends with \\n)."
    ]


def test_rsa_pay_sign_over_the_bare_prepay_id_is_explained() -> None:
    message = V3_MESSAGE.replace("\\n", "\n").replace("prepay_id=", "")
    assert v3_refusal(v3_params(paySign=rsa_sign(message)))[1:] == [
        "It verifies over the message with the prepay_id alone as its package line (package is 'prepay_id=…')."
    ]


def test_rsa_pay_sign_of_another_appid_in_a_jweixin_call_blames_wx_config() -> None:
    message = V3_MESSAGE.replace("\\n", "\n").replace("wx8888888888888888", OTHER_APPID)
    args = v3_params(paySign=rsa_sign(message), verifyAppId=V3_VECTOR["appId"])
    assert v3_refusal(args, others=(OTHER_APPID,))[1:] == [
        f"It was signed with appId {OTHER_APPID}, but the page's wx.config appId is wx8888888888888888: jweixin "
        "sends the wx.config appId, so sign with that one."
    ]


def test_rsa_pay_sign_of_another_appid_in_a_raw_call_names_the_passed_appid() -> None:
    message = V3_MESSAGE.replace("\\n", "\n").replace("wx8888888888888888", OTHER_APPID)
    assert v3_refusal(v3_params(paySign=rsa_sign(message)), others=(OTHER_APPID,))[1:] == [
        f"It was signed with appId {OTHER_APPID}, but the appId passed to getBrandWCPayRequest is "
        "wx8888888888888888: sign with it."
    ]


def test_rsa_sign_type_for_a_v2_order_names_the_mix_up() -> None:
    args = v3_params()  # a valid v3 paySign, for an order placed with /pay/unifiedorder
    refused = refusal(paysheet.check_pay_sign, args, KEY, "", [OTHER_APPID])
    assert (refused.text, refused.err_msg) == INVALID
    assert refused.diagnostics == [
        f"paySign {V3_SIGN[:24]!r}… cannot verify: signType RSA for an order placed with API v2: this order was placed "
        "with API v2 (/pay/unifiedorder): its paySign is MD5 or HMAC-SHA256 with the merchant's API key over appId, "
        "nonceStr, package, signType and timeStamp, signType the one it was made with; signType RSA is for orders "
        "placed with API v3 (/v3/pay/transactions/jsapi). For signType MD5 the string to sign (key masked) is: "
        "appId=wx8888888888888888&nonceStr=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&package=prepay_id="
        f"{PREPAY_ID}&signType=MD5&timeStamp=1414561699&key={KEY[:4]}…{KEY[-4:]} (32 chars)."
    ]


def test_sha1_note_names_the_sign_type_of_each_api() -> None:
    (note,) = paysheet.check_fields(params(signType="SHA1", verifyAppId=APPID))
    assert note.endswith("pass MD5 or HMAC-SHA256 (orders placed with API v2) or RSA (API v3)")
