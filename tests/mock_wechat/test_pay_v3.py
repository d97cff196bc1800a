"""WeChat Pay API v3 over the wire: signed requests in, signed JSON out, errors as status + code/message."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat import signing
from mock_wechat.clock import ManualClock
from mock_wechat.config import ResponseSigning, WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.keys import DELIVERER, KEYRING, PAY, Exchange
from mock_wechat.pay.notifications import Tamper
from mock_wechat.pay.orders import Outcome
from mock_wechat.pay.resend import resend
from mock_wechat.store import SQLiteStore
from tests.conftest import ClientFactory
from tests.pay_v3_helpers import MCH_ID, assert_signed, authorization, call, keys, order_body, public_key

Client = TestClient[web.Request, web.Application]
JSAPI = "/v3/pay/transactions/jsapi"
PREPAY = re.compile(r"^wx\d{14}[0-9a-f]{20}$")


@pytest.fixture
def now(clock: ManualClock) -> int:
    return int(clock.wall())


@pytest.fixture
def seen() -> list[Exchange]:
    return []


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock, store: SQLiteStore, seen: list[Exchange]
) -> Client:
    """mock_wechat alone on a manual clock, every exchange reported to `seen` (what the journal records)."""
    return await aiohttp_client(
        mock_wechat.create_app(config, store=store, clock=clock, ids=Ids(7), observers=[seen.append])
    )


async def place(client: Client, now: int, **overrides: Any) -> dict[str, Any]:
    status, _, text = await call(client, "POST", JSAPI, order_body(**overrides), now)
    assert status == 200, text
    return dict(json.loads(text))


def pay(client: Client, out_trade_no: str = "T20240101000001") -> None:
    client.app[PAY].pay(MCH_ID, out_trade_no, None, Outcome.SUCCESS)


# -- orders ------------------------------------------------------------------------------------------------


async def test_a_jsapi_order_answers_only_its_prepay_id_signed(client: Client, now: int) -> None:
    status, headers, text = await call(client, "POST", JSAPI, order_body(), now)
    assert status == 200
    body = json.loads(text)
    assert list(body) == ["prepay_id"]
    assert PREPAY.match(body["prepay_id"])
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert_signed(headers, text, now)


async def test_the_order_remembers_its_answers_signature(client: Client, now: int) -> None:
    """A page that passes the answer's Wechatpay-Signature off as paySign can then be told so."""
    _, headers, _ = await call(client, "POST", JSAPI, order_body(), now)
    order = client.app[PAY].order(MCH_ID, "T20240101000001")
    assert order is not None
    assert client.app[PAY].answer_sign(order) == headers["Wechatpay-Signature"]


async def test_a_native_order_answers_a_code_url(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", "/v3/pay/transactions/native", order_body(payer=None), now)
    assert status == 200
    assert re.match(r"^\{\"code_url\":\"weixin://wxpay/bizpayurl\?pr=[0-9a-f]{7}\"\}$", text)


async def test_an_h5_order_answers_an_h5_url(client: Client, now: int) -> None:
    body = order_body(payer=None, scene_info={"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}})
    status, _, text = await call(client, "POST", "/v3/pay/transactions/h5", body, now)
    assert status == 200
    assert list(json.loads(text)) == ["h5_url"]


async def test_an_h5_order_needs_the_payers_ip(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", "/v3/pay/transactions/h5", order_body(payer=None), now)
    assert status == 400
    assert json.loads(text) == {
        "code": "PARAM_ERROR",
        "message": "输入源“/body/scene_info”映射到字段“scene_info”必填性规则校验失败，此字段为必填项",
        "detail": {"field": "/scene_info", "location": "body"},
    }


async def test_the_same_order_again_answers_the_same_prepay_id(client: Client, now: int) -> None:
    first = await place(client, now)
    assert await place(client, now) == first


async def test_an_order_again_with_another_amount_is_invalid_request(client: Client, now: int) -> None:
    await place(client, now)
    status, _, text = await call(client, "POST", JSAPI, order_body(amount={"total": 101}), now)
    assert status == 400
    assert json.loads(text) == {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}


@pytest.mark.parametrize("total", [0, -1, "100", 1.5, 2**31, True])
async def test_an_amount_that_is_not_a_positive_int_of_fen_is_param_error(
    client: Client, now: int, total: object
) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(amount={"total": total}), now)
    assert status == 400
    body = json.loads(text)
    assert body["code"] == "PARAM_ERROR"
    assert body["detail"]["field"] == "/amount/total"


async def test_a_missing_description_is_param_error(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(description=None), now)
    assert status == 400
    assert json.loads(text) == {
        "code": "PARAM_ERROR",
        "message": "输入源“/body/description”映射到字段“description”必填性规则校验失败，此字段为必填项",
        "detail": {"field": "/description", "location": "body"},
    }


async def test_a_body_mchid_other_than_the_signers_is_param_error(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(mchid="1900000110"), now)
    assert status == 400
    assert json.loads(text) == {
        "code": "PARAM_ERROR",
        "message": "请求体中的mchid与请求头Authorization中的mchid不一致",
        "detail": {"field": "/mchid", "location": "body"},
    }


async def test_an_appid_not_bound_to_the_merchant_is_appid_mchid_not_match(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(appid="wx0000000000000002"), now)
    assert status == 400
    assert json.loads(text) == {"code": "APPID_MCHID_NOT_MATCH", "message": "AppID和mch_id不匹配"}


async def test_a_body_that_is_not_json_is_param_error(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, "{not json", now)
    assert status == 400
    assert json.loads(text) == {"code": "PARAM_ERROR", "message": "请求体不是有效的JSON"}


async def test_the_forced_systemerror_amount_is_500_system_error(client: Client, now: int) -> None:
    status, headers, text = await call(client, "POST", JSAPI, order_body(amount={"total": 9911}), now)
    assert status == 500
    assert json.loads(text) == {"code": "SYSTEM_ERROR", "message": "系统异常，请稍后重试"}
    assert_signed(headers, text, now)


async def test_the_forced_frequency_limited_amount_is_429(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(amount={"total": 9941}), now)
    assert status == 429
    assert json.loads(text) == {"code": "FREQUENCY_LIMITED", "message": "频率超限"}


async def test_the_journal_records_the_json_fields_flattened(client: Client, now: int, seen: list[Exchange]) -> None:
    await place(client, now)
    fields = seen[-1].fields
    assert (fields["out_trade_no"], fields["amount.total"], fields["amount.currency"]) == (
        "T20240101000001",
        "100",
        "CNY",
    )


# -- query, close ----------------------------------------------------------------------------------------------


async def test_an_unpaid_order_queries_as_notpay(client: Client, now: int) -> None:
    await place(client, now)
    url = f"/v3/pay/transactions/out-trade-no/T20240101000001?mchid={MCH_ID}"
    status, headers, text = await call(client, "GET", url, None, now)
    assert status == 200
    from tests.pay_helpers import openid

    assert json.loads(text) == {
        "appid": "wx5a4db0c0ffee0001",
        "mchid": MCH_ID,
        "out_trade_no": "T20240101000001",
        "trade_state": "NOTPAY",
        "trade_state_desc": "订单未支付",
        "attach": "",
        "amount": {"total": 100, "currency": "CNY"},
        "trade_type": "JSAPI",
        "payer": {"openid": openid("alice")},
    }
    assert_signed(headers, text, now)


async def test_a_paid_order_queries_by_transaction_id(client: Client, now: int) -> None:
    await place(client, now)
    pay(client)
    order = client.app[PAY].order(MCH_ID, "T20240101000001")
    assert order is not None
    url = f"/v3/pay/transactions/id/{order.transaction_id}?mchid={MCH_ID}"
    status, _, text = await call(client, "GET", url, None, now)
    assert status == 200
    body = json.loads(text)
    assert (body["trade_state"], body["transaction_id"], body["bank_type"]) == (
        "SUCCESS",
        order.transaction_id,
        "OTHERS",
    )
    assert body["amount"] == {"total": 100, "currency": "CNY", "payer_total": 100, "payer_currency": "CNY"}
    assert body["success_time"] == "2023-11-15T06:13:20+08:00"


async def test_an_unknown_order_is_404_order_not_exist(client: Client, now: int) -> None:
    status, headers, text = await call(
        client, "GET", f"/v3/pay/transactions/out-trade-no/NOPE000?mchid={MCH_ID}", None, now
    )
    assert status == 404
    assert json.loads(text) == {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
    assert_signed(headers, text, now)


async def test_a_query_without_mchid_is_param_error(client: Client, now: int) -> None:
    await place(client, now)
    status, _, text = await call(client, "GET", "/v3/pay/transactions/out-trade-no/T20240101000001", None, now)
    assert status == 400
    assert json.loads(text) == {
        "code": "PARAM_ERROR",
        "message": "缺少参数mchid",
        "detail": {"field": "mchid", "location": "query"},
    }


async def test_close_answers_204_with_an_empty_signed_body(client: Client, now: int) -> None:
    await place(client, now)
    url = "/v3/pay/transactions/out-trade-no/T20240101000001/close"
    status, headers, text = await call(client, "POST", url, {"mchid": MCH_ID}, now)
    assert (status, text) == (204, "")
    assert_signed(headers, text, now)
    order = client.app[PAY].order(MCH_ID, "T20240101000001")
    assert order is not None
    assert order.trade_state == "CLOSED"


async def test_closing_a_paid_order_is_orderpaid(client: Client, now: int) -> None:
    await place(client, now)
    pay(client)
    url = "/v3/pay/transactions/out-trade-no/T20240101000001/close"
    status, _, text = await call(client, "POST", url, {"mchid": MCH_ID}, now)
    assert status == 400
    assert json.loads(text) == {"code": "ORDERPAID", "message": "订单已支付"}


async def test_a_v3_order_is_queried_by_v2_too(client: Client, now: int) -> None:
    """One order book: an order placed in v3 is the same order for v2's orderquery."""
    from tests.pay_helpers import MCH_KEY, base_fields, parse, post

    await place(client, now)
    status, text = await post(client, "/pay/orderquery", base_fields(out_trade_no="T20240101000001"), MCH_KEY)
    assert status == 200
    assert parse(text)["trade_state"] == "NOTPAY"


# -- refunds -----------------------------------------------------------------------------------------------------


async def test_a_refund_of_a_paid_order_answers_the_refund(client: Client, now: int) -> None:
    await place(client, now)
    pay(client)
    body = {
        "out_trade_no": "T20240101000001",
        "out_refund_no": "R1",
        "amount": {"refund": 30, "total": 100, "currency": "CNY"},
    }
    status, headers, text = await call(client, "POST", "/v3/refund/domestic/refunds", body, now)
    assert status == 200
    made = json.loads(text)
    assert (made["out_refund_no"], made["status"], made["amount"]["refund"], made["amount"]["total"]) == (
        "R1",
        "SUCCESS",
        30,
        100,
    )
    assert_signed(headers, text, now)
    status, _, again = await call(client, "GET", "/v3/refund/domestic/refunds/R1", None, now)
    assert status == 200
    assert json.loads(again) == made


async def test_refunding_more_than_was_paid_is_invalid_request(client: Client, now: int) -> None:
    await place(client, now)
    pay(client)
    body = {
        "out_trade_no": "T20240101000001",
        "out_refund_no": "R1",
        "amount": {"refund": 101, "total": 100, "currency": "CNY"},
    }
    status, _, text = await call(client, "POST", "/v3/refund/domestic/refunds", body, now)
    assert status == 400
    assert json.loads(text) == {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"}


async def test_an_unknown_refund_is_404_resource_not_exists(client: Client, now: int) -> None:
    status, _, text = await call(client, "GET", "/v3/refund/domestic/refunds/NOPE", None, now)
    assert status == 404
    assert json.loads(text) == {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}


# -- certificates ----------------------------------------------------------------------------------------------


async def test_certificates_are_sealed_with_the_apiv3_key_and_signed_by_the_platform_certificate(
    client: Client, now: int
) -> None:
    status, headers, text = await call(client, "GET", "/v3/certificates", None, now)
    assert status == 200
    [entry] = json.loads(text)["data"]
    own = keys()
    assert entry["serial_no"] == own.platform_serial_no
    sealed = entry["encrypt_certificate"]
    assert (sealed["algorithm"], sealed["associated_data"]) == ("AEAD_AES_256_GCM", "certificate")
    pem = signing.aead_decrypt(own.apiv3_key, sealed["nonce"], "certificate", sealed["ciphertext"])
    assert pem == own.platform_certificate
    assert headers["Wechatpay-Serial"] == own.platform_serial_no
    message = signing.v3_response_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], text)
    assert signing.rsa_verify(own.platform_cert.public_key(), message, headers["Wechatpay-Signature"])  # type: ignore[arg-type]


async def test_answers_are_signed_by_the_platform_certificate_when_configured(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock, now: int
) -> None:
    merchant = replace(config.merchants[0], response_signing=ResponseSigning.PLATFORM_CERTIFICATE)
    app = mock_wechat.create_app(replace(config, merchants=(merchant,)), clock=clock, ids=Ids(7))
    status, headers, text = await call(await aiohttp_client(app), "POST", JSAPI, order_body(), now)
    assert status == 200
    own = keys()
    assert headers["Wechatpay-Serial"] == own.platform_serial_no
    message = signing.v3_response_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], text)
    assert signing.rsa_verify(own.platform_cert.public_key(), message, headers["Wechatpay-Signature"])  # type: ignore[arg-type]


# -- authentication ----------------------------------------------------------------------------------------------


async def test_no_authorization_is_401_sign_error_unsigned(client: Client, now: int) -> None:
    resp = await client.post(JSAPI, data=json.dumps(order_body()))
    assert resp.status == 401
    assert await resp.json() == {
        "code": "SIGN_ERROR",
        "message": "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
    }
    assert "Wechatpay-Signature" not in resp.headers


async def test_the_pairs_may_come_in_any_order(client: Client, now: int) -> None:
    text = json.dumps(order_body(), separators=(",", ":"))
    header = authorization("POST", JSAPI, text, now)
    scheme, pairs = header.split(" ", 1)
    reordered = f"{scheme} " + ",".join(reversed(pairs.split(",")))
    resp = await client.post(JSAPI, data=text, headers={"Authorization": reordered})
    assert resp.status == 200


async def test_a_signature_over_another_body_is_401_with_the_sign_information(client: Client, now: int) -> None:
    text = json.dumps(order_body(), separators=(",", ":"))
    signed_over = json.dumps(order_body())  # a client that serialised twice, differently
    resp = await client.post(
        JSAPI, data=text, headers={"Authorization": authorization("POST", JSAPI, signed_over, now)}
    )
    assert resp.status == 401
    body = await resp.json()
    message = f"POST\n{JSAPI}\n{now}\n593BEC0C930BF1AFEB40B4A08C8FB242\n{text}\n"
    assert body == {
        "code": "SIGN_ERROR",
        "message": "错误的签名，验签失败",
        "detail": {
            "field": "signature",
            "issue": "sign not match",
            "location": "authorization",
            "sign_information": {
                "method": "POST",
                "url": JSAPI,
                "sign_message_length": len(message.encode()),
                "truncated_sign_message": message[:64],
            },
        },
    }
    assert_signed({k: v for k, v in resp.headers.items()}, await resp.text(), now)


async def test_the_sign_error_diagnostic_names_a_dropped_query(client: Client, now: int, seen: list[Exchange]) -> None:
    await place(client, now)
    url = f"/v3/pay/transactions/out-trade-no/T20240101000001?mchid={MCH_ID}"
    path = url.split("?")[0]
    resp = await client.get(url, headers={"Authorization": authorization("GET", path, "", now)})
    assert resp.status == 401
    diagnostic = seen[-1].diagnostic
    assert f"It verifies over the URL without its query ({path})" in diagnostic
    assert repr(f"GET\n{url}\n{now}\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n") in diagnostic


async def test_the_sign_error_diagnostic_names_a_reserialised_body(
    client: Client, now: int, seen: list[Exchange]
) -> None:
    text = json.dumps(order_body(), separators=(",", ":"))
    resp = await client.post(
        JSAPI, data=text, headers={"Authorization": authorization("POST", JSAPI, json.dumps(order_body()), now)}
    )
    assert resp.status == 401
    assert "It verifies over the body re-serialised with spaces" in seen[-1].diagnostic


async def test_another_serial_is_401(client: Client, now: int) -> None:
    status, _, text = await call(
        client, "POST", JSAPI, order_body(), now, serial="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
    )
    assert status == 401
    assert json.loads(text) == {"code": "SIGN_ERROR", "message": "商户证书序列号有误。请使用签名私钥匹配的证书序列号"}


async def test_a_timestamp_six_minutes_off_is_401(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(), now - 360)
    assert status == 401
    assert json.loads(text) == {"code": "SIGN_ERROR", "message": "请求中的时间戳与服务器时间相差过大"}


async def test_an_unknown_mchid_is_mch_not_exists(client: Client, now: int) -> None:
    status, _, text = await call(client, "POST", JSAPI, order_body(), now, mchid="1234567890")
    assert status == 400
    assert json.loads(text) == {"code": "MCH_NOT_EXISTS", "message": "商户号不存在"}


async def test_an_unknown_v3_path_is_404_not_found(client: Client, now: int) -> None:
    status, _, text = await call(client, "GET", "/v3/no/such/api", None, now)
    assert status == 404
    assert json.loads(text) == {"code": "NOT_FOUND", "message": "Not Found"}


async def test_the_keyring_is_not_asked_for_an_unsigned_unknown_path(client: Client) -> None:
    resp = await client.get("/v3/no/such/api")
    assert resp.status == 404
    assert client.app[KEYRING].saved() == []


# -- notifications ---------------------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@pytest.fixture
async def listener(aiohttp_server: Any) -> tuple[str, list[Received]]:
    """A merchant's v3 notify_url that acknowledges with 204 and records each request."""
    got: list[Received] = []

    async def notify(request: web.Request) -> web.Response:
        got.append(Received(dict(request.headers), await request.text()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/v3/notify", notify)
    server = await aiohttp_server(app)
    return str(server.make_url("/v3/notify")), got


def opened(received: Received) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and its decrypted resource, after checking the signature as a merchant must."""
    message = signing.v3_response_message(
        received.headers["Wechatpay-Timestamp"], received.headers["Wechatpay-Nonce"], received.body
    )
    assert received.headers["Wechatpay-Serial"] == keys().public_key_id
    assert signing.rsa_verify(public_key(), message, received.headers["Wechatpay-Signature"])
    envelope = json.loads(received.body)
    sealed = envelope["resource"]
    plain = signing.aead_decrypt(keys().apiv3_key, sealed["nonce"], sealed["associated_data"], sealed["ciphertext"])
    return envelope, json.loads(plain)


async def test_a_paid_v3_order_notifies_transaction_success_sealed_and_signed(
    client: Client, now: int, listener: tuple[str, list[Received]]
) -> None:
    url, got = listener
    await place(client, now, notify_url=url)
    pay(client)
    [delivered] = await client.app[DELIVERER].deliver_due()
    assert delivered.attempts[0]["verdict"] == "acknowledged with HTTP 204"
    [received] = got
    assert received.headers["Content-Type"] == "application/json"
    envelope, resource = opened(received)
    assert envelope["event_type"] == "TRANSACTION.SUCCESS"
    assert (envelope["resource_type"], envelope["summary"]) == ("encrypt-resource", "支付成功")
    assert envelope["resource"]["original_type"] == envelope["resource"]["associated_data"] == "transaction"
    assert envelope["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert (resource["trade_state"], resource["out_trade_no"], resource["amount"]["total"]) == (
        "SUCCESS",
        "T20240101000001",
        100,
    )


async def test_a_v3_refund_notifies_refund_success(
    client: Client, now: int, listener: tuple[str, list[Received]]
) -> None:
    url, got = listener
    await place(client, now)
    pay(client)
    body: dict[str, Any] = {"out_trade_no": "T20240101000001", "out_refund_no": "R1", "notify_url": url}
    body["amount"] = {"refund": 100, "total": 100, "currency": "CNY"}
    assert (await call(client, "POST", "/v3/refund/domestic/refunds", body, now))[0] == 200
    await client.app[DELIVERER].in_flight()  # the background loop may have started it already
    await client.app[DELIVERER].deliver_due()
    [received] = [r for r in got if json.loads(r.body)["event_type"].startswith("REFUND")]
    envelope, resource = opened(received)
    assert envelope["event_type"] == "REFUND.SUCCESS"
    assert (resource["refund_status"], resource["out_refund_no"], resource["amount"]["refund"]) == (
        "SUCCESS",
        "R1",
        100,
    )


@pytest.mark.parametrize("tamper", ["sign", "amount", "ciphertext"])
async def test_a_tampered_v3_notification_does_not_verify_or_open(
    client: Client, now: int, listener: tuple[str, list[Received]], tamper: str
) -> None:
    url, got = listener
    await place(client, now, notify_url=url)
    pay(client)
    [original] = await client.app[DELIVERER].deliver_due()
    resend(client.app[PAY], original.id, tamper=Tamper(tamper))
    await client.app[DELIVERER].deliver_due()
    forged = got[-1]
    message = signing.v3_response_message(
        forged.headers["Wechatpay-Timestamp"], forged.headers["Wechatpay-Nonce"], forged.body
    )
    verifies = signing.rsa_verify(public_key(), message, forged.headers["Wechatpay-Signature"])
    if tamper == "ciphertext":  # signed as sent, so only opening the resource fails
        assert verifies
        sealed = json.loads(forged.body)["resource"]
        with pytest.raises(ValueError, match="tag"):
            signing.aead_decrypt(keys().apiv3_key, sealed["nonce"], sealed["associated_data"], sealed["ciphertext"])
    else:
        assert not verifies


async def test_the_sign_error_compares_the_messages_of_a_dropped_query(
    client: Client, now: int, seen: list[Exchange]
) -> None:
    await place(client, now)
    url = f"/v3/pay/transactions/out-trade-no/T20240101000001?mchid={MCH_ID}"
    path = url.split("?")[0]
    await client.get(url, headers={"Authorization": authorization("GET", path, "", now)})
    comparison = seen[-1].comparison
    assert comparison is not None
    assert (comparison.how, comparison.separator) == ("signed over the URL without its query", "\n")
    assert comparison.expected.split("\n")[1] == url
    assert comparison.received.split("\n")[1] == path
