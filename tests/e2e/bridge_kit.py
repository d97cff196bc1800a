"""Helpers for the bridge's browser tests: a sandbox with its own config, signed wx.config calls, the journal,
and the page's console as the page itself saw it (so tests can wait for a line with Playwright)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from playwright.sync_api import Page

import sandbox
from mock_wechat.config import WeChatConfig
from tests.conftest import APPID
from tests.e2e.conftest import LiveServer
from tests.e2e.shop import WeChatPage

NONCE, TIMESTAMP = "noncexyz", "1700000000"
DEFAULT_APIS = ["chooseWXPay", "updateAppMessageShareData", "getNetworkType"]

CAPTURE_CONSOLE = """
window.__console = [];
["log", "info", "warn", "error"].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__console.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
});
"""
"""An init script: every console line the page prints is also kept in `window.__console`."""


@contextmanager
def running(config: WeChatConfig) -> Iterator[LiveServer]:
    """The whole sandbox with `config`, for the length of the block."""
    server = LiveServer(lambda: sandbox.create_app(config)).start()
    try:
        yield server
    finally:
        server.stop()


def sha1_sign(ticket: str, url: str, nonce: str = NONCE, timestamp: str = TIMESTAMP) -> str:
    """The wx.config signature over `url` exactly as given (a #fragment or an encoding is kept)."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def config_js(signature: str, *, appid: str = APPID, drop: tuple[str, ...] = (), **fields: Any) -> str:
    """`wx.config({...});` with `signature`; `drop` leaves fields out, `fields` replaces or adds some."""
    config: dict[str, Any] = {
        "debug": False,
        "appId": appid,
        "timestamp": int(TIMESTAMP),
        "nonceStr": NONCE,
        "signature": signature,
        "jsApiList": list(DEFAULT_APIS),
    }
    config.update(fields)
    for name in drop:
        config.pop(name)
    return f"wx.config({json.dumps(config)});"


RECORD_CONFIG = (
    "wx.error(function (r) { log.push('error:' + r.errMsg); });"
    "wx.ready(function () { log.push('ready'); });"
)  # fmt: skip
"""Records wx.error's errMsg and that wx.ready ran."""


def callbacks(label: str) -> str:
    """The success/fail/cancel callbacks of a JS-SDK call, each logging `label` and the errMsg."""
    return (
        f"success: function (r) {{ log.push('{label} success:' + r.errMsg); }},"
        f"fail: function (r) {{ log.push('{label} fail:' + r.errMsg); }},"
        f"cancel: function (r) {{ log.push('{label} cancel:' + r.errMsg); }}"
    )


def open_page(wechat: WeChatPage, url: str) -> Page:
    """Go to `url` with the console captured in the page."""
    page = wechat.page
    page.add_init_script(CAPTURE_CONSOLE)
    page.goto(url)
    return page


def wait_log(page: Page, count: int) -> list[str]:
    """`window.log` once it has at least `count` entries."""
    page.wait_for_function("n => window.log && window.log.length >= n", arg=count)
    return list(page.evaluate("window.log"))


def wait_console(page: Page, needle: str) -> list[str]:
    """The page's console lines, once one of them contains `needle`."""
    page.wait_for_function("s => window.__console.some(function (m) { return m.indexOf(s) !== -1; })", arg=needle)
    return list(page.evaluate("window.__console"))


def sandbox_lines(page: Page) -> list[str]:
    return [line for line in page.evaluate("window.__console") if line.startswith("[wechat-sandbox]")]


def journal(sandbox_url: str) -> list[dict[str, Any]]:
    entries = requests.get(f"{sandbox_url}/_sandbox/api/journal", timeout=5).json()["entries"]
    return list(entries)


def journal_notes(sandbox_url: str, path: str) -> list[str]:
    """Every note of the journal entries for `path` (e.g. /_sandbox/bridge/invoke), in order."""
    return [note for entry in journal(sandbox_url) if entry["path"] == path for note in entry["notes"]]


def advance_clock(sandbox_url: str, seconds: float) -> None:
    answer = requests.post(f"{sandbox_url}/_sandbox/api/clock", json={"advance": seconds}, timeout=5)
    assert answer.status_code == 200, answer.text
