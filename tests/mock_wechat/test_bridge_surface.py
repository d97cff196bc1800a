"""`/_sandbox/bridge/…`, `/sdk/report` and the browser files over HTTP: CORS, bodies, the pay sheet's endpoints."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat import signing
from mock_wechat.bridge import paysheet
from mock_wechat.clock import ManualClock
from mock_wechat.config import Account
from mock_wechat.ids import Ids
from mock_wechat.keys import KEYRING, PAY
from mock_wechat.masking import mask
from sandbox import defaults
from tests.conftest import OTHER_APPID, ClientFactory, make_config
from tests.pay_helpers import APPID, MCH_ID, MCH_KEY, assert_success, order_fields, post
from tests.pay_v3_helpers import call, order_body

Client = TestClient[web.Request, web.Application]

LOOPBACK_PAGE = "http://127.0.0.1:8123"
PAGE_URL = LOOPBACK_PAGE + "/pay/checkout"
BRIDGE_PATHS = ("invoke", "sheet/open", "sheet/abc/confirm", "sheet/abc/cancel")


def allowed_origin(resp: Any) -> str | None:
    return resp.headers.get("Access-Control-Allow-Origin")  # type: ignore[no-any-return]


async def prepay_id(client: Client, out_trade_no: str = "SURFACE-1") -> str:
    status, text = await post(client, "/pay/unifiedorder", order_fields(out_trade_no=out_trade_no))
    assert status == 200
    return assert_success(text)["prepay_id"]


def pay_args(prepay: str, sign_type: str = "MD5") -> dict[str, str]:
    args = {"appId": APPID, "timeStamp": "1700000000", "nonceStr": "n0nce", "package": f"prepay_id={prepay}"}
    args["signType"] = sign_type
    args["paySign"] = signing.v2_sign(args, MCH_KEY, sign_type)
    return args


async def open_sheet(client: Client, prepay: str) -> dict[str, Any]:
    resp = await client.post(
        "/_sandbox/bridge/sheet/open", json={"page_id": "p1", "href": PAGE_URL, "args": pay_args(prepay)}
    )
    assert resp.status == 200
    body = await resp.json()
    assert "sheet" in body, body
    return body["sheet"]  # type: ignore[no-any-return]


# -- CORS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BRIDGE_PATHS)
@pytest.mark.parametrize("origin", ["http://127.0.0.1:8123", "http://localhost:3000", "http://[::1]:5173"])
async def test_preflight_from_loopback_is_allowed(client: Client, path: str, origin: str) -> None:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    resp = await client.options(f"/_sandbox/bridge/{path}", headers=headers)
    assert resp.status == 204
    assert allowed_origin(resp) == origin
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert resp.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert "Origin" in resp.headers["Vary"]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1.evil.example", "null", "https://shop.example.com"]
)
async def test_preflight_from_an_untrusted_origin_gets_no_cors(client: Client, origin: str) -> None:
    resp = await client.options(
        "/_sandbox/bridge/invoke", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert allowed_origin(resp) is None
    assert "Access-Control-Allow-Methods" not in resp.headers


async def test_post_from_an_untrusted_origin_is_refused_without_cors(client: Client) -> None:
    resp = await client.post(
        "/_sandbox/bridge/invoke",
        json={"page_id": "p", "href": "https://evil.example/", "name": "getNetworkType", "args": {}},
        headers={"Origin": "https://evil.example"},
    )
    assert resp.status == 403  # not even answered: a simple (text/plain) POST would skip the preflight
    assert allowed_origin(resp) is None


async def test_answers_to_a_loopback_page_carry_cors(client: Client) -> None:
    resp = await client.post(
        "/_sandbox/bridge/invoke",
        json={"page_id": "p", "href": PAGE_URL, "name": "getNetworkType", "args": {}},
        headers={"Origin": LOOPBACK_PAGE},
    )
    assert allowed_origin(resp) == LOOPBACK_PAGE
    assert (await resp.json())["result"] == {"err_msg": "network_type:wifi"}


async def test_error_answers_carry_cors_too(client: Client) -> None:
    """A page must be able to read why the sandbox refused it."""
    resp = await client.post("/_sandbox/bridge/invoke", data=b"{oops", headers={"Origin": LOOPBACK_PAGE})
    assert resp.status == 400
    assert allowed_origin(resp) == LOOPBACK_PAGE


async def test_cors_is_only_for_the_bridge(client: Client) -> None:
    resp = await client.get(
        "/cgi-bin/token", params={"grant_type": "client_credential"}, headers={"Origin": LOOPBACK_PAGE}
    )
    assert allowed_origin(resp) is None


async def test_configured_domains_are_trusted_origins(aiohttp_client: ClientFactory) -> None:
    shop = Account(
        appid=APPID, secret=defaults.DEFAULT_SECRET, name="Shop", js_domains=("shop.example.com",),
        oauth_domains=("auth.example.com:8443",), trust_loopback=False,
    )  # fmt: skip
    app = mock_wechat.create_app(make_config(accounts=(shop,)), clock=ManualClock(), ids=Ids(7))
    client = await aiohttp_client(app)
    for origin in ("https://shop.example.com", "http://shop.example.com", "https://auth.example.com:8443"):
        resp = await client.options("/_sandbox/bridge/invoke", headers={"Origin": origin})
        assert allowed_origin(resp) == origin, origin
    for origin in ("https://m.shop.example.com", "https://shop.example.com:8443", "https://evil.example"):
        resp = await client.options("/_sandbox/bridge/invoke", headers={"Origin": origin})
        assert allowed_origin(resp) is None, origin


async def test_pay_directory_origins_are_trusted(aiohttp_client: ClientFactory) -> None:
    shop = replace(defaults.default_merchant(), pay_directories=("https://pay.example.com/shop/",))
    app = mock_wechat.create_app(make_config(merchants=(shop,)), clock=ManualClock(), ids=Ids(7))
    client = await aiohttp_client(app)
    resp = await client.options("/_sandbox/bridge/sheet/open", headers={"Origin": "https://pay.example.com"})
    assert allowed_origin(resp) == "https://pay.example.com"
    resp = await client.options("/_sandbox/bridge/sheet/open", headers={"Origin": "http://pay.example.com"})
    assert allowed_origin(resp) is None


# -- the report beacon and the browser files ---------------------------------------------------------


async def test_sdk_report_beacon_answers_204(client: Client) -> None:
    resp = await client.get("/sdk/report", params={"v": "1", "o": "0", "s": "2", "a": APPID, "jsapi_name": ""})
    assert resp.status == 204
    assert await resp.read() == b""


async def test_bridge_script_is_served(client: Client) -> None:
    resp = await client.get("/_sandbox/static/wechat-bridge.js")
    assert resp.status == 200
    assert "javascript" in resp.content_type
    assert resp.charset == "utf-8"
    assert "WeixinJSBridge" in await resp.text()


@pytest.mark.parametrize("path", ["/open/js/jweixin-1.6.0.js", "/_sandbox/static/jweixin-sandbox.js"])
async def test_our_jweixin_is_served(client: Client, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert "javascript" in resp.content_type
    text = await resp.text()
    assert "preVerifyJSAPI" in text
    assert "getBrandWCPayRequest" in text


async def test_both_jweixin_paths_serve_the_same_file(client: Client) -> None:
    a = await (await client.get("/open/js/jweixin-1.6.0.js")).read()
    b = await (await client.get("/_sandbox/static/jweixin-sandbox.js")).read()
    assert a == b


@pytest.mark.parametrize(
    "path", ["/_sandbox/static/nope.js", "/_sandbox/static/__init__.py", "/_sandbox/static/..%2Fpyproject.toml"]
)
async def test_unknown_static_is_404(client: Client, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 404
    assert "WeixinJSBridge" not in await resp.text()


# -- bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BRIDGE_PATHS)
@pytest.mark.parametrize("body", [b"{oops", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
async def test_bad_json_body_is_400(client: Client, path: str, body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        resp = await client.post(f"/_sandbox/bridge/{path}", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "JSON object" in await resp.text()
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("path", ["invoke", "sheet/open"])
@pytest.mark.parametrize("args", [[1], "text", 5])
async def test_args_that_are_not_an_object_are_400(
    client: Client, path: str, args: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        resp = await client.post(
            f"/_sandbox/bridge/{path}", json={"page_id": "p", "href": PAGE_URL, "name": "getNetworkType", "args": args}
        )
    assert resp.status == 400
    assert "args" in await resp.text()
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("path", BRIDGE_PATHS)
async def test_deeply_nested_json_is_400(client: Client, path: str) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    resp = await client.post(f"/_sandbox/bridge/{path}", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"error": "expected a JSON object, got a body nested deeper than 32 levels"}


async def test_empty_body_counts_as_an_empty_object(client: Client) -> None:
    resp = await client.post("/_sandbox/bridge/invoke")
    assert resp.status == 200
    assert "result" in await resp.json()


async def test_bad_body_is_journaled_with_its_reason(aiohttp_client: ClientFactory) -> None:
    seen: list[Any] = []
    app = mock_wechat.create_app(make_config(), clock=ManualClock(), ids=Ids(7), observers=[seen.append])
    client = await aiohttp_client(app)
    await client.post("/_sandbox/bridge/invoke", data=b"{oops")
    (exchange,) = seen
    assert exchange.status == 400
    assert any("JSON object" in note for note in exchange.notes), exchange.notes


# -- invoke ------------------------------------------------------------------------------------------


async def test_preverify_answers_with_the_diagnostics_in_the_body(client: Client) -> None:
    args = {"verifyAppId": APPID, "appId": APPID, "verifySignType": "sha1", "verifyTimestamp": "1"}
    resp = await client.post(
        "/_sandbox/bridge/invoke", json={"page_id": "p", "href": PAGE_URL, "name": "preVerifyJSAPI", "args": args}
    )
    body = await resp.json()
    assert body["result"] == {"err_msg": "preVerifyJSAPI:fail"}
    assert any("nonceStr" in line for line in body["diagnostics"])


async def test_call_before_the_config_answer_is_offline_verifying(client: Client) -> None:
    """wechat-bridge.js sends how many wx.config answers the page had; 0 means it did not wait for wx.ready."""
    args = {"verifyAppId": APPID, "appId": APPID, "verifySignType": "sha1", "verifyTimestamp": "1"}
    body = {"page_id": "p", "href": PAGE_URL, "name": "updateAppMessageShareData", "args": args, "config_answers": 0}
    resp = await client.post("/_sandbox/bridge/invoke", json=body)
    assert (await resp.json())["result"] == {
        "errMsg": "updateAppMessageShareData:fail, the permission value is offline verifying"
    }


# -- the sheet's endpoints ---------------------------------------------------------------------------


async def test_raw_sheet_opens_without_wx_config(client: Client) -> None:
    sheet = await open_sheet(client, await prepay_id(client))
    assert sheet["amount"] == "1.00"
    assert sheet["user"]["id"] == "alice"
    assert sheet["host"] == "127.0.0.1:8123"


@pytest.mark.parametrize("action", ["confirm", "cancel"])
@pytest.mark.parametrize("sheet_id", ["no-such-sheet", "x" * 300])
async def test_unknown_sheet_answers_an_error_without_a_traceback(
    client: Client, action: str, sheet_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The page's payment fails (never an empty answer, which jweixin would take for ok), and says why."""
    with caplog.at_level(logging.ERROR):
        resp = await client.post(f"/_sandbox/bridge/sheet/{sheet_id}/{action}", json={"pin": "123456"})
    assert resp.status == 404
    body = await resp.json()
    assert body["result"] == {"err_msg": "get_brand_wcpay_request:fail"}
    (line,) = body["diagnostics"]
    assert f"pay sheet {sheet_id!r} is not open: the sandbox does not know it" in line
    assert "Traceback" not in caplog.text
    assert "Traceback" not in await resp.text()


async def test_wrong_pin_asks_again_and_the_sheet_stays_open(client: Client) -> None:
    prepay = await prepay_id(client)
    sheet = await open_sheet(client, prepay)
    resp = await client.post(f"/_sandbox/bridge/sheet/{sheet['sheet_id']}/confirm", json={"pin": "000000"})
    body = await resp.json()
    assert body["retry"] == "支付密码错误，请重试"
    assert "result" not in body
    assert any("wrong PIN" in line for line in body["diagnostics"])
    # still open: the right PIN pays
    resp = await client.post(
        f"/_sandbox/bridge/sheet/{sheet['sheet_id']}/confirm", json={"pin": "123456", "outcome": "success"}
    )
    body = await resp.json()
    assert body["result"] == {"err_msg": "get_brand_wcpay_request:ok"}
    assert body["transaction_id"]


async def test_a_paid_sheet_cannot_be_confirmed_or_cancelled_again(client: Client) -> None:
    sheet = await open_sheet(client, await prepay_id(client))
    path = f"/_sandbox/bridge/sheet/{sheet['sheet_id']}"
    assert (await (await client.post(path + "/confirm", json={"pin": "123456"})).json())["result"]["err_msg"] == (
        "get_brand_wcpay_request:ok"
    )
    for action in ("confirm", "cancel"):
        resp = await client.post(f"{path}/{action}", json={"pin": "123456"})
        assert resp.status == 404
        body = await resp.json()
        assert body["result"] == {"err_msg": "get_brand_wcpay_request:fail"}
        assert body["diagnostics"] == [f"pay sheet {sheet['sheet_id']!r} is not open: it was already paid"]


async def test_cancel_answers_cancel_and_closes_the_sheet(client: Client) -> None:
    sheet = await open_sheet(client, await prepay_id(client))
    path = f"/_sandbox/bridge/sheet/{sheet['sheet_id']}"
    body = await (await client.post(path + "/cancel", json={})).json()
    assert body["result"] == {"err_msg": "get_brand_wcpay_request:cancel"}
    body = await (await client.post(path + "/confirm", json={"pin": "123456"})).json()
    assert body["diagnostics"] == [f"pay sheet {sheet['sheet_id']!r} is not open: it was already cancelled"]


async def test_five_wrong_pins_fail_the_payment(client: Client) -> None:
    prepay = await prepay_id(client)
    sheet = await open_sheet(client, prepay)
    url = f"/_sandbox/bridge/sheet/{sheet['sheet_id']}/confirm"
    for _ in range(4):
        assert (await (await client.post(url, json={"pin": "000000"})).json())["retry"] == "支付密码错误，请重试"
    body = await (await client.post(url, json={"pin": "000000"})).json()
    assert body["result"] == {"err_msg": "get_brand_wcpay_request:fail"}
    assert body["alert"] == "支付密码错误次数过多，请稍后再试"
    assert (await client.post(url, json={"pin": "123456"})).status == 404  # the sheet is gone


async def test_an_unknown_bridge_function_is_not_ok(client: Client) -> None:
    resp = await client.post(
        "/_sandbox/bridge/invoke",
        json={"page_id": "p", "href": "http://127.0.0.1/", "name": "getBrandWCPayReqeust", "args": {}},
    )
    body = await resp.json()
    assert body["result"] == {"err_msg": "system:function_not_exist"}
    assert "did you mean 'getBrandWCPayRequest'" in body["diagnostics"][0]


# -- API v3 orders (signType RSA) --------------------------------------------------------------------


async def v3_prepay_id(client: Client, clock: ManualClock, out_trade_no: str = "SURFACE-V3") -> str:
    """A JSAPI order placed with API v3 (POST /v3/pay/transactions/jsapi, signed with the merchant's key)."""
    body = order_body(out_trade_no=out_trade_no)
    status, _, text = await call(client, "POST", "/v3/pay/transactions/jsapi", body, int(clock.wall()))
    assert status == 200, text
    return str(json.loads(text)["prepay_id"])


def rsa_pay_args(client: Client, prepay: str, appid: str = APPID) -> dict[str, str]:
    args = {"appId": APPID, "timeStamp": "1700000000", "nonceStr": "n0nce", "package": f"prepay_id={prepay}"}
    private_key = client.app[KEYRING].keys(MCH_ID).merchant_private_key
    message = signing.v3_pay_message(appid, args["timeStamp"], args["nonceStr"], args["package"])
    return {**args, "signType": "RSA", "paySign": signing.rsa_sign(private_key, message)}


async def open_with(client: Client, args: dict[str, str]) -> dict[str, Any]:
    resp = await client.post("/_sandbox/bridge/sheet/open", json={"page_id": "p1", "href": PAGE_URL, "args": args})
    assert resp.status == 200
    return await resp.json()  # type: ignore[no-any-return]


async def test_v3_order_with_an_rsa_pay_sign_opens_and_pays(client: Client, clock: ManualClock) -> None:
    prepay = await v3_prepay_id(client, clock)
    body = await open_with(client, rsa_pay_args(client, prepay))
    assert body["diagnostics"] == []
    assert body["sheet"]["amount"] == "1.00"
    confirm = f"/_sandbox/bridge/sheet/{body['sheet']['sheet_id']}/confirm"
    paid = await (await client.post(confirm, json={"pin": "123456"})).json()
    assert paid["result"] == {"err_msg": "get_brand_wcpay_request:ok"}
    order = client.app[PAY].order(MCH_ID, "SURFACE-V3")
    assert order is not None
    assert (order.api, order.trade_state, order.transaction_id) == ("v3", "SUCCESS", paid["transaction_id"])


async def test_v3_order_with_an_md5_pay_sign_is_refused_naming_the_mix_up(client: Client, clock: ManualClock) -> None:
    prepay = await v3_prepay_id(client, clock)
    args = pay_args(prepay, "MD5")  # a correct v2 paySign
    message = f"{APPID}\\n1700000000\\nn0nce\\nprepay_id={prepay}\\n"
    assert await open_with(client, args) == {
        "result": {"err_msg": "get_brand_wcpay_request:fail_invalid signature"},
        "alert": "支付验证签名失败",
        "diagnostics": [
            f"paySign cannot verify: signType MD5 for an order placed with API v3: {paysheet.V3_RULE}. "
            f"The message to sign: {message!r}.",
            "paySign is a v2 MD5 paySign (the merchant's API key over appId, nonceStr, package, signType=MD5 and "
            "timeStamp), the paySign of an order placed with /pay/unifiedorder: sign with the API private key, "
            "signType RSA.",
        ],
    }
    order = client.app[PAY].order(MCH_ID, "SURFACE-V3")
    assert order is not None
    assert order.trade_state == "NOTPAY"


async def test_v3_order_with_an_rsa_pay_sign_of_another_appid_is_refused(client: Client, clock: ManualClock) -> None:
    prepay = await v3_prepay_id(client, clock)
    args = rsa_pay_args(client, prepay, appid=OTHER_APPID)
    message = f"{APPID}\\n1700000000\\nn0nce\\nprepay_id={prepay}\\n"
    serial_no = client.app[KEYRING].keys(MCH_ID).serial_no
    assert await open_with(client, args) == {
        "result": {"err_msg": "get_brand_wcpay_request:fail_invalid signature"},
        "alert": "支付验证签名失败",
        "diagnostics": [
            f"paySign {args['paySign'][:24]!r}… does not verify as SHA256-RSA with the merchant API certificate "
            f"(serial_no {serial_no}) over {message!r}: {paysheet.V3_RULE}.",
            f"It was signed with appId {OTHER_APPID}, but the appId passed to getBrandWCPayRequest is {APPID}: "
            "sign with it.",
        ],
    }


async def test_v3_orders_answer_signature_as_pay_sign_is_named(client: Client, clock: ManualClock) -> None:
    body = order_body(out_trade_no="SURFACE-V3")
    status, headers, text = await call(client, "POST", "/v3/pay/transactions/jsapi", body, int(clock.wall()))
    assert status == 200, text
    prepay, answer_sign = json.loads(text)["prepay_id"], headers["Wechatpay-Signature"]
    message = f"{APPID}\\n1700000000\\nn0nce\\nprepay_id={prepay}\\n"
    serial_no = client.app[KEYRING].keys(MCH_ID).serial_no
    assert await open_with(client, {**rsa_pay_args(client, prepay), "paySign": answer_sign}) == {
        "result": {"err_msg": "get_brand_wcpay_request:fail_invalid signature"},
        "alert": "支付验证签名失败",
        "diagnostics": [
            f"paySign {answer_sign[:24]!r}… does not verify as SHA256-RSA with the merchant API certificate "
            f"(serial_no {serial_no}) over {message!r}: {paysheet.V3_RULE}.",
            "paySign is the signature of the order's answer (its Wechatpay-Signature): paySign must be computed "
            "anew with the merchant's API private key over appId\\ntimeStamp\\nnonceStr\\npackage\\n.",
        ],
    }


async def test_v2_order_with_signtype_rsa_is_refused_naming_the_mix_up(client: Client) -> None:
    prepay = await prepay_id(client)
    args = rsa_pay_args(client, prepay)
    signed = {name: args[name] for name in paysheet.SIGNED}
    plain = signing.v2_string_to_sign({**signed, "signType": "MD5"}, mask(MCH_KEY))
    assert await open_with(client, args) == {
        "result": {"err_msg": "get_brand_wcpay_request:fail_invalid signature"},
        "alert": "支付验证签名失败",
        "diagnostics": [
            f"paySign {args['paySign'][:24]!r}… cannot verify: signType RSA for an order placed with API v2: "
            f"{paysheet.V2_RULE}. For signType MD5 the string to sign (key masked) is: {plain}."
        ],
    }


async def test_the_journal_records_which_order_a_sheet_was_for(aiohttp_client: ClientFactory) -> None:
    """The console ties a sheet's opening and its confirmation to the order by the prepay_id."""
    seen: list[Any] = []
    app = mock_wechat.create_app(make_config(), clock=ManualClock(), ids=Ids(7), observers=[seen.append])
    client = await aiohttp_client(app)
    prepay = await prepay_id(client)
    sheet = await open_sheet(client, prepay)
    await client.post(f"/_sandbox/bridge/sheet/{sheet['sheet_id']}/confirm", json={"pin": "123456"})
    opened, confirmed = seen[-2:]
    assert opened.fields["package"] == f"prepay_id={prepay}"
    assert confirmed.fields == {"outcome": "success", "prepay_id": prepay}
