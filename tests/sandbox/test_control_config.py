"""The control API's configuration calls for the H5 pay domains and the scan-pay callback URL."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from sandbox import defaults
from tests.conftest import ClientFactory, make_config

Client = TestClient[web.Request, web.Application]
MERCHANT = f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}"


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def test_configure_merchant_sets_h5_domains_and_turns_loopback_trust_off(api: Client) -> None:
    resp = await api.post(MERCHANT, json={"h5_domains": ["shop.example.com"]})
    body = await resp.json()
    assert (resp.status, body["h5_domains"], body["trust_loopback"]) == (200, ["shop.example.com"], False)


async def test_configure_merchant_sets_the_scan_pay_callback_url(api: Client) -> None:
    url = "http://127.0.0.1:5000/native/callback"
    await api.post(MERCHANT, json={"native_callback_url": url})
    merchants = (await (await api.get("/_sandbox/api/config")).json())["merchants"]
    assert merchants[0]["native_callback_url"] == url


async def test_configure_merchant_refuses_a_scan_pay_callback_url_that_is_not_absolute(api: Client) -> None:
    resp = await api.post(MERCHANT, json={"native_callback_url": "/native/callback"})
    assert resp.status == 400
    assert await resp.json() == {"error": "native_callback_url: '/native/callback' is not an absolute http(s) URL"}


async def test_the_console_shows_the_h5_domains_and_the_scan_pay_callback_url(api: Client) -> None:
    await api.post(
        MERCHANT, json={"h5_domains": ["m.shop.example.com"], "native_callback_url": "http://127.0.0.1:5000/cb"}
    )
    page = await (await api.get("/_sandbox/")).text()
    assert 'data-testid="console-h5-domains">m.shop.example.com</td>' in page
    assert "<code>http://127.0.0.1:5000/cb</code>" in page
