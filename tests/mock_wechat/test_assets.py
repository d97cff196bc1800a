"""`mock_wechat.surfaces.assets`: res.wx.qq.com's `/open/js/jweixin-*.js` answers with the sandbox's own JS-SDK,
or with the config's JS-SDK file, npm's CommonJS form wrapped to run as a plain <script>."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import mock_wechat
from mock_wechat.surfaces.assets import JWEIXIN_VERSIONS, jssdk_script, static_root
from tests.conftest import ClientFactory, make_config

Client = TestClient[web.Request, web.Application]
OFFICIAL_SDK = Path(__file__).resolve().parents[2] / "node_modules" / "weixin-js-sdk" / "index.js"
SAVED_JWEIXIN = '!function(e,n){"function"==typeof define?define(function(){return n(e)}):n(e,!0)}(this,function(){});'
"""The shape of the real res.wx.qq.com file (UMD, no `module.exports`), shortened."""


async def client_with(aiohttp_client: ClientFactory, jssdk_source: str) -> Client:
    return await aiohttp_client(mock_wechat.create_app(replace(make_config(), jssdk_source=jssdk_source)))


@pytest.mark.parametrize("version", JWEIXIN_VERSIONS)
async def test_without_a_jssdk_file_every_jweixin_path_is_the_sandboxs_own(
    aiohttp_client: ClientFactory, version: str
) -> None:
    client = await client_with(aiohttp_client, "")
    resp = await client.get(f"/open/js/jweixin-{version}.js")
    assert resp.status == 200
    assert await resp.read() == (static_root() / "jweixin-sandbox.js").read_bytes()


@pytest.mark.parametrize("version", JWEIXIN_VERSIONS)
async def test_a_configured_npm_jssdk_is_served_wrapped_at_every_jweixin_path(
    aiohttp_client: ClientFactory, version: str
) -> None:
    source = OFFICIAL_SDK.read_text(encoding="utf-8")
    client = await client_with(aiohttp_client, source)
    resp = await client.get(f"/open/js/jweixin-{version}.js")
    assert resp.status == 200
    assert "javascript" in resp.content_type
    assert resp.charset == "utf-8"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert await resp.read() == jssdk_script(source)


def test_commonjs_runs_in_a_function_with_a_module_of_its_own_and_hands_wx_to_window() -> None:
    source = "module.exports = { ready: function () {} };"
    assert jssdk_script(source).decode() == (
        "/* wechat-sandbox: the configured CommonJS JS-SDK, wrapped to run as res.wx.qq.com's plain script */\n"
        "(function () {\n"
        "var module = { exports: {} };\n"
        "var exports = module.exports;\n"
        "module.exports = { ready: function () {} };\n"
        ";window.wx = window.jWeixin = module.exports;\n"
        "})();\n"
    )


def test_a_trailing_line_comment_does_not_swallow_the_wrapper() -> None:
    lines = jssdk_script("module.exports = {}; // end").decode().splitlines()
    assert lines[-3:] == ["module.exports = {}; // end", ";window.wx = window.jWeixin = module.exports;", "})();"]


async def test_a_saved_res_wx_qq_com_file_is_served_as_it_is(aiohttp_client: ClientFactory) -> None:
    client = await client_with(aiohttp_client, SAVED_JWEIXIN)
    assert await (await client.get("/open/js/jweixin-1.6.0.js")).read() == SAVED_JWEIXIN.encode()


async def test_the_sandboxs_own_jweixin_stays_at_its_static_path(aiohttp_client: ClientFactory) -> None:
    client = await client_with(aiohttp_client, OFFICIAL_SDK.read_text(encoding="utf-8"))
    resp = await client.get("/_sandbox/static/jweixin-sandbox.js")
    assert await resp.read() == (static_root() / "jweixin-sandbox.js").read_bytes()
