"""`sandbox.testing.WeChatSandbox`, the control API as methods: both calling forms of `pay`."""

from __future__ import annotations

import urllib.request

import pytest

from sandbox.testing import SandboxError, WeChatSandbox, _pay_arguments
from tests.pay_helpers import MCH_KEY, order_fields, parse, signed_xml
from tests.sandbox.conftest import place


def place_order(sandbox: WeChatSandbox, out_trade_no: str) -> None:
    body = signed_xml(order_fields(out_trade_no=out_trade_no), MCH_KEY)
    request = urllib.request.Request(f"{sandbox.url}/pay/unifiedorder", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert parse(resp.read())["result_code"] == "SUCCESS"


def test_pay_takes_the_out_trade_no_alone(wechat_sandbox: WeChatSandbox) -> None:
    place_order(wechat_sandbox, "T1")
    assert wechat_sandbox.pay("T1")["trade_state"] == "SUCCESS"


def test_pay_takes_the_out_trade_no_and_an_outcome(wechat_sandbox: WeChatSandbox) -> None:
    place_order(wechat_sandbox, "T1")
    assert wechat_sandbox.pay("T1", outcome="fail", mch_id=wechat_sandbox.mch_id)["trade_state"] == "PAYERROR"


def test_pay_takes_the_merchant_first(wechat_sandbox: WeChatSandbox) -> None:
    place_order(wechat_sandbox, "T1")
    assert wechat_sandbox.pay(wechat_sandbox.mch_id, "T1", outcome="success")["trade_state"] == "SUCCESS"


def test_pay_takes_the_merchant_first_and_a_positional_outcome(wechat_sandbox: WeChatSandbox) -> None:
    place_order(wechat_sandbox, "T1")
    assert wechat_sandbox.pay(wechat_sandbox.mch_id, "T1", "fail")["trade_state"] == "PAYERROR"


@pytest.mark.parametrize(
    ("args", "outcome", "mch_id", "expected"),
    [
        (("T1",), None, None, (None, "T1", "success")),
        (("T1", "notenough"), None, None, (None, "T1", "notenough")),
        (("T1",), "fail", "1900000109", ("1900000109", "T1", "fail")),
        (("1900000109", "T1"), None, None, ("1900000109", "T1", "success")),
        (("1900000109", "T1"), "notenough", None, ("1900000109", "T1", "notenough")),
        (("1900000109", "T1", "fail"), None, None, ("1900000109", "T1", "fail")),
    ],
)
def test_pay_arguments(
    args: tuple[str, ...], outcome: str | None, mch_id: str | None, expected: tuple[str | None, str, str]
) -> None:
    assert _pay_arguments(args, outcome, mch_id) == expected


@pytest.mark.parametrize(
    ("args", "outcome", "mch_id"),
    [((), None, None), (("a", "b", "c", "d"), None, None), (("1900000109", "T1"), None, "1900000109")],
)
def test_pay_refuses_arguments_of_neither_form(args: tuple[str, ...], outcome: str | None, mch_id: str | None) -> None:
    with pytest.raises(TypeError):
        _pay_arguments(args, outcome, mch_id)


def test_v3_gives_wechatpayv3_its_arguments_in_public_key_mode(wechat_sandbox: WeChatSandbox) -> None:
    merchant = wechat_sandbox.config["merchants"][0]
    assert wechat_sandbox.v3 == {
        "mchid": merchant["mch_id"],
        "appid": merchant["appids"][0],
        "private_key": merchant["private_key"],
        "cert_serial_no": merchant["serial_no"],
        "apiv3_key": merchant["apiv3_key"],
        "public_key": merchant["public_key"],
        "public_key_id": merchant["public_key_id"],
    }


def test_v3_leaves_the_public_key_out_when_answers_are_signed_with_the_platform_certificate(
    wechat_sandbox: WeChatSandbox,
) -> None:
    wechat_sandbox.configure_merchant(response_signing="platform_certificate")
    assert sorted(wechat_sandbox.v3) == ["apiv3_key", "appid", "cert_serial_no", "mchid", "private_key"]


def test_scan_pays_a_native_code_url_as_the_user(wechat_sandbox: WeChatSandbox) -> None:
    sandbox = wechat_sandbox
    place(sandbox.url, "SCAN1", trade_type="NATIVE", openid=None, product_id="tea")
    code_url = "weixin://wxpay/bizpayurl?pr=" + str(sandbox.order("SCAN1")["prepay_id"])[-7:]
    paid = sandbox.scan(code_url, user="bob")
    assert (paid["order"]["trade_state"], paid["order"]["user"]) == ("SUCCESS", "bob")


def test_a_refused_scan_raises_with_what_the_phone_shows(wechat_sandbox: WeChatSandbox) -> None:
    with pytest.raises(SandboxError, match="二维码无效"):
        wechat_sandbox.scan("https://example.com/not-a-pay-code")
