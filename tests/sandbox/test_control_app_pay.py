"""APP pay through `POST /_sandbox/api/app-pay`: parameters signed the way wechatpy (v2) and wechatpayv3 (v3) sign
them are paid; each of the seed's note-6 mistakes is named."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from wechatpayv3.utils import load_private_key, rsa_sign
from wechatpy.pay import WeChatPay

import sandbox
from mock_wechat import signing
from mock_wechat.config import Account, AccountKind
from mock_wechat.pay import v2_xml
from tests.conftest import ClientFactory, make_config, v3_material
from tests.pay_helpers import APPID, MCH_ID, MCH_KEY, order_fields, post
from tests.pay_v3_helpers import call, order_body

Client = TestClient[web.Request, web.Application]
APP_APPID = "wxa99a0000000000aa"
TIMESTAMP, NONCE = "1700000000", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    """The test config plus a mobile app (开放平台移动应用) bound to the merchant."""
    config = make_config()
    app = Account(appid=APP_APPID, secret="app-secret", name="沙箱小店 App", kind=AccountKind.APP)
    merchant = replace(config.merchants[0], appids=(APPID, APP_APPID))
    return await aiohttp_client(
        sandbox.create_app(replace(config, accounts=(*config.accounts, app), merchants=(merchant,)))
    )


async def app_order_v2(api: Client, appid: str = APP_APPID, trade_type: str = "APP") -> str:
    order = order_fields(out_trade_no="APP1", appid=appid, trade_type=trade_type, openid=None)
    if trade_type == "JSAPI":
        order = order_fields(out_trade_no="APP1", appid=appid)
    _, text = await post(api, "/pay/unifiedorder", order)
    return v2_xml.parse(text.encode())["prepay_id"]


def wechatpy_params(prepay_id: str, appid: str = APP_APPID) -> dict[str, Any]:
    """What wechatpy's get_appapi_params gives the app (v2, MD5 with the API key)."""
    return dict(WeChatPay(appid, MCH_KEY, MCH_ID).order.get_appapi_params(prepay_id, TIMESTAMP, NONCE))


async def app_pay(api: Client, params: dict[str, Any], **body: Any) -> dict[str, Any]:
    resp = await api.post("/_sandbox/api/app-pay", json={"params": params, **body})
    assert resp.status == 200
    answer = await resp.json()
    assert isinstance(answer, dict)
    return answer


async def test_wechatpys_app_parameters_are_accepted_and_paid(api: Client) -> None:
    answer = await app_pay(api, wechatpy_params(await app_order_v2(api)), user="bob")
    assert (answer["errCode"], answer["order"]["trade_state"], answer["order"]["user"]) == (0, "SUCCESS", "bob")


async def test_a_v3_app_order_signed_as_wechatpayv3_signs_is_paid(api: Client) -> None:
    body = order_body(appid=APP_APPID, out_trade_no="APPV3A", payer=None)
    _, _, text = await call(api, "POST", "/v3/pay/transactions/app", body, int(time.time()))
    prepay_id = json.loads(text)["prepay_id"]
    key = load_private_key(v3_material().private_key)
    params = {"appid": APP_APPID, "partnerid": MCH_ID, "prepayid": prepay_id, "package": "Sign=WXPay",
              "noncestr": NONCE, "timestamp": TIMESTAMP}  # fmt: skip
    params["sign"] = rsa_sign(key, "\n".join([APP_APPID, TIMESTAMP, NONCE, prepay_id]) + "\n")
    answer = await app_pay(api, params)
    assert (answer["errCode"], answer["order"]["trade_state"]) == (0, "SUCCESS")


async def test_jsapi_field_names_are_named(api: Client) -> None:
    params = wechatpy_params(await app_order_v2(api))
    params["paySign"], params["signType"] = params.pop("sign"), "MD5"
    answer = await app_pay(api, params)
    assert answer["errCode"] == -1
    assert answer["diagnostics"][0].startswith("JSAPI's field names ['paySign', 'signType']")
    assert answer["diagnostics"][1] == "missing: sign"


async def test_camel_case_names_are_named(api: Client) -> None:
    params = wechatpy_params(await app_order_v2(api))
    params["partnerId"] = params.pop("partnerid")
    answer = await app_pay(api, params)
    assert answer == {
        "errCode": -1,
        "errStr": "",
        "diagnostics": [
            "camelCase names ['partnerId']: those are PayReq's Java fields (and JSAPI's appId/nonceStr/timeStamp); "
            "the server signs and sends the lowercase names appid, partnerid, prepayid, package, noncestr, "
            "timestamp, sign",
            "missing: partnerid",
        ],
    }


async def test_prepay_id_in_package_is_named(api: Client) -> None:
    prepay_id = await app_order_v2(api)
    params = wechatpy_params(prepay_id)
    params["package"] = f"prepay_id={prepay_id}"
    fields = {k: v for k, v in params.items() if k != "sign"}
    params["sign"] = signing.v2_sign(fields, MCH_KEY)
    answer = await app_pay(api, params)
    assert answer["diagnostics"] == [
        f"package is 'prepay_id={prepay_id}' (JSAPI's package, prepay_id=…): APP pay's package is the fixed "
        "'Sign=WXPay'"
    ]


async def test_the_jsapi_sign_string_used_for_app_is_named(api: Client) -> None:
    prepay_id = await app_order_v2(api)
    params = wechatpy_params(prepay_id)
    jsapi = {"appId": APP_APPID, "timeStamp": TIMESTAMP, "nonceStr": NONCE, "package": f"prepay_id={prepay_id}",
             "signType": "MD5"}  # fmt: skip
    params["sign"] = signing.v2_sign(jsapi, MCH_KEY)
    answer = await app_pay(api, params)
    assert answer["errCode"] == -1
    assert answer["diagnostics"][1].startswith("It is a JSAPI paySign (MD5 over appId, nonceStr, package=prepay_id=…")


async def test_an_official_accounts_appid_for_app_pay_is_named(api: Client) -> None:
    answer = await app_pay(api, wechatpy_params(await app_order_v2(api, appid=APPID), appid=APPID))
    assert answer["diagnostics"] == [
        f"appid {APPID} is an Official Account's (official): APP pay needs the appid of a mobile app "
        "(开放平台移动应用) bound to the merchant, the one the app registers with the SDK"
    ]


async def test_a_v3_sign_over_jsapis_package_line_is_named(api: Client) -> None:
    body = order_body(appid=APP_APPID, out_trade_no="APPV3B", payer=None)
    _, _, text = await call(api, "POST", "/v3/pay/transactions/app", body, int(time.time()))
    prepay_id = json.loads(text)["prepay_id"]
    key = load_private_key(v3_material().private_key)
    params = {"appid": APP_APPID, "partnerid": MCH_ID, "prepayid": prepay_id, "package": "Sign=WXPay",
              "noncestr": NONCE, "timestamp": TIMESTAMP}  # fmt: skip
    params["sign"] = rsa_sign(key, f"{APP_APPID}\n{TIMESTAMP}\n{NONCE}\nprepay_id={prepay_id}\n")
    answer = await app_pay(api, params)
    assert answer["errCode"] == -1
    assert answer["diagnostics"][1] == (
        "It verifies over JSAPI's message (its fourth line package=prepay_id=…): APP's fourth line is the bare "
        "prepayid (the seed's note 6)"
    )


async def test_a_jsapi_orders_prepay_id_is_no_app_order(api: Client) -> None:
    answer = await app_pay(api, wechatpy_params(await app_order_v2(api, trade_type="JSAPI", appid=APPID)))
    assert any("is a JSAPI order's: APP pay needs trade_type APP" in line for line in answer["diagnostics"])


async def test_the_sheet_option_opens_the_pay_sheet_instead_of_paying(api: Client) -> None:
    answer = await app_pay(api, wechatpy_params(await app_order_v2(api)), sheet=True, user="alice")
    assert (answer["sheet"]["amount"], answer["sheet"]["user"]["id"]) == ("1.00", "alice")
