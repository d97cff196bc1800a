"""A tiny merchant: one payment page (the JS-SDK, signed server-side) and a notify endpoint."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import urllib.request
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
NOTIFICATIONS = web.AppKey("notifications", list)
WECHAT = web.AppKey("wechat", dict)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Tea shop</title></head><body>
<h1>Tea shop</h1><p id="result">paying…</p>
<script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>
<script>
wx.config(%(config)s);
wx.ready(function () {
  wx.chooseWXPay(Object.assign(%(params)s, {
    success: function () { document.getElementById("result").textContent = "paid"; },
    cancel: function () { document.getElementById("result").textContent = "cancelled"; },
    fail: function (res) { document.getElementById("result").textContent = "failed: " + res.errMsg; }
  }));
});
</script></body></html>"""


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the configured WeChat host
        return dict(json.loads(response.read()))


def jsapi_ticket(api_base: str, appid: str, secret: str) -> str:
    query = urlencode({"grant_type": "client_credential", "appid": appid, "secret": secret})
    token = _get(f"{api_base}/cgi-bin/token?{query}")["access_token"]
    return str(_get(f"{api_base}/cgi-bin/ticket/getticket?access_token={token}&type=jsapi")["ticket"])


async def pay_page(request: web.Request) -> web.Response:
    """`/pay?params=<wx.chooseWXPay parameters as JSON>`: wx.config signed for this very URL."""
    wechat = request.app[WECHAT]
    url = str(request.url).split("#")[0]
    nonce, timestamp = secrets.token_hex(8), int(time.time())
    ticket = jsapi_ticket(wechat["api_base"], wechat["appid"], wechat["secret"])
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    config = {"appId": wechat["appid"], "timestamp": timestamp, "nonceStr": nonce, "jsApiList": ["chooseWXPay"],
              "signature": hashlib.sha1(plain.encode()).hexdigest()}  # noqa: S324  # fmt: skip
    html = PAGE % {"config": json.dumps(config), "params": request.query["params"]}
    return web.Response(text=html, content_type="text/html")


async def notify(request: web.Request) -> web.Response:
    request.app[NOTIFICATIONS].append(await request.text())
    return web.Response(text=ACK, content_type="text/xml")


def create_app(api_base: str, appid: str, secret: str) -> web.Application:
    app = web.Application()
    app[WECHAT] = {"api_base": api_base, "appid": appid, "secret": secret}
    app[NOTIFICATIONS] = []
    app.router.add_get("/pay", pay_page)
    app.router.add_post("/notify", notify)
    return app
