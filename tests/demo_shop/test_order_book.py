"""The shop's orders outlive a restart: links to them still open, WeChat's retried notifications still find them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demo_shop.keys import STATE
from demo_shop.order_book import OrderBook
from demo_shop.settings import PayApi
from demo_shop.state import PRODUCTS, Order, Session, ShopState
from sandbox import defaults
from tests.demo_shop.conftest import World, close_world, open_world

MCH_ID = defaults.DEFAULT_MCH_ID
WAIT = 5.0
"""Seconds a notification may take to arrive (it takes milliseconds; this only bounds a hang)."""


async def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "not within the wait"
        await asyncio.sleep(0.02)


def an_order(book: OrderBook) -> Order:
    state = ShopState(book)
    return state.new_order(PRODUCTS[1], Session("s", openid="o-alice", nickname="爱丽丝"))


def test_an_order_and_every_change_to_it_is_read_back_from_the_file(tmp_path: Path) -> None:
    book = OrderBook(tmp_path / "shop.sqlite3")
    order = an_order(book)
    order.mark_paid("4200000001", "notification")
    order.refunds.append({"out_refund_no": "R1", "amount": 100, "notified": "SUCCESS"})
    order.refunded = 100
    book.save(order)
    book.close()
    again = OrderBook(tmp_path / "shop.sqlite3")
    assert again.all() == [order]
    assert again.get(order.out_trade_no) == order
    assert again.get(order.out_trade_no) is not order


def test_an_order_keeps_the_product_it_was_sold_as(tmp_path: Path) -> None:
    book = OrderBook(tmp_path / "shop.sqlite3")
    order = an_order(book)
    book.close()
    kept = OrderBook(tmp_path / "shop.sqlite3").get(order.out_trade_no)
    assert kept is not None
    assert kept.product == PRODUCTS[1]
    assert kept.total_fee == PRODUCTS[1].price


def test_without_a_file_the_orders_live_in_memory_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    book = OrderBook(None)
    order = an_order(book)
    assert book.get(order.out_trade_no) is order
    book.close()
    assert list(tmp_path.iterdir()) == []


def test_the_data_dir_is_made_on_first_use(tmp_path: Path) -> None:
    OrderBook(tmp_path / "new" / "dir" / "shop.sqlite3").close()
    assert (tmp_path / "new" / "dir" / "shop.sqlite3").is_file()


async def test_an_order_link_still_opens_after_the_shop_restarts(world: World) -> None:
    out_trade_no = await world.buy()
    await world.start_shop()
    result = await world.get(f"/result/{out_trade_no}")
    assert result.status == 200
    assert out_trade_no in await result.text()
    checkout = f"/checkout/{out_trade_no}"
    assert (await world.get(checkout)).headers["Location"] == f"/login?next={checkout}"  # sessions are in memory
    assert await world.sign_in(f"/login?next={checkout}") == checkout
    page = await world.get(checkout)
    assert page.status == 200
    assert "手冲咖啡" in await page.text()


async def notification(world: World, out_trade_no: str) -> dict[str, Any]:
    """The sandbox's record of the order's payment notification: its status and attempts."""
    found = await world.sandbox_json("GET", f"/_sandbox/api/notifications?out_trade_no={out_trade_no}")
    [note] = found["notifications"]
    assert isinstance(note, dict)
    return note


@pytest.mark.parametrize("pay_api", ["v2", "v3"])
async def test_a_notification_retried_after_a_restart_finds_its_order_and_marks_it_paid(
    tmp_path: Path, pay_api: PayApi
) -> None:
    world = await open_world(tmp_path / "data", pay_api)
    try:
        assert await world.sign_in() == "/"
        out_trade_no = await world.buy()
        await world.prepay(out_trade_no)
        assert (await world.post("/admin/fail-next-notification")).status == 303  # the first attempt fails
        await world.sandbox_json("POST", f"/_sandbox/api/orders/{MCH_ID}/{out_trade_no}/pay")
        deadline = time.monotonic() + WAIT
        while not (await notification(world, out_trade_no))["attempts"]:
            assert time.monotonic() < deadline, "WeChat never notified the shop"
            await asyncio.sleep(0.02)
        assert getattr(world.shop[STATE].orders.get(out_trade_no), "status", "") == "NEW"

        shop = await world.start_shop()
        await world.sandbox_json("POST", "/_sandbox/api/clock", {"advance": 15})  # WeChat's first retry falls due

        await eventually(lambda: getattr(shop[STATE].orders.get(out_trade_no), "status", "") == "PAID")
        order = shop[STATE].orders.get(out_trade_no)
        assert order is not None
        assert (order.fulfilled, [d["source"] for d in order.deliveries]) == (1, ["notification"])
        note = await notification(world, out_trade_no)
        assert (note["status"], len(note["attempts"])) == ("delivered", 2)
    finally:
        await close_world(world)
