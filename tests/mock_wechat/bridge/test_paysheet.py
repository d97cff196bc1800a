"""What the client checks before the pay sheet opens (PROTOCOL.md §6, CLIENTS.md §C.5), as pure rules."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from mock_wechat.bridge import paysheet
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.config import Merchant
from mock_wechat.pay.orders import Order, TradeState

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
