"""What the phone makes of a scanned text, and mode 1's bizpayurl and scan-pay callback, as pure rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mock_wechat import signing
from mock_wechat.bridge import scan
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.config import WeChatConfig
from sandbox import defaults
from tests.conftest import make_config

MCH_ID, KEY, APPID = defaults.DEFAULT_MCH_ID, defaults.DEFAULT_MCH_KEY, defaults.DEFAULT_APPID
CALLBACK = "http://127.0.0.1:9/native/callback"


def mode_one(**overrides: str) -> dict[str, str]:
    fields = {"appid": APPID, "mch_id": MCH_ID, "product_id": "tea", "time_stamp": "1700000000", "nonce_str": "n1"}
    fields.update(overrides)
    return {**fields, "sign": signing.v2_sign(fields, KEY)}


def config(**merchant: object) -> WeChatConfig:
    base = make_config()
    return replace(base, merchants=(replace(base.merchants[0], **merchant),))  # type: ignore[arg-type]


def refusal(call: object, *args: object) -> SheetRefused:
    with pytest.raises(SheetRefused) as info:
        call(*args)  # type: ignore[operator]
    return info.value


def test_a_code_url_with_pr_is_mode_two() -> None:
    assert scan.read("weixin://wxpay/bizpayurl?pr=6cd192a") == scan.ModeTwo("6cd192a")


def test_a_bizpayurl_with_the_product_fields_is_mode_one() -> None:
    fields = mode_one()
    assert scan.read(scan.mode_one_url(fields)) == scan.ModeOne(fields)


def test_a_text_that_is_no_wechat_pay_code_is_refused() -> None:
    refused = refusal(scan.read, "https://example.com/pay")
    assert (refused.text, refused.diagnostics) == (
        "二维码无效",
        ["'https://example.com/pay' is not a WeChat Pay code: it must start with weixin://wxpay/bizpayurl?"],
    )


def test_a_mode_one_code_missing_a_field_names_it() -> None:
    refused = refusal(scan.read, "weixin://wxpay/bizpayurl?appid=wx1&mch_id=1")
    assert refused.diagnostics[0].endswith("missing: product_id, time_stamp, nonce_str, sign")


def test_a_mode_one_code_signed_with_the_merchant_key_names_its_merchant() -> None:
    assert scan.check_mode_one(make_config(), scan.ModeOne(mode_one())).mch_id == MCH_ID


def test_a_mode_one_code_with_a_wrong_sign_shows_what_the_sandbox_signed() -> None:
    fields = {**mode_one(), "sign": "0" * 32}
    refused = refusal(scan.check_mode_one, make_config(), scan.ModeOne(fields))
    assert refused.text == "签名错误"
    assert (
        "appid=wx5a4db0c0ffee0001&mch_id=1900000109&nonce_str=n1&product_id=tea&time_stamp=1700000000&key="
        in (refused.diagnostics[0])
    )


def test_a_merchant_without_a_scan_pay_callback_url_refuses_mode_one_naming_the_setting() -> None:
    refused = refusal(scan.callback_url, config().merchants[0])
    assert refused.text == "系统繁忙，请稍后再试"
    assert "native_callback_url" in refused.diagnostics[0]


def test_the_callback_request_carries_the_payers_openid_and_the_product_signed() -> None:
    merchant = config(native_callback_url=CALLBACK).merchants[0]
    sent = scan.callback_request(scan.ModeOne(mode_one()), merchant, "oPENID", "nonce1")
    assert {k: v for k, v in sent.items() if k != "sign"} == {
        "appid": APPID,
        "openid": "oPENID",
        "mch_id": MCH_ID,
        "is_subscribe": "N",
        "nonce_str": "nonce1",
        "product_id": "tea",
    }
    assert signing.v2_verify({k: str(v) for k, v in sent.items()}, KEY)


def answer(**fields: str) -> dict[str, str]:
    base = {"return_code": "SUCCESS", "appid": APPID, "mch_id": MCH_ID, "nonce_str": "n", "result_code": "SUCCESS"}
    base.update(fields)
    return {**base, "sign": signing.v2_sign(base, KEY)}


def test_the_callbacks_signed_answer_gives_the_prepay_id() -> None:
    merchant = make_config().merchants[0]
    assert scan.read_callback_answer(answer(prepay_id="wx1"), merchant, CALLBACK) == "wx1"


def test_a_callback_answering_fail_shows_its_err_code_des_to_the_payer() -> None:
    merchant = make_config().merchants[0]
    refused = refusal(
        scan.read_callback_answer, answer(result_code="FAIL", err_code_des="商品已售完"), merchant, CALLBACK
    )
    assert refused.text == "商品已售完"


def test_a_callback_answer_with_a_wrong_sign_is_refused() -> None:
    merchant = make_config().merchants[0]
    forged = {**answer(prepay_id="wx1"), "sign": "F" * 32}
    refused = refusal(scan.read_callback_answer, forged, merchant, CALLBACK)
    assert refused.text == "系统繁忙，请稍后再试"
    assert "does not verify" in refused.diagnostics[0]
