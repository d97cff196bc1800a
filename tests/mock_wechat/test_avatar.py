"""`/_sandbox/avatar/{user}/{size}`: avatars drawn by the sandbox, at qlogo.cn's sizes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat.clock import ManualClock
from mock_wechat.config import User
from mock_wechat.ids import Ids
from mock_wechat.store import SQLiteStore
from tests.conftest import ClientFactory, make_config
from tests.wire import assert_api_error

Client = TestClient[web.Request, web.Application]
SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(text: str) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 - our own server's output
    assert root.tag == f"{SVG}svg"
    return root


async def background(client: Client, user: str) -> str:
    rect = parse_svg(await (await client.get(f"/_sandbox/avatar/{user}/64")).text()).find(f"{SVG}rect")
    assert rect is not None
    return rect.get("fill", "")


async def test_avatar_is_svg(client: Client) -> None:
    resp = await client.get("/_sandbox/avatar/alice/132")
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    root = parse_svg(await resp.text())
    assert root.get("width") == "132"
    assert root.get("height") == "132"


@pytest.mark.parametrize(("size", "pixels"), [("0", "640"), ("46", "46"), ("64", "64"), ("96", "96"), ("132", "132")])
async def test_avatar_sizes_of_qlogo_are_served(client: Client, size: str, pixels: str) -> None:
    resp = await client.get(f"/_sandbox/avatar/alice/{size}")
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    assert parse_svg(await resp.text()).get("width") == pixels


@pytest.mark.parametrize("size", ["1", "45", "100", "640", "abc", "-1"])
async def test_avatar_other_size_is_404_json(client: Client, size: str) -> None:
    resp = await client.get(f"/_sandbox/avatar/alice/{size}")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"errcode", "errmsg", "hint"}
    assert_api_error({k: body[k] for k in ("errcode", "errmsg")}, -1, "system error")
    assert repr(size) in body["hint"]


async def test_avatar_of_an_unknown_user_is_404_json(client: Client) -> None:
    resp = await client.get("/_sandbox/avatar/mallory/132")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["errcode"] == -1
    assert "'mallory'" in body["hint"]


async def test_avatar_is_the_same_for_the_same_user(client: Client) -> None:
    first = await (await client.get("/_sandbox/avatar/alice/64")).text()
    second = await (await client.get("/_sandbox/avatar/alice/64")).text()
    assert first == second


async def test_avatars_differ_between_users(client: Client) -> None:
    alice = await background(client, "alice")
    bob = await background(client, "bob")
    assert alice.startswith("hsl(")
    assert bob.startswith("hsl(")
    assert alice != bob


async def test_avatar_shows_the_first_character_of_the_nickname(client: Client) -> None:
    root = parse_svg(await (await client.get("/_sandbox/avatar/alice/64")).text())
    assert root.findtext(f"{SVG}text") == "爱"


async def test_avatar_is_cacheable(client: Client) -> None:
    resp = await client.get("/_sandbox/avatar/alice/64")
    assert resp.headers["Cache-Control"] == "max-age=3600"


@pytest.mark.parametrize("nickname", ["<script>alert(1)</script>", "&amp", ">_<"])
async def test_avatar_escapes_the_nickname(aiohttp_client: ClientFactory, nickname: str) -> None:
    config = make_config(users=(User(id="eve", nickname=nickname),))
    client = await aiohttp_client(
        mock_wechat.create_app(config, store=SQLiteStore.in_memory(), clock=ManualClock(), ids=Ids(7))
    )
    resp = await client.get("/_sandbox/avatar/eve/64")
    text = await resp.text()
    assert "<script" not in text
    root = parse_svg(text)
    assert root.findtext(f"{SVG}text") == nickname[0]
    assert [child.tag for child in root] == [f"{SVG}rect", f"{SVG}text"]


async def test_avatar_of_an_empty_nickname_is_a_question_mark(aiohttp_client: ClientFactory) -> None:
    config = make_config(users=(User(id="anon", nickname=""),))
    client = await aiohttp_client(
        mock_wechat.create_app(config, store=SQLiteStore.in_memory(), clock=ManualClock(), ids=Ids(7))
    )
    root = parse_svg(await (await client.get("/_sandbox/avatar/anon/64")).text())
    assert root.findtext(f"{SVG}text") == "?"
