"""Concurrent identical requests against the real server: one order, one answer repeated."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.pay_helpers import MCH_ID, MCH_KEY, assert_success, order_fields, signed_xml
from tests.reliability.conftest import RunningServer

CONCURRENT = 200


async def test_200_concurrent_identical_unified_orders_make_one_order(server: RunningServer) -> None:
    body = signed_xml(order_fields(out_trade_no="CONCURRENT-1"), MCH_KEY)
    connector = aiohttp.TCPConnector(limit=CONCURRENT)
    async with aiohttp.ClientSession(server.base_url, connector=connector) as session:

        async def unifiedorder() -> tuple[int, str]:
            async with session.post("/pay/unifiedorder", data=body, headers={"Content-Type": "text/xml"}) as resp:
                return resp.status, await resp.text()

        answers = await asyncio.gather(*(unifiedorder() for _ in range(CONCURRENT)))
        async with session.get("/_sandbox/api/orders", params={"mch_id": MCH_ID}) as resp:
            orders = json.loads(await resp.text())["orders"]
    assert [status for status, _ in answers] == [200] * CONCURRENT
    prepay_ids = {assert_success(text)["prepay_id"] for _, text in answers}
    assert len(prepay_ids) == 1
    assert [(o["out_trade_no"], o["prepay_id"]) for o in orders] == [("CONCURRENT-1", prepay_ids.pop())]
    assert "Traceback" not in server.stderr()
