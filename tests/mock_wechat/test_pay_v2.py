"""WeChat Pay API v2 on the wire: unifiedorder, orderquery, closeorder, protocol faults, signatures, sandbox."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat import errors, signing, times
from mock_wechat.clock import ManualClock
from mock_wechat.config import DEFAULT_SINGLE_PAYMENT_LIMIT, Merchant, User, WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.keys import ACCOUNTS, PAY, Exchange
from mock_wechat.masking import mask
from mock_wechat.middleware import MAX_BODY
from mock_wechat.pay import orders, v2_dialect
from mock_wechat.pay.orders import Outcome
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v2_dialect import Signer, sandbox_signkey
from mock_wechat.store import SQLiteStore
from sandbox import defaults
from tests.conftest import OTHER_APPID, ClientFactory, make_config
from tests.pay_helpers import (
    APPID,
    BUSINESS_FAIL_KEYS,
    HMAC,
    MCH_ID,
    MCH_KEY,
    MD5,
    SIGN_TYPES,
    assert_business_fail,
    assert_protocol_fail,
    assert_success,
    assert_verifies,
    base_fields,
    openid,
    order_fields,
    parse,
    post,
    post_raw,
    sign,
    signed_xml,
    xml,
)

Client = TestClient[web.Request, web.Application]

SANDBOX_KEY = sandbox_signkey(defaults.default_merchant())
OTHER_MCH_ID = "1900000110"
OTHER_MCH_KEY = "otherkeyotherkeyotherkeyotherkey"
PREPAY_ID = re.compile(r"^wx\d{14}[0-9a-f]{20}$")
UNIFIEDORDER_KEYS = {
    "return_code",
    "return_msg",
    "appid",
    "mch_id",
    "nonce_str",
    "result_code",
    "trade_type",
    "prepay_id",
    "sign",
}
PATHS = (
    "/pay/unifiedorder",
    "/pay/orderquery",
    "/pay/closeorder",
    "/secapi/pay/refund",
    "/pay/refundquery",
    "/pay/downloadbill",
)


# -- helpers -------------------------------------------------------------------------------------------


async def call(client: Client, path: str, fields: dict[str, Any], key: str = MCH_KEY, sign_type: str = MD5) -> str:
    status, text = await post(client, path, fields, key, sign_type)
    assert status == 200, text
    return text


async def create(client: Client, sign_type: str = MD5, **overrides: Any) -> dict[str, str]:
    """A successful unifiedorder; its answer fields."""
    text = await call(client, "/pay/unifiedorder", order_fields(**overrides), sign_type=sign_type)
    return assert_success(text, sign_type=sign_type)


async def query(client: Client, sign_type: str = MD5, **keys: Any) -> dict[str, str]:
    text = await call(client, "/pay/orderquery", base_fields(**keys), sign_type=sign_type)
    return assert_success(text, sign_type=sign_type)


def pay_service(client: Client) -> PayService:
    return client.app[PAY]


def other_merchant(**overrides: Any) -> Merchant:
    values: dict[str, Any] = {"mch_id": OTHER_MCH_ID, "key": OTHER_MCH_KEY, "name": "Other shop", "appids": (APPID,)}
    values.update(overrides)
    return Merchant(**values)


async def client_for(aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock) -> Client:
    return await aiohttp_client(mock_wechat.create_app(config, store=SQLiteStore.in_memory(), clock=clock, ids=Ids(7)))


@pytest.fixture
def seen() -> list[Exchange]:
    return []


@pytest.fixture
async def journaled(
    aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock, store: SQLiteStore, seen: list[Exchange]
) -> Client:
    """Like `client`, with every exchange reported to `seen` (what the journal records)."""
    return await aiohttp_client(
        mock_wechat.create_app(config, store=store, clock=clock, ids=Ids(7), observers=[seen.append])
    )


# -- unifiedorder: success shapes ----------------------------------------------------------------------


async def test_unifiedorder_jsapi_answers_exactly_a_prepay_id(client: Client) -> None:
    fields = await create(client)
    assert set(fields) == UNIFIEDORDER_KEYS
    assert (fields["appid"], fields["mch_id"], fields["trade_type"]) == (APPID, MCH_ID, "JSAPI")


async def test_unifiedorder_prepay_id_has_wechats_shape_with_beijing_time(client: Client, clock: ManualClock) -> None:
    prepay_id = (await create(client))["prepay_id"]
    assert PREPAY_ID.match(prepay_id), prepay_id
    assert prepay_id[2:16] == times.compact(clock.now()) == "20231115061320"


async def test_unifiedorder_answer_has_a_fresh_32_char_nonce(client: Client) -> None:
    nonce = (await create(client))["nonce_str"]
    assert re.fullmatch(r"[0-9A-Za-z]{32}", nonce)
    assert nonce != order_fields()["nonce_str"]


async def test_unifiedorder_answer_is_utf8_text_xml(client: Client) -> None:
    resp = await client.post("/pay/unifiedorder", data=signed_xml(order_fields(), MCH_KEY))
    assert (resp.content_type, resp.charset) == ("text/xml", "utf-8")


async def test_unifiedorder_md5_answer_is_signed_md5(client: Client) -> None:
    fields = await create(client)
    assert re.fullmatch(r"[0-9A-F]{32}", fields["sign"])
    assert_verifies(fields, MCH_KEY, MD5)


async def test_unifiedorder_hmac_answer_is_signed_hmac(client: Client) -> None:
    fields = await create(client, sign_type=HMAC)
    assert re.fullmatch(r"[0-9A-F]{64}", fields["sign"])
    assert_verifies(fields, MCH_KEY, HMAC)


async def test_unifiedorder_answer_carries_no_sign_type(client: Client) -> None:
    assert "sign_type" not in await create(client, sign_type=HMAC)


async def test_unifiedorder_native_answers_a_code_url(client: Client) -> None:
    fields = await create(client, trade_type="NATIVE", openid=None, product_id="P1")
    assert set(fields) == UNIFIEDORDER_KEYS | {"code_url"}
    assert fields["trade_type"] == "NATIVE"
    assert re.fullmatch(r"weixin://wxpay/bizpayurl\?pr=[0-9a-f]{7}", fields["code_url"]), fields["code_url"]


async def test_unifiedorder_mweb_answers_an_mweb_url(client: Client) -> None:
    fields = await create(client, trade_type="MWEB", openid=None)
    assert set(fields) == UNIFIEDORDER_KEYS | {"mweb_url"}
    assert fields["mweb_url"] == (  # on the sandbox's own address: its cashier is there (WeChat's: wx.tenpay.com)
        f"http://{client.server.host}:{client.server.port}/cgi-bin/mmpayweb-bin/checkmweb"
        f"?prepay_id={fields['prepay_id']}&package={int(pay_service(client).clock.now())}"
    )


async def test_unifiedorder_app_answers_only_a_prepay_id(client: Client) -> None:
    fields = await create(client, trade_type="APP", openid=None)
    assert set(fields) == UNIFIEDORDER_KEYS
    assert fields["trade_type"] == "APP"


async def test_unifiedorder_echoes_device_info(client: Client) -> None:
    fields = await create(client, device_info="WEB")
    assert fields["device_info"] == "WEB"


async def test_unifiedorder_accepts_a_pretty_printed_body(client: Client) -> None:
    signed = sign(order_fields(), MCH_KEY)
    body = "<xml>\n" + "".join(f"  <{k}><![CDATA[{v}]]></{k}>\n" for k, v in signed.items()) + "</xml>\n"
    status, text = await post_raw(client, "/pay/unifiedorder", body.encode())
    assert status == 200
    assert_success(text)


async def test_unifiedorder_keeps_spaces_that_the_sign_covers(client: Client) -> None:
    assert_success(await call(client, "/pay/unifiedorder", order_fields(attach=" gift wrap ")))


async def test_unifiedorder_accepts_a_utf8_bom(client: Client) -> None:
    status, text = await post_raw(client, "/pay/unifiedorder", b"\xef\xbb\xbf" + signed_xml(order_fields(), MCH_KEY))
    assert status == 200
    assert_success(text)


async def test_unifiedorder_accepts_every_allowed_out_trade_no_character(client: Client) -> None:
    await create(client, out_trade_no="aZ09_-|*" + "x" * 24)


async def test_unifiedorder_accepts_a_body_of_128_characters(client: Client) -> None:
    await create(client, body="商" * 128)


async def test_unifiedorder_accepts_an_attach_of_127_characters(client: Client) -> None:
    await create(client, attach="a" * 127)


@pytest.mark.parametrize("ip", ["203.0.113.7", "2001:db8::1", "::ffff:101.45.43.1"])
async def test_unifiedorder_accepts_an_ipv4_or_ipv6_spbill_create_ip(client: Client, ip: str) -> None:
    await create(client, spbill_create_ip=ip)


async def test_unifiedorder_accepts_a_total_fee_at_the_single_payment_limit(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    merchant = other_merchant(single_payment_limit=orders.MAX_FEN)
    client = await client_for(aiohttp_client, make_config(merchants=(merchant,)), clock)
    text = await call(
        client, "/pay/unifiedorder", order_fields(mch_id=OTHER_MCH_ID, total_fee=orders.MAX_FEN), key=OTHER_MCH_KEY
    )
    assert_success(text, key=OTHER_MCH_KEY)


async def test_unifiedorder_accepts_time_expire_exactly_five_minutes_ahead(client: Client, clock: ManualClock) -> None:
    await create(client, time_expire=times.compact(clock.now() + 300))


async def test_unifiedorder_accepts_an_allowed_notify_host(aiohttp_client: ClientFactory, clock: ManualClock) -> None:
    merchant = other_merchant(trust_loopback=False, notify_hosts=("shop.example.com",))
    client = await client_for(aiohttp_client, make_config(merchants=(merchant,)), clock)
    text = await call(
        client,
        "/pay/unifiedorder",
        order_fields(mch_id=OTHER_MCH_ID, notify_url="https://shop.example.com/pay/notify"),
        key=OTHER_MCH_KEY,
    )
    assert_success(text, key=OTHER_MCH_KEY)


async def test_the_same_out_trade_no_under_two_merchants_is_two_orders(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    client = await client_for(
        aiohttp_client, make_config(merchants=(defaults.default_merchant(), other_merchant())), clock
    )
    first = assert_success(await call(client, "/pay/unifiedorder", order_fields()))
    text = await call(client, "/pay/unifiedorder", order_fields(mch_id=OTHER_MCH_ID, total_fee=5), key=OTHER_MCH_KEY)
    assert assert_success(text, key=OTHER_MCH_KEY)["prepay_id"] != first["prepay_id"]


# -- unifiedorder: re-entry ------------------------------------------------------------------------------


async def test_identical_reentry_returns_the_same_prepay_id(client: Client, clock: ManualClock) -> None:
    first = await create(client)
    clock.advance(60)
    again = await create(client, nonce_str="anotherNonce123")
    assert again["prepay_id"] == first["prepay_id"]


async def test_identical_reentry_creates_no_second_order(client: Client) -> None:
    await create(client)
    await create(client)
    assert len(pay_service(client).orders.query(MCH_ID)) == 1


async def test_reentry_just_before_two_hours_keeps_the_prepay_id(client: Client, clock: ManualClock) -> None:
    first = await create(client)
    clock.advance(7199)
    assert (await create(client))["prepay_id"] == first["prepay_id"]


async def test_reentry_after_two_hours_returns_a_new_prepay_id(client: Client, clock: ManualClock) -> None:
    first = await create(client)
    clock.advance(7200)
    again = await create(client)
    assert again["prepay_id"] != first["prepay_id"]
    assert again["prepay_id"][2:16] == times.compact(clock.now())


async def test_a_renewed_prepay_id_finds_the_same_order(client: Client, clock: ManualClock) -> None:
    await create(client)
    clock.advance(7200)
    again = await create(client)
    found = pay_service(client).by_prepay_id(again["prepay_id"])
    assert found is not None
    assert found.out_trade_no == order_fields()["out_trade_no"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_fee", 101), ("body", "another"), ("attach", "x"), ("notify_url", "http://127.0.0.1:9/other")],
)
async def test_reentry_with_changed_parameters_is_invalid_request_201(client: Client, field: str, value: Any) -> None:
    await create(client)
    text = await call(client, "/pay/unifiedorder", order_fields(**{field: value}))
    assert_business_fail(text, "INVALID_REQUEST", "201 商户订单号重复")


async def test_reentry_with_changed_parameters_answers_hmac_signed(client: Client) -> None:
    await create(client, sign_type=HMAC)
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=1), sign_type=HMAC)
    assert_business_fail(text, "INVALID_REQUEST", "201 商户订单号重复", sign_type=HMAC)


async def test_reentry_with_another_trade_type_is_out_trade_no_used(client: Client) -> None:
    await create(client)
    text = await call(client, "/pay/unifiedorder", order_fields(trade_type="NATIVE", openid=None, product_id="P"))
    assert_business_fail(text, "OUT_TRADE_NO_USED", "商户订单号重复")


async def test_reentry_of_a_paid_order_is_orderpaid(client: Client) -> None:
    await create(client)
    pay_service(client).pay(MCH_ID, order_fields()["out_trade_no"], None, Outcome.SUCCESS)
    text = await call(client, "/pay/unifiedorder", order_fields())
    assert_business_fail(text, "ORDERPAID", "商户订单已支付")


async def test_reentry_of_a_closed_order_is_orderclosed(client: Client) -> None:
    await create(client)
    assert_success(await call(client, "/pay/closeorder", base_fields(out_trade_no=order_fields()["out_trade_no"])))
    text = await call(client, "/pay/unifiedorder", order_fields())
    assert_business_fail(text, "ORDERCLOSED", "订单已关闭")


async def test_concurrent_identical_unifiedorders_create_exactly_one_order(client: Client) -> None:
    answers = await asyncio.gather(*(create(client) for _ in range(10)))
    assert len({a["prepay_id"] for a in answers}) == 1
    assert len(pay_service(client).orders.query(MCH_ID)) == 1


# -- unifiedorder: business faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"]
)
async def test_unifiedorder_without_a_required_field_is_lack_params(client: Client, missing: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(**{missing: None}))
    assert_business_fail(text, "LACK_PARAMS", "缺少参数")


async def test_unifiedorder_with_an_empty_required_field_is_lack_params(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(body=""))
    assert_business_fail(text, "LACK_PARAMS", "缺少参数")


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_lack_params_is_signed_with_the_requests_sign_type(client: Client, sign_type: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(body=None), sign_type=sign_type)
    assert_business_fail(text, "LACK_PARAMS", "缺少参数", sign_type=sign_type)


async def test_unifiedorder_without_appid_is_lack_params_without_appid(client: Client) -> None:
    fields = parse(await call(client, "/pay/unifiedorder", order_fields(appid=None)))
    assert set(fields) == BUSINESS_FAIL_KEYS - {"appid"}
    assert re.fullmatch(r"[0-9A-Za-z]{32}", fields["nonce_str"])
    assert {k: v for k, v in fields.items() if k not in ("nonce_str", "sign")} == {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "mch_id": MCH_ID,
        "result_code": "FAIL",
        "err_code": "LACK_PARAMS",
        "err_code_des": "缺少参数",
    }
    assert_verifies(fields, MCH_KEY, MD5)


async def test_jsapi_without_openid_is_lack_params(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(openid=None))
    assert_business_fail(text, "LACK_PARAMS", "JSAPI支付必须传openid")


async def test_native_without_product_id_is_lack_params(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(trade_type="NATIVE", openid=None))
    assert_business_fail(text, "LACK_PARAMS", "NATIVE支付必须传product_id")


async def test_unknown_appid_is_appid_not_exist(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(appid="wx00000000000000ff"))
    assert_business_fail(text, "APPID_NOT_EXIST", "APPID不存在", appid="wx00000000000000ff")


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_appid_not_bound_to_the_merchant_is_appid_mchid_not_match(client: Client, sign_type: str) -> None:
    text = await call(
        client,
        "/pay/unifiedorder",
        order_fields(appid=OTHER_APPID, openid=openid("alice", OTHER_APPID)),
        sign_type=sign_type,
    )
    assert_business_fail(text, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配", appid=OTHER_APPID, sign_type=sign_type)


@pytest.mark.parametrize("total_fee", ["0", "-1", "1.5", "abc", "1e3", " 100", "１００", "²", "0x10"])
async def test_bad_total_fee_is_invalid_request(client: Client, total_fee: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=total_fee))
    assert_business_fail(text, "INVALID_REQUEST", "total_fee参数错误")


@pytest.mark.parametrize("trade_type", ["MICROPAY", "jsapi", "H5", "NATIVE "])
async def test_bad_trade_type_is_invalid_request(client: Client, trade_type: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(trade_type=trade_type))
    assert_business_fail(text, "INVALID_REQUEST", "trade_type参数错误")


@pytest.mark.parametrize(
    "total_fee", ["2147483648", str(2**63), str(2**64 + 1), "9" * 5000, "1" + "0" * 4400, "0" * 5000 + "2147483648"]
)
async def test_total_fee_beyond_wechats_int_is_invalid_request(client: Client, total_fee: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=total_fee))
    assert_business_fail(text, "INVALID_REQUEST", "total_fee参数错误")


async def test_total_fee_beyond_wechats_int_creates_no_order(client: Client) -> None:
    await call(client, "/pay/unifiedorder", order_fields(total_fee=str(2**63)))
    assert pay_service(client).order(MCH_ID, "T20240101000001") is None


async def test_total_fee_with_leading_zeros_is_read_as_its_value(client: Client) -> None:
    await create(client, total_fee="0" * 5000 + "100")
    order = pay_service(client).order(MCH_ID, "T20240101000001")
    assert order is not None
    assert order.total_fee == 100


async def test_total_fee_above_the_default_single_payment_limit_is_invalid_request(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=DEFAULT_SINGLE_PAYMENT_LIMIT + 1))
    assert_business_fail(text, "INVALID_REQUEST", "total_fee超出单笔支付限额")


async def test_total_fee_above_a_merchants_own_limit_is_invalid_request(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    merchant = other_merchant(single_payment_limit=500)
    client = await client_for(aiohttp_client, make_config(merchants=(merchant,)), clock)
    text = await call(client, "/pay/unifiedorder", order_fields(mch_id=OTHER_MCH_ID, total_fee=501), key=OTHER_MCH_KEY)
    assert_business_fail(text, "INVALID_REQUEST", "total_fee超出单笔支付限额", key=OTHER_MCH_KEY, mch_id=OTHER_MCH_ID)


async def test_body_over_128_characters_is_invalid_request(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(body="商" * 129))
    assert_business_fail(text, "INVALID_REQUEST", "body参数长度有误")


async def test_attach_over_127_characters_is_invalid_request(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(attach="a" * 128))
    assert_business_fail(text, "INVALID_REQUEST", "attach参数长度有误")


@pytest.mark.parametrize("ip", ["localhost", "1.2.3", "256.1.1.1", "127.0.0.1 ", "127.0.0.1, 10.0.0.1", "x" * 5000])
async def test_spbill_create_ip_that_is_not_an_ip_address_is_invalid_request(client: Client, ip: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(spbill_create_ip=ip))
    assert_business_fail(text, "INVALID_REQUEST", "spbill_create_ip参数错误")


@pytest.mark.parametrize("out_trade_no", ["x" * 33, "T#1", "订单1", "T 1", "T/1", "T.1", "T@1"])
async def test_bad_out_trade_no_is_invalid_request(client: Client, out_trade_no: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(out_trade_no=out_trade_no))
    assert_business_fail(text, "INVALID_REQUEST", "out_trade_no参数错误")


async def test_openid_of_another_appid_is_invalid_request(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(openid=openid("alice", OTHER_APPID)))
    assert_business_fail(text, "INVALID_REQUEST", "appid和openid不匹配")


async def test_unknown_openid_is_invalid_request(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(openid="oNoSuchUser00000000000000000"))
    assert_business_fail(text, "INVALID_REQUEST", "appid和openid不匹配")


@pytest.mark.parametrize(
    "notify_url",
    [
        "http://127.0.0.1:9/notify?order=1",
        "http://127.0.0.1:9/notify?",
        "/pay/notify",
        "ftp://127.0.0.1/notify",
        "127.0.0.1:9/notify",
        "http://shop.example.com/notify",
    ],
)
async def test_bad_notify_url_is_invalid_request(client: Client, notify_url: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(notify_url=notify_url))
    assert_business_fail(text, "INVALID_REQUEST", "notify_url参数错误")


@pytest.mark.parametrize(
    "notify_url", ["http://127.0.0.1:9/notify", "http://evil.example.com/notify", "http://shop.example.com.evil.cn/n"]
)
async def test_notify_url_outside_the_merchants_allowlist_is_invalid_request(
    aiohttp_client: ClientFactory, clock: ManualClock, notify_url: str
) -> None:
    merchant = other_merchant(trust_loopback=False, notify_hosts=("shop.example.com",))
    client = await client_for(aiohttp_client, make_config(merchants=(merchant,)), clock)
    fields = order_fields(mch_id=OTHER_MCH_ID, notify_url=notify_url)
    text = await call(client, "/pay/unifiedorder", fields, key=OTHER_MCH_KEY)
    assert_business_fail(text, "INVALID_REQUEST", "notify_url参数错误", key=OTHER_MCH_KEY, mch_id=OTHER_MCH_ID)


async def test_time_expire_under_five_minutes_is_invalid_request(client: Client, clock: ManualClock) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(time_expire=times.compact(clock.now() + 299)))
    assert_business_fail(text, "INVALID_REQUEST", "time_expire时间过短，刷卡至少1分钟，其他5分钟")


async def test_time_expire_in_the_past_is_invalid_request(client: Client, clock: ManualClock) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(time_expire=times.compact(clock.now() - 3600)))
    assert_business_fail(text, "INVALID_REQUEST", "time_expire时间过短，刷卡至少1分钟，其他5分钟")


@pytest.mark.parametrize("time_expire", ["2023-11-16 10:00:00", "202311161000", "20231340000000", "2023111610000x"])
async def test_malformed_time_expire_is_invalid_request(client: Client, time_expire: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(time_expire=time_expire))
    assert_business_fail(text, "INVALID_REQUEST", "time_expire参数格式错误")


async def test_total_fee_9911_is_systemerror(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=9911))
    assert_business_fail(text, "SYSTEMERROR", "系统错误")


async def test_total_fee_9941_is_frequency_limited(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(total_fee=9941))
    assert_business_fail(text, "FREQUENCY_LIMITED", "频率超限")


async def test_total_fee_9911_creates_no_order(client: Client) -> None:
    await call(client, "/pay/unifiedorder", order_fields(total_fee=9911))
    assert pay_service(client).orders.query(MCH_ID) == []


# -- time_expire ------------------------------------------------------------------------------------------


async def test_order_reads_notpay_before_time_expire(client: Client, clock: ManualClock) -> None:
    await create(client, time_expire=times.compact(clock.now() + 600))
    clock.advance(599)
    assert (await query(client, out_trade_no=order_fields()["out_trade_no"]))["trade_state"] == "NOTPAY"


async def test_order_reads_closed_after_time_expire(client: Client, clock: ManualClock) -> None:
    await create(client, time_expire=times.compact(clock.now() + 600))
    clock.advance(600)
    fields = await query(client, out_trade_no=order_fields()["out_trade_no"])
    assert (fields["trade_state"], fields["trade_state_desc"]) == ("CLOSED", "已关闭")


async def test_reentry_after_time_expire_is_orderclosed(client: Client, clock: ManualClock) -> None:
    fields = order_fields(time_expire=times.compact(clock.now() + 600))
    assert_success(await call(client, "/pay/unifiedorder", fields))
    clock.advance(600)
    assert_business_fail(await call(client, "/pay/unifiedorder", fields), "ORDERCLOSED", "订单已关闭")


async def test_identical_reentry_with_a_time_expire_now_near_returns_the_same_prepay_id(
    client: Client, clock: ManualClock
) -> None:
    fields = order_fields(time_expire=times.compact(clock.now() + 600))
    first = assert_success(await call(client, "/pay/unifiedorder", fields))
    clock.advance(500)
    assert assert_success(await call(client, "/pay/unifiedorder", fields))["prepay_id"] == first["prepay_id"]


async def test_paying_after_time_expire_is_orderclosed(client: Client, clock: ManualClock) -> None:
    await create(client, time_expire=times.compact(clock.now() + 600))
    clock.advance(600)
    with pytest.raises(errors.OrderClosed):
        pay_service(client).pay(MCH_ID, order_fields()["out_trade_no"], None, Outcome.SUCCESS)


# -- orderquery ------------------------------------------------------------------------------------------


async def test_orderquery_of_an_unpaid_order_answers_exactly_its_state(client: Client) -> None:
    await create(client)
    fields = await query(client, out_trade_no="T20240101000001")
    assert {k: v for k, v in fields.items() if k not in ("nonce_str", "sign")} == {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": APPID,
        "mch_id": MCH_ID,
        "result_code": "SUCCESS",
        "openid": openid("alice"),
        "is_subscribe": "N",
        "trade_type": "JSAPI",
        "trade_state": "NOTPAY",
        "total_fee": "100",
        "fee_type": "CNY",
        "out_trade_no": "T20240101000001",
        "trade_state_desc": "订单未支付",
    }


async def test_orderquery_of_a_paid_order_answers_exactly_the_payment(client: Client, clock: ManualClock) -> None:
    await create(client, attach="gift")
    clock.advance(30)
    paid = pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    fields = await query(client, out_trade_no="T20240101000001")
    assert {k: v for k, v in fields.items() if k not in ("nonce_str", "sign")} == {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": APPID,
        "mch_id": MCH_ID,
        "result_code": "SUCCESS",
        "openid": openid("alice"),
        "is_subscribe": "N",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "bank_type": "OTHERS",
        "total_fee": "100",
        "fee_type": "CNY",
        "transaction_id": paid.transaction_id,
        "out_trade_no": "T20240101000001",
        "attach": "gift",
        "time_end": times.compact(clock.now()),
        "trade_state_desc": "支付成功",
        "cash_fee": "100",
        "cash_fee_type": "CNY",
    }


async def test_orderquery_writes_amounts_as_bare_numbers(client: Client) -> None:
    await create(client)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    text = await call(client, "/pay/orderquery", base_fields(out_trade_no="T20240101000001"))
    assert "<total_fee>100</total_fee>" in text
    assert "<cash_fee>100</cash_fee>" in text


async def test_orderquery_writes_strings_in_cdata(client: Client) -> None:
    await create(client)
    text = await call(client, "/pay/orderquery", base_fields(out_trade_no="T20240101000001"))
    assert "<trade_state><![CDATA[NOTPAY]]></trade_state>" in text


async def test_orderquery_by_transaction_id_finds_the_order(client: Client) -> None:
    await create(client)
    paid = pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    fields = await query(client, transaction_id=paid.transaction_id)
    assert (fields["out_trade_no"], fields["trade_state"]) == ("T20240101000001", "SUCCESS")


async def test_transaction_id_has_wechats_shape(client: Client, clock: ManualClock) -> None:
    await create(client)
    paid = pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    assert re.fullmatch(r"4200\d{6}" + times.day(clock.now()) + r"\d{10}", paid.transaction_id)


async def test_orderquery_prefers_transaction_id_over_out_trade_no(client: Client) -> None:
    await create(client)
    paid = pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    fields = await query(client, transaction_id=paid.transaction_id, out_trade_no="nonexistent")
    assert fields["out_trade_no"] == "T20240101000001"


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_orderquery_is_signed_with_the_requests_sign_type(client: Client, sign_type: str) -> None:
    await create(client)
    await query(client, sign_type=sign_type, out_trade_no="T20240101000001")


async def test_orderquery_of_a_failed_payment_is_payerror(client: Client) -> None:
    await create(client)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.FAIL)
    fields = await query(client, out_trade_no="T20240101000001")
    assert (fields["trade_state"], fields["trade_state_desc"]) == ("PAYERROR", "支付失败")


async def test_orderquery_of_amount_9931_paid_is_payerror(client: Client) -> None:
    await create(client, total_fee=9931)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    assert (await query(client, out_trade_no="T20240101000001"))["trade_state"] == "PAYERROR"


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_orderquery_of_an_unknown_out_trade_no_is_ordernotexist(client: Client, sign_type: str) -> None:
    text = await call(client, "/pay/orderquery", base_fields(out_trade_no="NOPE"), sign_type=sign_type)
    assert_business_fail(text, "ORDERNOTEXIST", "订单不存在", sign_type=sign_type)


async def test_orderquery_of_an_unknown_transaction_id_is_ordernotexist(client: Client) -> None:
    text = await call(client, "/pay/orderquery", base_fields(transaction_id="4200000000202311150000000000"))
    assert_business_fail(text, "ORDERNOTEXIST", "订单不存在")


async def test_orderquery_of_another_merchants_order_is_ordernotexist(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    client = await client_for(
        aiohttp_client, make_config(merchants=(defaults.default_merchant(), other_merchant())), clock
    )
    await create(client)
    paid = pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    fields = base_fields(mch_id=OTHER_MCH_ID, transaction_id=paid.transaction_id)
    text = await call(client, "/pay/orderquery", fields, key=OTHER_MCH_KEY)
    assert_business_fail(text, "ORDERNOTEXIST", "订单不存在", key=OTHER_MCH_KEY, mch_id=OTHER_MCH_ID)


async def test_orderquery_without_an_order_key_is_lack_params(client: Client) -> None:
    assert_business_fail(await call(client, "/pay/orderquery", base_fields()), "LACK_PARAMS", "缺少参数")


async def test_orderquery_with_an_unbound_appid_is_appid_mchid_not_match(client: Client) -> None:
    text = await call(client, "/pay/orderquery", base_fields(appid=OTHER_APPID, out_trade_no="T1"))
    assert_business_fail(text, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配", appid=OTHER_APPID)


# -- paying (what the pay sheet and the control API do) ------------------------------------------------


async def test_paying_moves_the_amount_out_of_the_payers_wallet(client: Client) -> None:
    before = client.app[ACCOUNTS].user("alice")
    await create(client, total_fee=250)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    after = client.app[ACCOUNTS].user("alice")
    assert before is not None
    assert after is not None
    assert before.balance - after.balance == 250


async def test_paying_as_notenough_is_notenough_and_leaves_the_order_notpay(client: Client) -> None:
    await create(client)
    with pytest.raises(errors.NotEnough):
        pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.NOTENOUGH)
    assert (await query(client, out_trade_no="T20240101000001"))["trade_state"] == "NOTPAY"


async def test_amount_9921_is_notenough_whatever_the_balance(client: Client) -> None:
    await create(client, total_fee=9921)
    with pytest.raises(errors.NotEnough):
        pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)


async def test_a_balance_below_the_amount_is_notenough(aiohttp_client: ClientFactory, clock: ManualClock) -> None:
    config = make_config(users=(User(id="alice", nickname="A", balance=99),))
    client = await client_for(aiohttp_client, config, clock)
    await create(client)
    with pytest.raises(errors.NotEnough):
        pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)


def test_notenough_is_a_business_error() -> None:
    assert (errors.NotEnough.err_code, errors.NotEnough.err_code_des, errors.NotEnough.protocol) == (
        "NOTENOUGH",
        "余额不足",
        False,
    )


async def test_paying_twice_is_orderpaid(client: Client) -> None:
    await create(client)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    with pytest.raises(errors.OrderPaid):
        pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)


async def test_paying_as_another_user_than_the_openids_is_refused(client: Client) -> None:
    await create(client)
    with pytest.raises(errors.InvalidRequest):
        pay_service(client).pay(MCH_ID, "T20240101000001", "bob", Outcome.SUCCESS)


async def test_a_native_order_is_paid_by_the_chosen_user(client: Client) -> None:
    await create(client, trade_type="NATIVE", openid=None, product_id="P1")
    pay_service(client).pay(MCH_ID, "T20240101000001", "bob", Outcome.SUCCESS)
    assert (await query(client, out_trade_no="T20240101000001"))["openid"] == openid("bob")


# -- closeorder -------------------------------------------------------------------------------------------


async def test_closeorder_answers_exactly_ok(client: Client) -> None:
    await create(client)
    fields = assert_success(await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001")))
    assert set(fields) == {
        "return_code",
        "return_msg",
        "appid",
        "mch_id",
        "nonce_str",
        "result_code",
        "result_msg",
        "sign",
    }
    assert fields["result_msg"] == "OK"


async def test_closed_order_reads_closed(client: Client) -> None:
    await create(client)
    await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001"))
    fields = await query(client, out_trade_no="T20240101000001")
    assert (fields["trade_state"], fields["trade_state_desc"]) == ("CLOSED", "已关闭")


async def test_paying_a_closed_order_is_orderclosed(client: Client) -> None:
    await create(client)
    await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001"))
    with pytest.raises(errors.OrderClosed):
        pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_closeorder_twice_is_orderclosed(client: Client, sign_type: str) -> None:
    await create(client)
    await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001"))
    text = await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001"), sign_type=sign_type)
    assert_business_fail(text, "ORDERCLOSED", "订单已关闭", sign_type=sign_type)


async def test_closeorder_of_a_paid_order_is_orderpaid(client: Client) -> None:
    await create(client)
    pay_service(client).pay(MCH_ID, "T20240101000001", None, Outcome.SUCCESS)
    text = await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001"))
    assert_business_fail(text, "ORDERPAID", "商户订单已支付")


async def test_closeorder_of_an_unknown_order_is_ordernotexist(client: Client) -> None:
    text = await call(client, "/pay/closeorder", base_fields(out_trade_no="NOPE"))
    assert_business_fail(text, "ORDERNOTEXIST", "订单不存在")


async def test_closeorder_without_out_trade_no_is_lack_params(client: Client) -> None:
    assert_business_fail(await call(client, "/pay/closeorder", base_fields()), "LACK_PARAMS", "缺少参数")


async def test_closeorder_of_an_expired_order_closes_it(client: Client, clock: ManualClock) -> None:
    await create(client, time_expire=times.compact(clock.now() + 300))
    clock.advance(400)
    assert_success(await call(client, "/pay/closeorder", base_fields(out_trade_no="T20240101000001")))


# -- protocol-level faults -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_get_is_require_post_method(client: Client, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert_protocol_fail(await resp.text(), "请使用post方法")


async def test_get_on_a_sandbox_path_is_require_post_method(client: Client) -> None:
    resp = await client.get("/sandboxnew/pay/getsignkey")
    assert_protocol_fail(await resp.text(), "请使用post方法")


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n"])
async def test_an_empty_body_is_post_data_empty(client: Client, body: bytes) -> None:
    status, text = await post_raw(client, "/pay/unifiedorder", body)
    assert status == 200
    assert_protocol_fail(text, "post数据为空")


async def test_invalid_utf8_is_not_utf8(client: Client) -> None:
    status, text = await post_raw(client, "/pay/unifiedorder", b"<xml><body>\xb2\xe2\xca\xd4</body></xml>")
    assert status == 200
    assert_protocol_fail(text, "编码格式错误")


async def test_a_gbk_body_is_not_utf8(client: Client) -> None:
    body = xml(sign(order_fields(), MCH_KEY)).decode().encode("gbk")
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "编码格式错误")


async def test_an_unknown_mch_id_is_mchid_not_exist(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(mch_id="1234567890"))
    assert_protocol_fail(text, "MCHID不存在")


async def test_a_missing_mch_id_is_mchid_not_exist(client: Client) -> None:
    text = await call(client, "/pay/orderquery", base_fields(mch_id=None, out_trade_no="T1"))
    assert_protocol_fail(text, "MCHID不存在")


async def test_an_empty_xml_is_mchid_not_exist(client: Client) -> None:
    assert_protocol_fail((await post_raw(client, "/pay/orderquery", b"<xml></xml>"))[1], "MCHID不存在")


async def test_a_body_over_1_mib_is_413_with_a_fail_body(client: Client) -> None:
    resp = await client.post(
        "/pay/unifiedorder",
        data=io.BytesIO(b"<xml>" + b" " * MAX_BODY + b"</xml>"),
        headers={"Content-Type": "text/xml"},
    )
    assert resp.status == 413
    assert_protocol_fail(await resp.text(), "XML格式错误")


async def test_the_server_keeps_serving_after_a_body_over_1_mib(client: Client) -> None:
    await client.post("/pay/unifiedorder", data=io.BytesIO(b"x" * (MAX_BODY + 1)))
    await create(client)


async def test_an_unexpected_failure_is_system_busy(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(PayService, "place_order", boom)
    status, text = await post(client, "/pay/unifiedorder", order_fields())
    assert status == 200
    assert_protocol_fail(text, "系统繁忙,请稍后再试")


# -- signatures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_a_wrong_key_is_signerror(client: Client, sign_type: str) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(), key="k" * 32, sign_type=sign_type)
    assert_protocol_fail(text, "签名错误")


async def test_a_missing_sign_is_signerror(client: Client) -> None:
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", xml(order_fields())))[1], "签名错误")


async def test_an_hmac_sign_without_sign_type_is_signerror(client: Client) -> None:
    fields = order_fields()
    body = xml({**fields, "sign": signing.v2_sign(fields, MCH_KEY, HMAC)})
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "签名错误")


async def test_an_md5_sign_declared_hmac_is_signerror(client: Client) -> None:
    fields = {**order_fields(), "sign_type": HMAC}
    body = xml({**fields, "sign": signing.v2_sign(fields, MCH_KEY, MD5)})
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "签名错误")


@pytest.mark.parametrize("sign_type", ["SHA256", "hmac-sha256", "md5", "RSA"])
async def test_an_unknown_sign_type_is_signerror(client: Client, sign_type: str) -> None:
    fields = {**order_fields(), "sign_type": sign_type}
    body = xml({**fields, "sign": signing.v2_sign(fields, MCH_KEY, MD5)})
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "签名错误")


async def test_a_lowercase_sign_is_signerror(client: Client) -> None:
    signed = sign(order_fields(), MCH_KEY)
    body = xml({**signed, "sign": signed["sign"].lower()})
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "签名错误")


async def test_a_field_changed_after_signing_is_signerror(client: Client) -> None:
    signed = sign(order_fields(), MCH_KEY)
    body = xml({**signed, "total_fee": 1})
    assert_protocol_fail((await post_raw(client, "/pay/unifiedorder", body))[1], "签名错误")


async def test_the_sandbox_key_on_a_normal_path_is_signerror(client: Client) -> None:
    assert_protocol_fail(await call(client, "/pay/unifiedorder", order_fields(), key=SANDBOX_KEY), "签名错误")


async def test_another_merchants_key_is_signerror(aiohttp_client: ClientFactory, clock: ManualClock) -> None:
    client = await client_for(
        aiohttp_client, make_config(merchants=(defaults.default_merchant(), other_merchant())), clock
    )
    assert_protocol_fail(await call(client, "/pay/unifiedorder", order_fields(), key=OTHER_MCH_KEY), "签名错误")


async def test_signature_is_checked_before_business_rules(client: Client) -> None:
    text = await call(client, "/pay/unifiedorder", order_fields(body=None), key="k" * 32)
    assert_protocol_fail(text, "签名错误")


async def test_sign_covers_every_non_empty_field_including_unknown_ones(client: Client) -> None:
    assert_success(await call(client, "/pay/unifiedorder", order_fields(scene_info='{"h5_info": {}}', x_custom="1")))


async def test_empty_fields_are_left_out_of_the_sign(client: Client) -> None:
    fields = order_fields()
    signed = sign(fields, MCH_KEY)
    body = xml({**fields, "device_info": "", "sign": signed["sign"]})
    assert_success((await post_raw(client, "/pay/unifiedorder", body))[1])


# -- the journal ----------------------------------------------------------------------------------------


def last(seen: list[Exchange]) -> Exchange:
    assert seen
    return seen[-1]


async def test_journal_records_signerror(journaled: Client, seen: list[Exchange]) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key="k" * 32)
    assert (last(seen).wire_code, last(seen).error, last(seen).status) == ("SIGNERROR", "SignError", 200)


@pytest.mark.parametrize(
    ("body", "wire_code"),
    [
        (b"", "POST_DATA_EMPTY"),
        (b"<xml><a>\xff</a></xml>", "NOT_UTF8"),
        (b"<xml><a>1</a>", "XML_FORMAT_ERROR"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><xml><a>&a;</a></xml>', "XML_FORMAT_ERROR"),
        (b"<xml><mch_id>1</mch_id></xml>", "MCHID_NOT_EXIST"),
    ],
)
async def test_journal_records_the_protocol_fault(
    journaled: Client, seen: list[Exchange], body: bytes, wire_code: str
) -> None:
    await post_raw(journaled, "/pay/unifiedorder", body)
    assert last(seen).wire_code == wire_code


async def test_journal_records_require_post_method(journaled: Client, seen: list[Exchange]) -> None:
    await journaled.get("/pay/orderquery")
    assert (last(seen).wire_code, last(seen).method) == ("REQUIRE_POST_METHOD", "GET")


@pytest.mark.parametrize(
    ("overrides", "wire_code"),
    [
        ({"body": None}, "LACK_PARAMS"),
        ({"appid": "wx00000000000000ff"}, "APPID_NOT_EXIST"),
        ({"appid": OTHER_APPID}, "APPID_MCHID_NOT_MATCH"),
        ({"total_fee": "x"}, "INVALID_REQUEST"),
        ({"total_fee": 9911}, "SYSTEMERROR"),
    ],
)
async def test_journal_records_the_business_fault(
    journaled: Client, seen: list[Exchange], overrides: dict[str, Any], wire_code: str
) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(**overrides))
    assert last(seen).wire_code == wire_code


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"total_fee": str(2**63)}, "total_fee must be a positive integer of fen no greater than 2147483647"),
        ({"total_fee": "9" * 5000}, "(5000 characters)"),
        ({"total_fee": 100_000_001}, "total_fee 100000001 is above the single-payment limit of merchant 1900000109"),
        ({"body": "b" * 129}, "body is 129 characters long; at most 128"),
        ({"attach": "a" * 128}, "attach is 128 characters long; at most 127"),
        ({"spbill_create_ip": "localhost"}, "spbill_create_ip must be an IPv4 or IPv6 address, got 'localhost'"),
        ({"out_trade_no": "T@1"}, "out_trade_no 'T@1': at most 32 of [0-9A-Za-z_-|*]; characters ['@']"),
    ],
)
async def test_journal_names_the_field_beyond_its_limit(
    journaled: Client, seen: list[Exchange], overrides: dict[str, Any], named: str
) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(**overrides))
    assert last(seen).wire_code == "INVALID_REQUEST"
    assert named in last(seen).diagnostic


async def test_journal_records_ordernotexist(journaled: Client, seen: list[Exchange]) -> None:
    await call(journaled, "/pay/orderquery", base_fields(out_trade_no="NOPE"))
    assert last(seen).wire_code == "ORDERNOTEXIST"


async def test_journal_records_body_too_large(journaled: Client, seen: list[Exchange]) -> None:
    await journaled.post("/pay/unifiedorder", data=io.BytesIO(b"x" * (MAX_BODY + 1)))
    assert (last(seen).wire_code, last(seen).status) == ("XML_FORMAT_ERROR", 413)


async def test_journal_records_an_unexpected_failure_as_systemerror(
    journaled: Client, seen: list[Exchange], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(PayService, "find", boom)
    await call(journaled, "/pay/orderquery", base_fields(out_trade_no="T1"))
    assert (last(seen).wire_code, last(seen).error) == ("SYSTEMERROR", "PaySystemBusy")
    assert "unexpected RuntimeError: boom" in last(seen).diagnostic


async def test_journal_records_a_success_without_code(journaled: Client, seen: list[Exchange]) -> None:
    await create(journaled)
    assert (last(seen).wire_code, last(seen).error, last(seen).diagnostic) == (None, None, "")


async def test_journal_records_the_parsed_fields(journaled: Client, seen: list[Exchange]) -> None:
    await create(journaled)
    assert last(seen).fields == {k: str(v) for k, v in sign(order_fields(), MCH_KEY).items()}


async def test_signerror_diagnostic_shows_the_sorted_string_to_sign_with_the_key_masked(
    journaled: Client, seen: list[Exchange]
) -> None:
    fields = order_fields()
    await call(journaled, "/pay/unifiedorder", fields, key="k" * 32)
    expected = signing.v2_string_to_sign({k: str(v) for k, v in fields.items()}, MCH_KEY)
    masked = expected.replace(MCH_KEY, MCH_KEY[:4] + "…" + MCH_KEY[-4:])
    assert masked in last(seen).diagnostic


async def test_signerror_diagnostic_never_contains_the_key(journaled: Client, seen: list[Exchange]) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key="k" * 32)
    assert MCH_KEY not in last(seen).diagnostic


async def test_signerror_diagnostic_names_the_algorithm(journaled: Client, seen: list[Exchange]) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key="k" * 32, sign_type=HMAC)
    assert "does not verify with HMAC-SHA256" in last(seen).diagnostic


async def test_signerror_diagnostic_gives_the_expected_sign(journaled: Client, seen: list[Exchange]) -> None:
    fields = order_fields()
    await call(journaled, "/pay/unifiedorder", fields, key="k" * 32)
    assert f"expected {signing.v2_sign({k: str(v) for k, v in fields.items()}, MCH_KEY)}" in last(seen).diagnostic


async def test_signerror_diagnostic_says_an_undeclared_hmac_sign_verifies_with_hmac(
    journaled: Client, seen: list[Exchange]
) -> None:
    fields = order_fields()
    await post_raw(journaled, "/pay/unifiedorder", xml({**fields, "sign": signing.v2_sign(fields, MCH_KEY, HMAC)}))
    assert "It verifies with HMAC-SHA256" in last(seen).diagnostic


async def test_signerror_diagnostic_says_a_declared_hmac_md5_sign_verifies_with_md5(
    journaled: Client, seen: list[Exchange]
) -> None:
    fields = {**order_fields(), "sign_type": HMAC}
    await post_raw(journaled, "/pay/unifiedorder", xml({**fields, "sign": signing.v2_sign(fields, MCH_KEY, MD5)}))
    assert "It verifies with MD5" in last(seen).diagnostic


async def test_signerror_diagnostic_points_out_a_lowercase_sign(journaled: Client, seen: list[Exchange]) -> None:
    signed = sign(order_fields(), MCH_KEY)
    await post_raw(journaled, "/pay/unifiedorder", xml({**signed, "sign": signed["sign"].lower()}))
    assert "lowercase" in last(seen).diagnostic


async def test_signerror_diagnostic_points_out_the_sandbox_key_on_a_normal_path(
    journaled: Client, seen: list[Exchange]
) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key=SANDBOX_KEY)
    assert "It verifies with the sandbox_signkey from getsignkey" in last(seen).diagnostic


async def test_signerror_diagnostic_points_out_the_real_key_on_a_sandbox_path(
    journaled: Client, seen: list[Exchange]
) -> None:
    await call(journaled, "/sandboxnew/pay/unifiedorder", order_fields(), key=MCH_KEY)
    assert "It verifies with the merchant's API key" in last(seen).diagnostic


async def test_signerror_diagnostic_points_out_another_merchants_key(
    aiohttp_client: ClientFactory, clock: ManualClock
) -> None:
    seen: list[Exchange] = []
    config = make_config(merchants=(defaults.default_merchant(), other_merchant()))
    client = await aiohttp_client(mock_wechat.create_app(config, clock=clock, ids=Ids(7), observers=[seen.append]))
    await call(client, "/pay/unifiedorder", order_fields(), key=OTHER_MCH_KEY)
    assert f"It verifies with the key of merchant {OTHER_MCH_ID}" in last(seen).diagnostic


async def test_signerror_diagnostic_gives_no_hint_for_a_plain_wrong_key(
    journaled: Client, seen: list[Exchange]
) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key="k" * 32)
    assert "It verifies" not in last(seen).diagnostic
    assert "lowercase" not in last(seen).diagnostic


async def test_a_missing_sign_is_diagnosed(journaled: Client, seen: list[Exchange]) -> None:
    await post_raw(journaled, "/pay/unifiedorder", xml(order_fields()))
    assert (last(seen).wire_code, last(seen).diagnostic) == ("SIGNERROR", "the sign parameter is missing")


# -- sandbox prefixes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sandboxnew/pay/getsignkey", "/xdc/apiv2getsignkey/sign/getsignkey"])
async def test_getsignkey_answers_exactly_the_sandbox_key(client: Client, path: str) -> None:
    text = await call(client, path, {"mch_id": MCH_ID, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"})
    assert parse(text) == {
        "return_code": "SUCCESS",
        "return_msg": "ok",
        "mch_id": MCH_ID,
        "sandbox_signkey": SANDBOX_KEY,
    }


def test_the_sandbox_key_is_32_hex_and_not_the_real_key() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", SANDBOX_KEY)
    assert SANDBOX_KEY != MCH_KEY


async def test_getsignkey_with_a_wrong_sign_is_signerror(client: Client) -> None:
    text = await call(client, "/sandboxnew/pay/getsignkey", {"mch_id": MCH_ID, "nonce_str": "n"}, key="k" * 32)
    assert_protocol_fail(text, "签名错误")


async def test_getsignkey_signed_with_the_sandbox_key_is_signerror(client: Client) -> None:
    text = await call(client, "/sandboxnew/pay/getsignkey", {"mch_id": MCH_ID, "nonce_str": "n"}, key=SANDBOX_KEY)
    assert_protocol_fail(text, "签名错误")


async def test_getsignkey_of_an_unknown_merchant_is_mchid_not_exist(client: Client) -> None:
    text = await call(client, "/xdc/apiv2getsignkey/sign/getsignkey", {"mch_id": "1", "nonce_str": "n"})
    assert_protocol_fail(text, "MCHID不存在")


@pytest.mark.parametrize("prefix", ["/sandboxnew", "/xdc/apiv2sandbox"])
@pytest.mark.parametrize("sign_type", SIGN_TYPES)
async def test_sandbox_unifiedorder_is_signed_with_the_sandbox_key(client: Client, prefix: str, sign_type: str) -> None:
    text = await call(client, prefix + "/pay/unifiedorder", order_fields(), key=SANDBOX_KEY, sign_type=sign_type)
    assert set(assert_success(text, key=SANDBOX_KEY, sign_type=sign_type)) == UNIFIEDORDER_KEYS


@pytest.mark.parametrize("prefix", ["/sandboxnew", "/xdc/apiv2sandbox"])
async def test_sandbox_path_signed_with_the_real_key_is_signerror(client: Client, prefix: str) -> None:
    assert_protocol_fail(await call(client, prefix + "/pay/unifiedorder", order_fields()), "签名错误")


async def test_sandbox_business_fault_is_signed_with_the_sandbox_key(client: Client) -> None:
    text = await call(client, "/sandboxnew/pay/orderquery", base_fields(out_trade_no="NOPE"), key=SANDBOX_KEY)
    assert_business_fail(text, "ORDERNOTEXIST", "订单不存在", key=SANDBOX_KEY)


@pytest.mark.parametrize("prefix", ["/sandboxnew", "/xdc/apiv2sandbox"])
@pytest.mark.parametrize("total_fee", [101, 551])
async def test_sandbox_acceptance_amounts_are_paid_at_once(client: Client, prefix: str, total_fee: int) -> None:
    await call(client, prefix + "/pay/unifiedorder", order_fields(total_fee=total_fee), key=SANDBOX_KEY)
    text = await call(client, prefix + "/pay/orderquery", base_fields(out_trade_no="T20240101000001"), key=SANDBOX_KEY)
    fields = assert_success(text, key=SANDBOX_KEY)
    assert (fields["trade_state"], fields["total_fee"], fields["cash_fee"]) == (
        "SUCCESS",
        str(total_fee),
        str(total_fee),
    )


async def test_sandbox_native_acceptance_amount_is_paid_by_a_default_user(client: Client) -> None:
    fields = order_fields(total_fee=551, trade_type="NATIVE", openid=None, product_id="P")
    await call(client, "/sandboxnew/pay/unifiedorder", fields, key=SANDBOX_KEY)
    text = await call(
        client, "/sandboxnew/pay/orderquery", base_fields(out_trade_no="T20240101000001"), key=SANDBOX_KEY
    )
    assert assert_success(text, key=SANDBOX_KEY)["trade_state"] == "SUCCESS"


@pytest.mark.parametrize("total_fee", [101, 551])
async def test_acceptance_amounts_wait_for_the_payer_on_normal_paths(client: Client, total_fee: int) -> None:
    await create(client, total_fee=total_fee)
    assert (await query(client, out_trade_no="T20240101000001"))["trade_state"] == "NOTPAY"


async def test_sandbox_other_amounts_wait_for_the_payer(client: Client) -> None:
    await call(client, "/sandboxnew/pay/unifiedorder", order_fields(total_fee=100), key=SANDBOX_KEY)
    text = await call(
        client, "/sandboxnew/pay/orderquery", base_fields(out_trade_no="T20240101000001"), key=SANDBOX_KEY
    )
    assert assert_success(text, key=SANDBOX_KEY)["trade_state"] == "NOTPAY"


async def test_sandbox_closeorder_works(client: Client) -> None:
    await call(client, "/xdc/apiv2sandbox/pay/unifiedorder", order_fields(), key=SANDBOX_KEY)
    fields = base_fields(out_trade_no="T20240101000001")
    assert_success(await call(client, "/xdc/apiv2sandbox/pay/closeorder", fields, key=SANDBOX_KEY), key=SANDBOX_KEY)


# -- hostile input on the wire ---------------------------------------------------------------------------

HOSTILE: list[tuple[str, bytes, str]] = [
    (
        "xxe",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><body>&x;</body></xml>',
        "XML格式错误",
    ),
    (
        "billion_laughs",
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><body>&lol3;</body></xml>',
        "XML格式错误",
    ),
    ("parameter_entity", b'<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><xml/>', "XML格式错误"),
    ("nested", b"<xml><mch_id>1900000109</mch_id><detail><goods_detail>1</goods_detail></detail></xml>", "XML格式错误"),
    ("duplicate", b"<xml><mch_id>1900000109</mch_id><mch_id>1900000109</mch_id></xml>", "XML格式错误"),
    ("non_xml_root", b"<request><mch_id>1900000109</mch_id></request>", "XML格式错误"),
    ("json", b'{"mch_id": "1900000109"}', "XML格式错误"),
    ("form", b"mch_id=1900000109&sign=X", "XML格式错误"),
    ("unclosed", b"<xml><mch_id>1900000109</mch_id>", "XML格式错误"),
    ("text_in_root", b"<xml>oops<mch_id>1900000109</mch_id></xml>", "XML格式错误"),
    ("empty", b"", "post数据为空"),
    ("invalid_utf8", b"<xml><mch_id>\xc3\x28</mch_id></xml>", "编码格式错误"),
]


@pytest.mark.parametrize(("name", "body", "return_msg"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_body_is_refused_at_protocol_level(
    client: Client, name: str, body: bytes, return_msg: str
) -> None:
    status, text = await post_raw(client, "/pay/unifiedorder", body)
    assert status == 200
    assert_protocol_fail(text, return_msg)


@pytest.mark.parametrize(("name", "body", "return_msg"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_the_server_keeps_serving_after_a_hostile_body(
    client: Client, name: str, body: bytes, return_msg: str
) -> None:
    await post_raw(client, "/pay/unifiedorder", body)
    await create(client)


async def test_a_cdata_terminator_in_a_value_round_trips_through_the_sandbox(client: Client) -> None:
    await create(client, attach="a]]>b<c>&d")
    fields = await query(client, out_trade_no="T20240101000001")
    assert fields["attach"] == "a]]>b<c>&d"


def test_a_renewed_order_no_longer_answers_to_its_old_prepay_id() -> None:
    from mock_wechat.clock import ManualClock
    from mock_wechat.ids import Ids
    from mock_wechat.keys import PAY
    from tests.conftest import make_config

    clock = ManualClock()
    pay = mock_wechat.create_app(make_config(), clock=clock, ids=Ids(3))[PAY]
    merchant = pay.merchant(MCH_ID)
    signer = Signer(merchant, MCH_KEY, MD5, sandbox=False)
    fields = {k: str(v) for k, v in order_fields().items()}
    first = pay.place_order(v2_dialect.order_request(pay, signer, fields))
    clock.advance(7201)
    second = pay.place_order(v2_dialect.order_request(pay, signer, fields))
    assert second.prepay_id != first.prepay_id
    assert pay.by_prepay_id(first.prepay_id) is None
    assert pay.by_prepay_id(second.prepay_id) == second


async def test_signerror_with_the_other_key_compares_the_strings_to_sign(
    journaled: Client, seen: list[Exchange]
) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key=SANDBOX_KEY)
    comparison = last(seen).comparison
    assert comparison is not None
    assert comparison.how == "signed with the other key of this merchant (MD5)"
    assert comparison.separator == "&"
    expected, received = comparison.expected.split("&"), comparison.received.split("&")
    assert expected[:-1] == received[:-1]
    assert (expected[-1], received[-1]) == (f"key={mask(MCH_KEY)}", f"key={mask(SANDBOX_KEY)}")


async def test_signerror_with_a_plain_wrong_key_has_nothing_to_compare(journaled: Client, seen: list[Exchange]) -> None:
    await call(journaled, "/pay/unifiedorder", order_fields(), key="x" * 32)
    assert last(seen).comparison is None
