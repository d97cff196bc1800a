"""Hostile pages in a real Chromium: other sites, sandboxed frames and rebinding names cannot drive the sandbox.

Chromium resolves the attackers' names to 127.0.0.1 itself (`--host-resolver-rules`), so nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, sync_playwright

from mock_wechat.pay.v2_dialect import sandbox_signkey
from sandbox import defaults
from sandbox import playwright as helpers
from tests.e2e.conftest import LiveServer
from tests.pay_helpers import MCH_KEY, order_fields, signed_xml

EVIL = "evil.test"
REBIND = "rebind.test"
SETTLE = 5.0
"""How long a hostile page's requests may take to reach the sandbox (each test first waits for them to finish)."""


@pytest.fixture(scope="module")
def hostile_browser() -> Iterator[Browser]:
    options = helpers.launch_options()
    args = [*options["args"], f"--host-resolver-rules=MAP {EVIL} 127.0.0.1, MAP {REBIND} 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(headless=True, executable_path=options["executable_path"], args=args)
        yield browser
        browser.close()


@pytest.fixture
def page(hostile_browser: Browser) -> Iterator[Page]:
    context = hostile_browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def site_app(pages: dict[str, str]) -> web.Application:
    """Another site: serves the given HTML pages at their paths."""

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=pages[request.path], content_type="text/html")

    app = web.Application()
    for path in pages:
        app.router.add_get(path, serve)
    return app


@pytest.fixture
def other_site() -> Iterator[Callable[[dict[str, str]], LiveServer]]:
    servers: list[LiveServer] = []

    def start(pages: dict[str, str]) -> LiveServer:
        server = LiveServer(lambda: site_app(pages)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def control(sandbox: LiveServer, path: str) -> Any:
    with urllib.request.urlopen(f"{sandbox.url}{path}", timeout=10) as resp:
        return json.loads(resp.read())


def attack_script(requests: list[tuple[str, str]]) -> str:
    """POST each (url, body) as a no-cors text/plain request, the way any page may, then mark the page done."""
    calls = ",".join(
        f"fetch({json.dumps(url)}, {{method: 'POST', mode: 'no-cors', body: {json.dumps(body)}}}).catch(() => null)"
        for url, body in requests
    )
    return f"<script>Promise.all([{calls}]).then(() => {{ document.title = 'done'; }});</script>"


def wait_done(page: Page) -> None:
    deadline = time.monotonic() + SETTLE
    while page.title() != "done":
        assert time.monotonic() < deadline, "the page's requests did not finish"
        page.wait_for_timeout(20)


def ssrf_order(sandbox: LiveServer) -> str:
    """A sandbox-mode order signed with the key derived from the README's API key, notifying a local port."""
    fields = order_fields(total_fee=101, notify_url="http://127.0.0.1:9/anything")
    return signed_xml(fields, sandbox_signkey(defaults.default_merchant())).decode()


def test_another_sites_page_cannot_place_an_order_that_notifies_a_local_service(
    page: Page, sandbox_server: LiveServer, other_site: Callable[[dict[str, str]], LiveServer]
) -> None:
    script = attack_script([(f"{sandbox_server.url}/sandboxnew/pay/unifiedorder", ssrf_order(sandbox_server))])
    site = other_site({"/": script})
    page.goto(f"http://{EVIL}:{site.port}/")
    wait_done(page)
    assert control(sandbox_server, "/_sandbox/api/orders")["orders"] == []
    assert control(sandbox_server, "/_sandbox/api/notifications")["notifications"] == []


def test_a_loopback_page_may_place_the_same_order(
    page: Page, sandbox_server: LiveServer, other_site: Callable[[dict[str, str]], LiveServer]
) -> None:
    """The control case: the same request from a trusted origin does reach the order book."""
    script = attack_script([(f"{sandbox_server.url}/sandboxnew/pay/unifiedorder", ssrf_order(sandbox_server))])
    site = other_site({"/": script})
    page.goto(f"{site.url}/")
    wait_done(page)
    orders = control(sandbox_server, "/_sandbox/api/orders")["orders"]
    assert [o["out_trade_no"] for o in orders] == ["T20240101000001"]


def test_another_sites_page_cannot_reset_or_reconfigure_the_sandbox(
    page: Page, sandbox_server: LiveServer, other_site: Callable[[dict[str, str]], LiveServer]
) -> None:
    before = control(sandbox_server, "/_sandbox/api/clock")["offset"]
    base = sandbox_server.url
    script = attack_script(
        [
            (f"{base}/_sandbox/api/clock", '{"advance": 86400}'),
            (f"{base}/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}", '{"notify_hosts": ["notify.invalid"]}'),
            (f"{base}/_sandbox/api/users", '{"id": "mallory"}'),
        ]
    )
    site = other_site({"/": script})
    page.goto(f"http://{EVIL}:{site.port}/")
    wait_done(page)
    assert control(sandbox_server, "/_sandbox/api/clock")["offset"] == before
    config = control(sandbox_server, "/_sandbox/api/config")
    assert config["merchants"][0]["notify_hosts"] == []
    assert "mallory" not in [u["id"] for u in config["users"]]


def framed_attack(sandbox: LiveServer, sandboxed: bool) -> dict[str, str]:
    """A loopback page whose iframe (sandboxed or not) posts a wider notify allowlist to the control API."""
    url = f"{sandbox.url}/_sandbox/api/merchants/{defaults.DEFAULT_MCH_ID}"
    inner = attack_script([(url, '{"notify_hosts": ["notify.invalid"]}')]).replace(
        "document.title = 'done'", "parent.postMessage('done', '*')"
    )
    frame = "<iframe sandbox='allow-scripts'" if sandboxed else "<iframe"
    outer = (
        f"{frame} srcdoc='{inner.replace(chr(39), '&#39;')}'></iframe>"
        "<script>addEventListener('message', () => { document.title = 'done'; });</script>"
    )
    return {"/": outer}


def test_a_sandboxed_frame_cannot_widen_the_notify_allowlist(
    page: Page, sandbox_server: LiveServer, other_site: Callable[[dict[str, str]], LiveServer]
) -> None:
    """A sandboxed iframe sends `Origin: null`, even inside a loopback page."""
    site = other_site(framed_attack(sandbox_server, sandboxed=True))
    page.goto(f"{site.url}/")
    wait_done(page)
    assert control(sandbox_server, "/_sandbox/api/config")["merchants"][0]["notify_hosts"] == []


def test_the_same_frame_unsandboxed_may(
    page: Page, sandbox_server: LiveServer, other_site: Callable[[dict[str, str]], LiveServer]
) -> None:
    """The control case: without `sandbox` the frame has the loopback page's origin, which is trusted."""
    site = other_site(framed_attack(sandbox_server, sandboxed=False))
    page.goto(f"{site.url}/")
    wait_done(page)
    assert control(sandbox_server, "/_sandbox/api/config")["merchants"][0]["notify_hosts"] == ["notify.invalid"]


def test_a_rebinding_name_cannot_read_the_console(page: Page, sandbox_server: LiveServer) -> None:
    response = page.goto(f"http://{REBIND}:{sandbox_server.port}/_sandbox/")
    assert response is not None
    assert response.status == 403
    assert defaults.DEFAULT_MCH_KEY not in page.content()
    assert defaults.DEFAULT_SECRET not in page.content()


def test_a_rebinding_page_cannot_place_an_order(page: Page, sandbox_server: LiveServer) -> None:
    """A page served under the rebinding name (a public asset) posts same-origin to WeChat's path."""
    page.goto(f"http://{REBIND}:{sandbox_server.port}/open/js/jweixin-1.6.0.js")
    status = page.evaluate(
        "body => fetch('/pay/unifiedorder', {method: 'POST', body}).then(r => r.status)",
        signed_xml(order_fields(), MCH_KEY).decode(),
    )
    assert status == 403
    assert control(sandbox_server, "/_sandbox/api/orders")["orders"] == []
