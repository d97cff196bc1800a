"""The console's pages as the server renders them: each finds what it should, escaped; the live event stream."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.keys import PAY
from sandbox import defaults
from sandbox.console import clock_effects, duration
from tests.conftest import APPID, ClientFactory, make_config
from tests.pay_helpers import order_fields, post

Client = TestClient[web.Request, web.Application]
MCH_ID = defaults.DEFAULT_MCH_ID
HOSTILE = "<img src=x onerror=alert(1)>"


async def console(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def paid_order(client: Client, out_trade_no: str = "C1", **fields: object) -> None:
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no=out_trade_no, **fields))
    resp = await client.post(f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay", json={})
    assert resp.status == 200


async def page(client: Client, path: str) -> str:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    return await resp.text()


async def test_each_page_is_in_the_navigation(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    for path in ("/_sandbox/", "/_sandbox/users", "/_sandbox/orders", "/_sandbox/notifications", "/_sandbox/journal"):
        html = await page(client, path)
        assert f'<a href="{path}" class="here" aria-current="page">' in html
        assert '<script src="/_sandbox/static/sandbox-console.js"></script>' in html


async def test_the_order_page_has_its_history_and_actions(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await paid_order(client)
    html = await page(client, f"/_sandbox/orders/{MCH_ID}/C1")
    assert 'data-testid="history-created"' in html
    assert 'data-testid="history-call"' in html  # the unifiedorder from the journal
    assert 'data-testid="history-paid"' in html
    assert f'data-action="/_sandbox/api/orders/{MCH_ID}/C1/pay"' in html
    assert f'data-action="/_sandbox/api/orders/{MCH_ID}/C1/refund"' in html
    assert "POST /pay/unifiedorder → 200" in html


async def test_the_order_page_shows_each_notification_with_its_resend_buttons(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await paid_order(client)
    html = await page(client, f"/_sandbox/orders/{MCH_ID}/C1")
    assert 'data-testid="notification"' in html
    assert "resend twice" in html
    assert "resend with a forged sign" in html
    assert "resend with a forged ciphertext" not in html  # a v2 notification has none


async def test_an_unknown_order_page_is_404(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    assert (await client.get(f"/_sandbox/orders/{MCH_ID}/nope")).status == 404


async def test_a_value_from_a_client_is_escaped_on_every_page(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await paid_order(client, body=HOSTILE, attach=HOSTILE)
    await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": HOSTILE, "secret": "x"})
    for path in ("/_sandbox/orders", f"/_sandbox/orders/{MCH_ID}/C1", "/_sandbox/notifications", "/_sandbox/journal"):
        html = await page(client, path)
        assert HOSTILE not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in await page(client, f"/_sandbox/orders/{MCH_ID}/C1")


async def test_the_orders_page_filters(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await paid_order(client, "C1")
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="C2"))
    html = await page(client, "/_sandbox/orders?state=NOTPAY")
    assert "C2" in html
    assert ">C1<" not in html


async def test_the_journal_page_filters_and_links_each_rid(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "x"})
    await paid_order(client)
    errors_only = await page(client, "/_sandbox/journal?errors=1")
    assert "/cgi-bin/token" in errors_only
    assert "/pay/unifiedorder" not in errors_only
    by_order = await page(client, "/_sandbox/journal?out_trade_no=C1")
    assert "/pay/unifiedorder" in by_order
    assert "/cgi-bin/token" not in by_order
    assert 'id="rid-' in by_order


async def test_the_users_page_offers_edits_consents_and_this_browser(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await page(client, "/_sandbox/users")
    assert 'data-action="/_sandbox/api/users/alice" data-method="PATCH"' in html
    assert 'data-action="/_sandbox/api/users/alice/consents" data-method="DELETE"' in html
    assert "make this browser alice" in html
    assert "nobody yet" in html
    client.session.cookie_jar.update_cookies({"wxsandbox_user": "bob"})
    assert "This browser is <b>bob</b>" in await page(client, "/_sandbox/users")


async def test_forgetting_consents(aiohttp_client: ClientFactory) -> None:
    from mock_wechat.keys import ACCOUNTS

    client = await console(aiohttp_client)
    client.app[ACCOUNTS].grant_consent(APPID, "alice")
    resp = await client.delete("/_sandbox/api/users/alice/consents")
    assert await resp.json() == {"forgotten": [APPID]}
    assert await (await client.get("/_sandbox/api/users/alice/consents")).json() == {"appids": []}


async def test_forgetting_the_consents_of_nobody_is_404(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    resp = await client.delete("/_sandbox/api/users/mallory/consents")
    assert (resp.status, await resp.json()) == (404, {"error": "no user 'mallory'"})


async def test_the_clock_page_says_what_each_step_sets_off(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="C1"))
    await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "s"})
    assert clock_effects(client.app, 15) == []
    two_hours = clock_effects(client.app, 7200)
    assert "1 prepay_ids expire (2 h after unifiedorder)" in two_hours
    html = await page(client, "/_sandbox/clock")
    assert 'data-testid="advance-2h"' in html
    assert "1 prepay_ids expire (2 h after unifiedorder)" in html


def test_durations_read_as_people_say_them() -> None:
    assert [duration(s) for s in (15, 300, 7200, 90_061, 0)] == ["15 s", "5 min", "2 h", "1 d 1 h", "0 s"]


async def test_the_event_stream_tells_of_a_change(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    resp = await client.get("/_sandbox/api/events")
    assert resp.headers["Content-Type"] == "text/event-stream"
    hello = await resp.content.readuntil(b"\n\n")
    assert hello.startswith(b"retry: 1000\nevent: hello\ndata: ")
    await client.post("/_sandbox/api/users", json={"id": "dave"})
    change = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 5)
    assert change.startswith(b'event: change\ndata: {"version": ')
    resp.close()


async def test_looking_at_the_console_writes_nothing(aiohttp_client: ClientFactory) -> None:
    from sandbox.live import CHANGES

    client = await console(aiohttp_client)
    before = client.app[CHANGES].version
    for path in ("/_sandbox/", "/_sandbox/orders", "/_sandbox/journal", "/_sandbox/clock", "/_sandbox/users"):
        await page(client, path)
    assert client.app[CHANGES].version == before


async def test_a_signature_near_miss_is_shown_side_by_side(aiohttp_client: ClientFactory) -> None:
    from mock_wechat.pay.v2_dialect import sandbox_signkey

    client = await console(aiohttp_client)
    merchant = client.app[PAY].merchant(MCH_ID)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="C1"), key=sandbox_signkey(merchant))
    html = await page(client, "/_sandbox/journal?errors=1")
    assert 'data-testid="sign-comparison"' in html
    assert "signed with the other key of this merchant (MD5)" in html
    assert html.count('data-testid="sign-differs"') == 1  # only key= differs


async def test_the_overview_credentials_are_copyable(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await page(client, "/_sandbox/")
    assert f'<code data-copy title="click to copy">{APPID}</code>' in html
    assert f'<code data-copy title="click to copy">{MCH_ID}</code>' in html
