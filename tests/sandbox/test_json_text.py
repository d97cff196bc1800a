"""JSON the sandbox shows people keeps Chinese and `…` as themselves: UTF-8, `charset=utf-8`, no `\\u` escapes."""

from __future__ import annotations

from aiohttp import ClientResponse

from sandbox import defaults
from tests.sandbox.test_control_pay import Client, Listener, api, create_order, listener, pay

__all__ = ["api", "listener"]  # fixtures used by name

MCH_ID = defaults.DEFAULT_MCH_ID


async def readable(resp: ClientResponse, status: int = 200) -> str:
    """The raw body, after checking it is UTF-8 JSON with nothing written as a `\\uXXXX` escape."""
    text = (await resp.read()).decode("utf-8")
    assert resp.status == status, text
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "\\u" not in text
    return text


async def test_the_users_list_shows_nicknames_as_written(api: Client) -> None:
    text = await readable(await api.get("/_sandbox/api/users"))
    assert '"nickname": "爱丽丝"' in text
    assert '"province": "广东"' in text


async def test_the_config_shows_account_names_as_written(api: Client) -> None:
    text = await readable(await api.get("/_sandbox/api/config"))
    assert defaults.default_account().name in text


async def test_orders_show_their_body_and_state_as_written(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    text = await readable(await api.get("/_sandbox/api/orders"))
    assert '"body": "沙箱小店-测试商品"' in text
    assert '"trade_state_desc": "订单未支付"' in text


async def test_a_refusal_of_the_control_api_is_readable(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    await pay(api, "T1")
    text = await readable(await api.post(f"/_sandbox/api/orders/{MCH_ID}/T1/close", json={}), 409)
    assert "商户订单已支付" in text


async def test_the_journal_shows_fields_and_masked_secrets_as_written(api: Client, listener: Listener) -> None:
    await create_order(api, "T1", listener.url)
    text = await readable(await api.get("/_sandbox/api/journal"))
    assert "沙箱小店-测试商品" in text
    assert "…" in text  # the masked sign


async def test_an_exported_state_is_readable(api: Client) -> None:
    text = await readable(await api.get("/_sandbox/api/state"))
    assert "爱丽丝" in text


async def test_the_guards_refusal_of_a_foreign_page_is_readable(api: Client) -> None:
    resp = await api.post("/_sandbox/api/reset", headers={"Origin": "http://商店.example"})
    text = await readable(resp, 403)
    assert "a page from http://商店.example may not POST /_sandbox/api/reset" in text
