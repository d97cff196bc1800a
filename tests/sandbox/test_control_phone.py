"""Scan to pay through the control API (`POST /_sandbox/api/scan`) and the bridge's `/_sandbox/bridge/scan`:
mode 2 code_urls of v2 and v3 orders, mode 1 bizpayurls through a merchant's scan-pay callback, the refusals."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import sandbox
from mock_wechat import signing
from mock_wechat.bridge import scan
from mock_wechat.pay import v2_xml
from tests.conftest import ClientFactory, make_config
from tests.pay_helpers import APPID, MCH_ID, MCH_KEY, order_fields, post, signed_xml
from tests.pay_v3_helpers import call, order_body

Client = TestClient[web.Request, web.Application]
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def native_v2(api: Client, out_trade_no: str = "N1", **fields: Any) -> str:
    """A v2 NATIVE unifiedorder; its code_url."""
    order = order_fields(out_trade_no=out_trade_no, trade_type="NATIVE", openid=None, product_id="tea", **fields)
    status, text = await post(api, "/pay/unifiedorder", order)
    assert status == 200, text
    return v2_xml.parse(text.encode())["code_url"]


async def scan_as(api: Client, code_url: str, **body: Any) -> tuple[int, dict[str, Any]]:
    resp = await api.post("/_sandbox/api/scan", json={"code_url": code_url, **body})
    return resp.status, await resp.json()


async def test_scanning_a_v2_code_url_pays_its_order_as_the_scanning_user(api: Client) -> None:
    status, body = await scan_as(api, await native_v2(api), user="bob")
    assert status == 200
    assert (body["result"], body["order"]["trade_state"], body["order"]["user"]) == (
        {"err_msg": "get_brand_wcpay_request:ok"},
        "SUCCESS",
        "bob",
    )


async def test_scanning_a_v3_code_url_pays_its_order(api: Client) -> None:
    now = int(time.time())
    order = order_body(out_trade_no="V3NATIVE1", payer=None)
    status, _, text = await call(api, "POST", "/v3/pay/transactions/native", order, now)
    assert status == 200, text
    code_url = text.split('"code_url":"')[1].split('"')[0]
    status, body = await scan_as(api, code_url, user="alice")
    assert (status, body["order"]["out_trade_no"], body["order"]["trade_state"]) == (200, "V3NATIVE1", "SUCCESS")


async def test_scanning_with_the_outcome_notenough_leaves_the_order_unpaid(api: Client) -> None:
    status, body = await scan_as(api, await native_v2(api), outcome="notenough")
    assert (status, body["alert"], body["order"]["trade_state"]) == (200, "零钱余额不足", "NOTPAY")


async def test_a_code_url_no_order_carries_is_refused_with_the_reason(api: Client) -> None:
    status, body = await scan_as(api, "weixin://wxpay/bizpayurl?pr=0000000")
    assert status == 409
    assert body == {
        "error": "二维码已过期，请重新获取",
        "diagnostics": [
            "no NATIVE order has the code weixin://wxpay/bizpayurl?pr=0000000: its prepay_id was renewed, or the "
            "sandbox was reset (a code_url lives as long as its prepay_id, 2 hours)"
        ],
    }


async def test_a_code_url_whose_prepay_id_was_renewed_pays_nothing_and_the_new_one_pays(api: Client) -> None:
    first = await native_v2(api)
    assert (await api.post("/_sandbox/api/clock", json={"advance": 2 * 3600 + 1})).status == 200
    second = await native_v2(api)  # the same out_trade_no again, after its prepay_id's 2 hours: a new prepay_id
    assert second != first
    status, body = await scan_as(api, first)
    assert (status, body["error"]) == (409, "二维码已过期，请重新获取")
    status, body = await scan_as(api, second)
    assert (status, body["order"]["out_trade_no"], body["order"]["trade_state"]) == (200, "N1", "SUCCESS")


async def test_a_paid_code_url_cannot_be_paid_twice(api: Client) -> None:
    code_url = await native_v2(api)
    await scan_as(api, code_url)
    status, body = await scan_as(api, code_url)
    assert (status, body["error"]) == (409, "该订单已支付")


async def test_the_bridge_scan_opens_the_pay_sheet_the_phone_shows(api: Client) -> None:
    resp = await api.post("/_sandbox/bridge/scan", json={"code_url": await native_v2(api), "user": "alice"})
    body = await resp.json()
    assert (body["sheet"]["amount"], body["sheet"]["user"]["id"], body["out_trade_no"]) == ("1.00", "alice", "N1")


# -- mode 1: the merchant's scan-pay callback places the order --------------------------------------------------


def bizpayurl(product_id: str = "tea") -> str:
    fields = {"appid": APPID, "mch_id": MCH_ID, "product_id": product_id, "time_stamp": "1700000000", "nonce_str": "n"}
    return scan.mode_one_url({**fields, "sign": signing.v2_sign(fields, MCH_KEY)})


@dataclass
class Shop:
    """A merchant whose scan-pay callback places a NATIVE order with the sandbox and answers its prepay_id."""

    api: Client
    url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)
    result_code: str = "SUCCESS"

    async def callback(self, request: web.Request) -> web.Response:
        fields = v2_xml.parse(await request.read())
        self.received.append(fields)
        order = order_fields(
            out_trade_no=f"M1{len(self.received)}", trade_type="NATIVE", product_id=fields["product_id"], openid=None
        )
        _, text = await post(self.api, "/pay/unifiedorder", order)
        prepay_id = v2_xml.parse(text.encode())["prepay_id"]
        answer = {"return_code": "SUCCESS", "appid": APPID, "mch_id": MCH_ID, "nonce_str": "x"}
        answer |= {"prepay_id": prepay_id, "result_code": self.result_code, "err_code_des": "商品已下架"}
        return web.Response(body=signed_xml(answer, MCH_KEY), content_type="text/xml")


@pytest.fixture
async def shop(api: Client, aiohttp_server: ServerFactory) -> Shop:
    found = Shop(api)
    app = web.Application()
    app.router.add_post("/native/callback", found.callback)
    server = await aiohttp_server(app)
    found.url = str(server.make_url("/native/callback"))
    return found


async def register(api: Client, url: str) -> None:
    resp = await api.post(f"/_sandbox/api/merchants/{MCH_ID}", json={"native_callback_url": url})
    assert resp.status == 200


async def test_a_mode_one_code_is_paid_through_the_merchants_callback(api: Client, shop: Shop) -> None:
    await register(api, shop.url)
    status, body = await scan_as(api, bizpayurl(), user="bob")
    assert (status, body["order"]["trade_state"], body["order"]["trade_type"]) == (200, "SUCCESS", "NATIVE")
    [received] = shop.received
    assert (received["product_id"], received["is_subscribe"], received["openid"]) == (
        "tea",
        "N",
        (await (await api.get("/_sandbox/api/config")).json())["users"][1]["openids"][APPID],
    )
    assert signing.v2_verify(received, MCH_KEY)


async def test_a_mode_one_code_without_a_registered_callback_url_is_refused(api: Client, shop: Shop) -> None:
    status, body = await scan_as(api, bizpayurl())
    assert (status, body["error"], shop.received) == (409, "系统繁忙，请稍后再试", [])
    assert "native_callback_url" in body["diagnostics"][0]


async def test_a_mode_one_code_whose_callback_url_is_not_the_merchants_is_refused(api: Client, shop: Shop) -> None:
    await register(api, shop.url.replace("/native/callback", "/elsewhere"))
    status, body = await scan_as(api, bizpayurl())
    assert (status, body["error"]) == (409, "系统繁忙，请稍后再试")
    assert (
        body["diagnostics"][-1]
        == f"the scan-pay callback {shop.url.replace('/native/callback', '/elsewhere')} answered HTTP 404, not 200"
    )


async def test_a_mode_one_callback_answering_fail_shows_its_err_code_des(api: Client, shop: Shop) -> None:
    await register(api, shop.url)
    shop.result_code = "FAIL"
    status, body = await scan_as(api, bizpayurl())
    assert (status, body["error"]) == (409, "商品已下架")


async def test_a_mode_one_callback_on_a_host_outside_the_allowlist_is_never_called(api: Client, shop: Shop) -> None:
    await api.post(
        f"/_sandbox/api/merchants/{MCH_ID}",
        json={"native_callback_url": "http://shop.example.com/native/callback", "trust_loopback": False},
    )
    status, body = await scan_as(api, bizpayurl())
    assert status == 409
    assert body["diagnostics"] == [
        "the scan-pay callback URL http://shop.example.com/native/callback (native_callback_url) is on a host outside "
        "merchant 1900000109's notify allowlist ((none)): the sandbox never calls other hosts"
    ]
