"""The reference the sandbox is measured against: the least an aiohttp handler must do for unifiedorder and
orderquery (parse the XML, check the MD5 sign, sign the answer, render it), with no state and nothing else.

`python -m bench.minimal_app [--empty]` listens on a free loopback port and prints `listening on URL`; `--empty`
serves an app with one health route only (the start-up reference)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import sys
import xml.etree.ElementTree as ET

from aiohttp import web

KEY = "sandboxkeysandboxkeysandboxkey01"


def sign(fields: dict[str, str]) -> str:
    plain = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v and k != "sign") + f"&key={KEY}"
    return hashlib.md5(plain.encode()).hexdigest().upper()  # noqa: S324 - WeChat's algorithm


def render(fields: dict[str, str]) -> str:
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


async def pay(request: web.Request) -> web.Response:
    fields = {child.tag: child.text or "" for child in ET.fromstring(await request.read())}  # noqa: S314 - bench only
    if sign(fields) != fields.get("sign"):
        return web.Response(text=render({"return_code": "FAIL", "return_msg": "签名错误"}), content_type="text/xml")
    answer = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": fields.get("appid", ""),
        "mch_id": fields.get("mch_id", ""),
        "nonce_str": secrets.token_hex(8),
        "result_code": "SUCCESS",
        "prepay_id": "wx" + secrets.token_hex(16),
        "trade_type": "JSAPI",
    }
    answer["sign"] = sign(answer)
    return web.Response(text=render(answer), content_type="text/xml")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def app(empty: bool) -> web.Application:
    made = web.Application()
    made.router.add_get("/_sandbox/api/health", health)
    if not empty:
        made.router.add_post("/pay/unifiedorder", pay)
        made.router.add_post("/pay/orderquery", pay)
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--empty", action="store_true")
    args = parser.parse_args()
    runner = web.AppRunner(app(args.empty), access_log=None)

    async def serve() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
