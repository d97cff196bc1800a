"""Measure start-up time and request latency of `wechat-sandbox serve` on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from mock_wechat.signing import v2_sign
from sandbox.defaults import DEFAULT_APPID as APPID
from sandbox.defaults import DEFAULT_MCH_ID as MCH_ID
from sandbox.defaults import DEFAULT_MCH_KEY as MCH_KEY
from sandbox.defaults import DEFAULT_SECRET as SECRET

STARTS = 5
REQUESTS = 500


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - began
    return proc, line.rsplit(" ", 1)[-1].strip(), elapsed


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


async def latencies(base: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"token": [], "oauth_code+exchange": [], "unifiedorder": []}
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    authorize = {
        "appid": APPID,
        "redirect_uri": "http://127.0.0.1:9/cb",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "b",
    }
    async with aiohttp.ClientSession(headers={"X-WeChat-Sandbox-User": "alice"}) as http:
        for _ in range(REQUESTS):
            t = time.perf_counter()
            async with http.get(f"{base}/cgi-bin/token", params=params) as resp:
                await resp.read()
            out["token"].append(time.perf_counter() - t)
        for _ in range(REQUESTS // 2):
            t = time.perf_counter()
            async with http.get(f"{base}/connect/oauth2/authorize", params=authorize, allow_redirects=False) as resp:
                code = resp.headers["Location"].split("code=")[1].split("&")[0]
            exchange = {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"}
            async with http.get(f"{base}/sns/oauth2/access_token", params=exchange) as resp:
                await resp.read()
            out["oauth_code+exchange"].append(time.perf_counter() - t)
        async with http.get(f"{base}/_sandbox/api/config") as resp:
            openid = (await resp.json())["users"][0]["openids"][APPID]
        for n in range(REQUESTS // 2):
            fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": f"n{n}", "body": "bench", "out_trade_no": f"B{n}",
                      "total_fee": "1", "spbill_create_ip": "127.0.0.1", "notify_url": "http://127.0.0.1:9/notify",
                      "trade_type": "JSAPI", "openid": openid}  # fmt: skip
            fields["sign"] = v2_sign(fields, MCH_KEY)
            body = "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>"
            t = time.perf_counter()
            async with http.post(f"{base}/pay/unifiedorder", data=body.encode()) as resp:
                await resp.read()
            out["unifiedorder"].append(time.perf_counter() - t)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        starts = []
        for i in range(STARTS):
            proc, base, elapsed = start(Path(tmp) / f"d{i}")
            starts.append(elapsed)
            stop(proc)
        print(f"start-up to listening line: median {statistics.median(starts) * 1000:.0f} ms over {STARTS} starts")
        proc, base, _ = start(Path(tmp) / "load")
        try:
            for name, values in asyncio.run(latencies(base)).items():
                values.sort()
                p50, p99 = values[len(values) // 2], values[int(len(values) * 0.99)]
                print(f"{name:>22}: p50 {p50 * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms  (n={len(values)})")
        finally:
            stop(proc)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
