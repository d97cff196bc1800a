"""wx.tenpay.com's H5 cashier at /cgi-bin/mmpayweb-bin/checkmweb: WeChat's checks and error pages, then the
pay sheet of the order (v2 mweb_url and v3 h5_url alike)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat.clock import ManualClock
from mock_wechat.config import WeChatConfig
from mock_wechat.ids import Ids
from mock_wechat.pay import v2_xml
from mock_wechat.store import SQLiteStore
from tests.conftest import ClientFactory, make_config
from tests.pay_helpers import order_fields, post
from tests.pay_v3_helpers import call, order_body

Client = TestClient[web.Request, web.Application]
SHOP = "http://127.0.0.1:5000/checkout/1"
PHONE_BROWSER = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/116.0 Mobile Safari/537.36"


def shop_config(**merchant: Any) -> WeChatConfig:
    """The test merchant with real H5 rules: shop.example.com is its only H5 pay domain (loopback not trusted)."""
    config = make_config()
    values: dict[str, Any] = {
        "h5_domains": ("shop.example.com",),
        "notify_hosts": ("127.0.0.1:9",),
        "trust_loopback": False,
    }
    values.update(merchant)
    return replace(config, merchants=(replace(config.merchants[0], **values),))


async def app_client(aiohttp_client: ClientFactory, config: WeChatConfig, clock: ManualClock) -> Client:
    return await aiohttp_client(mock_wechat.create_app(config, store=SQLiteStore.in_memory(), clock=clock, ids=Ids(7)))


@pytest.fixture
async def shop(aiohttp_client: ClientFactory, clock: ManualClock) -> Client:
    return await app_client(aiohttp_client, shop_config(), clock)


async def mweb_url(client: Client, **fields: Any) -> str:
    """A v2 MWEB unifiedorder (payer IP 127.0.0.1); the path and query of its mweb_url."""
    order = order_fields(trade_type="MWEB", openid=None, **fields)
    _, text = await post(client, "/pay/unifiedorder", order)
    url = v2_xml.parse(text.encode())["mweb_url"]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def open_cashier(
    client: Client, path: str, referer: str | None = "https://shop.example.com/checkout", agent: str = PHONE_BROWSER
) -> tuple[int, str]:
    headers = {"User-Agent": agent}
    if referer is not None:
        headers["Referer"] = referer
    resp = await client.get(path, headers=headers)
    return resp.status, await resp.text()


def error_text(page: str) -> str:
    return page.split('data-testid="wechat-error-text">', 1)[1].split("<", 1)[0]


def diagnostic(page: str) -> str:
    return page.split("<strong>wechat-sandbox:</strong> ", 1)[1].split("</div>", 1)[0]


async def test_a_page_under_an_h5_pay_domain_opens_the_cashier(shop: Client) -> None:
    status, page = await open_cashier(shop, await mweb_url(shop))
    assert status == 200
    assert 'data-testid="wechat-cashier-amount">¥1.00</h2>' in page


async def test_a_subdomain_of_an_h5_pay_domain_opens_the_cashier(shop: Client) -> None:
    _, page = await open_cashier(shop, await mweb_url(shop), referer="https://m.shop.example.com/")
    assert 'data-testid="wechat-cashier"' in page


async def test_no_referer_is_wechats_merchant_parameter_error(shop: Client) -> None:
    _, page = await open_cashier(shop, await mweb_url(shop), referer=None)
    assert error_text(page) == "商家参数格式有误，请联系商家解决"
    assert diagnostic(page).startswith("the request has no Referer")


async def test_a_referer_outside_the_h5_pay_domains_names_the_setting(shop: Client) -> None:
    _, page = await open_cashier(shop, await mweb_url(shop), referer=SHOP)
    assert error_text(page) == "商家存在未配置的参数，请联系商家解决"
    assert diagnostic(page) == (
        f"the Referer {SHOP} is not under an H5 pay domain (H5支付域名; the setting h5_domains) of merchant "
        "1900000109: shop.example.com"
    )


async def test_a_redirect_url_outside_the_h5_pay_domains_is_note_sevens_page(shop: Client) -> None:
    path = await mweb_url(shop) + "&redirect_url=" + quote("https://evil.example.net/done", safe="")
    _, page = await open_cashier(shop, path)
    assert error_text(page) == "redirectUrl不正确"
    assert diagnostic(page).startswith(
        "redirect_url &#39;https://evil.example.net/done&#39;: its host evil.example.net is not under an H5 pay domain"
    )


async def test_a_redirect_url_under_an_h5_pay_domain_is_where_the_page_goes_after_paying(shop: Client) -> None:
    path = await mweb_url(shop) + "&redirect_url=" + quote("https://shop.example.com/result?o=1", safe="")
    _, page = await open_cashier(shop, path)
    assert 'var redirectUrl = "https://shop.example.com/result?o=1";' in page


async def test_the_link_expires_five_minutes_after_unifiedorder_gave_it(shop: Client, clock: ManualClock) -> None:
    path = await mweb_url(shop)
    clock.advance(301)
    _, page = await open_cashier(shop, path)
    assert error_text(page) == "支付请求已失效，请重新发起支付"


async def test_inside_wechat_the_cashier_sends_the_payer_out(shop: Client) -> None:
    agent = PHONE_BROWSER + " MicroMessenger/8.0.47.2560(0x28002F30)"
    _, page = await open_cashier(shop, await mweb_url(shop), agent=agent)
    assert error_text(page) == "请在微信外打开订单，进行支付"


async def test_an_order_placed_for_another_ip_fails_the_network_check(shop: Client) -> None:
    _, page = await open_cashier(shop, await mweb_url(shop, spbill_create_ip="203.0.113.9"))
    assert error_text(page) == "网络环境未能通过安全验证，请稍后再试"
    assert "spbill_create_ip 203.0.113.9" in diagnostic(page)


async def test_a_jsapi_prepay_id_is_no_cashier_link(shop: Client) -> None:
    order = order_fields(out_trade_no="J1")
    _, text = await post(shop, "/pay/unifiedorder", order)
    prepay_id = v2_xml.parse(text.encode())["prepay_id"]
    _, page = await open_cashier(shop, f"/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package=1700000000")
    assert error_text(page) == "商家参数格式有误，请联系商家解决"


async def test_a_v3_h5_url_opens_the_cashier_too(shop: Client, clock: ManualClock) -> None:
    body = order_body(payer=None, scene_info={"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}})
    _, _, text = await call(shop, "POST", "/v3/pay/transactions/h5", body, int(clock.now()))
    parts = urlsplit(json.loads(text)["h5_url"])
    status, page = await open_cashier(shop, f"{parts.path}?{parts.query}")
    assert (status, 'data-testid="wechat-cashier"' in page) == (200, True)


async def test_the_cashier_opens_the_pay_sheet_for_the_chosen_user_and_it_pays(shop: Client) -> None:
    query = dict(p.split("=", 1) for p in (await mweb_url(shop)).split("?", 1)[1].split("&"))
    resp = await shop.post("/_sandbox/bridge/cashier/sheet", json={**query, "user": "bob"})
    sheet = (await resp.json())["sheet"]
    assert (sheet["amount"], sheet["user"]["id"]) == ("1.00", "bob")
    paid = await shop.post(f"/_sandbox/bridge/sheet/{sheet['sheet_id']}/confirm", json={"pin": "123456"})
    assert (await paid.json())["result"] == {"err_msg": "get_brand_wcpay_request:ok"}


async def test_the_v2_answer_on_wechats_host_keeps_wx_tenpay_com(shop: Client) -> None:
    order = order_fields(trade_type="MWEB", openid=None)
    from tests.pay_helpers import signed_xml

    resp = await shop.post(
        "/pay/unifiedorder", data=signed_xml(order, "sandboxkeysandboxkeysandboxkey01"),
        headers={"Host": "api.mch.weixin.qq.com"},
    )  # fmt: skip
    assert v2_xml.parse(await resp.read())["mweb_url"].startswith(
        "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id="
    )
