"""What the shop shows people reads as written: the training panel and its JSON keep Chinese and `…`, no `\\u`."""

from __future__ import annotations

import re

from demo_shop.web import json_text
from tests.demo_shop.conftest import World

PANEL = re.compile(r'<section class="training".*?</section>', re.S)


def test_json_text_keeps_chinese_and_the_ellipsis() -> None:
    assert json_text({"nickname": "梧州", "token": "abcd…wxyz"}) == '{"nickname": "梧州", "token": "abcd…wxyz"}'


async def test_the_training_panel_shows_the_profile_and_masked_tokens_as_written(world: World) -> None:
    page = await world.get("/")  # the steps of the sign-in that led here: code → token, userinfo
    html = await page.text()
    [panel] = PANEL.findall(html)
    assert "爱丽丝" in panel  # userinfo's nickname
    assert "…" in panel  # the masked access_token
    assert "\\u" not in html


async def test_the_training_panel_still_escapes_html_in_what_it_shows(world: World) -> None:
    page = await world.get("/auth/callback?code=c&state=%3C/pre%3E%3Cscript%3Ealert(1)%3C/script%3E")
    panel = PANEL.findall(await page.text())[0]
    assert "<script>" not in panel
    assert "&lt;/pre&gt;&lt;script&gt;" in panel


async def test_prepay_answers_readable_json(world: World) -> None:
    resp = await world.prepay(await world.buy())
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    text = (await resp.read()).decode("utf-8")
    assert "手冲咖啡 Pour-over coffee" in text  # the unified order's body, in the steps
    assert "…" in text  # the masked sign
    assert "\\u" not in text
