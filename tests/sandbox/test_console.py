"""The console at /_sandbox/: what a developer sees, escaped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults
from tests.conftest import APPID, SECRET, ClientFactory, make_config, v3_material

Client = TestClient[web.Request, web.Application]


async def console(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def test_the_root_leads_to_the_console(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    resp = await client.get("/", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (302, "/_sandbox/")


async def test_the_console_lists_credentials_and_users_escaped(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await (await client.get("/_sandbox/")).text()
    assert APPID in html
    assert SECRET in html
    assert defaults.DEFAULT_MCH_ID in html
    users = await (await client.get("/_sandbox/users")).text()
    assert "Bob &lt;b&gt;&amp;" in users  # bob's nickname, escaped
    assert "<b>&" not in users


async def test_the_console_shows_the_journal_with_its_explanations(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "x"})
    html = await (await client.get("/_sandbox/journal")).text()
    assert "/cgi-bin/token" in html
    assert "40125" in html
    assert "secret does not match appid" in html


async def test_the_console_shows_orders_and_notifications(aiohttp_client: ClientFactory) -> None:
    from tests.pay_helpers import order_fields, post

    client = await console(aiohttp_client)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="CONSOLE-1"))
    await client.post(f"/_sandbox/api/orders/{defaults.DEFAULT_MCH_ID}/CONSOLE-1/pay", json={})
    orders = await (await client.get("/_sandbox/orders")).text()
    assert "CONSOLE-1" in orders
    assert "SUCCESS" in orders
    notifications = await (await client.get("/_sandbox/notifications")).text()
    assert "CONSOLE-1" in notifications
    assert "payment" in notifications


async def test_the_console_shows_a_balance_too_large_for_a_float(aiohttp_client: ClientFactory) -> None:
    """A balance the control API now refuses may still come from an older state: the console shows it exactly."""
    from dataclasses import replace

    from mock_wechat.keys import ACCOUNTS

    client = await console(aiohttp_client)
    accounts = client.app[ACCOUNTS]
    alice = accounts.user("alice")
    assert alice is not None
    accounts.put_user(replace(alice, balance=10**400 + 5))
    resp = await client.get("/_sandbox/users")
    assert resp.status == 200
    assert "¥1" + "0" * 398 + ".05" in await resp.text()


async def test_the_console_offers_each_merchants_api_v3_files(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await (await client.get("/_sandbox/")).text()
    keys = MerchantKeys.load(defaults.DEFAULT_MCH_ID, v3_material())
    base = f"/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}/keys"
    for name, saved_as in (
        ("private_key.pem", "apiclient_key.pem"),
        ("certificate.pem", "apiclient_cert.pem"),
        ("certificate.p12", "apiclient_cert.p12"),
        ("platform_certificate.pem", f"wechatpay_{keys.platform_serial_no}.pem"),
        ("public_key.pem", "pub_key.pem"),
        ("apiv3_key.txt", "apiv3_key.txt"),
    ):
        assert f'<a href="{base}/{name}" download="{saved_as}">{saved_as}</a>' in html
    for shown in (keys.serial_no, keys.platform_serial_no, keys.public_key_id, "public_key"):
        assert shown in html


async def test_the_console_never_shows_a_private_key_or_the_apiv3_key(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await (await client.get("/_sandbox/")).text()
    assert "PRIVATE KEY" not in html
    assert v3_material().apiv3_key not in html


async def test_the_console_says_how_to_reach_it_as_wechats_hosts(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(sandbox.create_app(make_config(), ca_dir=tmp_path))
    html = await (await client.get("/_sandbox/")).text()
    assert f"<code>HTTPS_PROXY=http://127.0.0.1:{client.port}</code>" in html
    assert '<a href="/_sandbox/api/ca.pem" download="wechat-sandbox-ca.pem">wechat-sandbox-ca.pem</a>' in html
    assert "not started: <code>wechat-sandbox serve --tls-port 8643</code>" in html


async def test_the_console_shows_the_ca_path_once_made(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(sandbox.create_app(make_config(), ca_dir=tmp_path))
    await client.get("/_sandbox/api/ca.pem")
    html = await (await client.get("/_sandbox/")).text()
    assert f"<code>{tmp_path / 'ca.pem'}</code>" in html


async def test_a_cookie_that_is_not_utf8_is_shown_escaped_on_the_users_page(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(
        b"GET /_sandbox/users HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: wxsandbox_user=\xff\r\nConnection: close\r\n\r\n"
    )
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"This browser is <b>\\udcff</b>" in body
