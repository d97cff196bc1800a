"""`make bench`: the sandbox measured side by side with what the framework allows, in one run on this machine.

Prints a table (each figure next to its reference, the ratio and the issue's target) and writes
bench/results.json. Load comes from wrk when it is installed (Debian's `wrk`), else from bench/loader.py in its
own process; WireMock's canned stub is measured when `java` is on the PATH and `bench/node_modules` holds its jar.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from mock_wechat.pay.orders import Order
from mock_wechat.signing import v2_sign
from sandbox.defaults import DEFAULT_APPID as APPID
from sandbox.defaults import DEFAULT_MCH_ID as MCH_ID
from sandbox.defaults import DEFAULT_MCH_KEY as MCH_KEY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONNECTIONS = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
WARMUP = 1.0
STARTS = 5
STORE_SIZES = (100, 100_000, 1_000_000)
REPLICAS = (1, 2, 4)
NOTIFICATIONS = 50
WIREMOCK = HERE / "node_modules" / "wiremock" / "build"


# -- servers ---------------------------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str


def launch(command: Sequence[str], env: dict[str, str] | None = None) -> Server:
    """Start a server that prints `… listening on URL` first; return once it has."""
    proc = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"{command} printed {line!r} instead of its listening line")
    return Server(proc, match[1])


def stop(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@contextmanager
def running(command: Sequence[str]) -> Iterator[Server]:
    server = launch(command)
    try:
        yield server
    finally:
        stop(server)


def sandbox_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--seed", "1", *extra]


def minimal_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "bench.minimal_app", *extra]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- request bodies --------------------------------------------------------------------------------------


def xml(fields: dict[str, str]) -> str:
    return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>"


def order_bodies(openid: str, count: int, prefix: str) -> list[str]:
    bodies = []
    for n in range(count):
        fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": f"n{n}", "body": "bench",
                  "out_trade_no": f"{prefix}{n}", "total_fee": "1", "spbill_create_ip": "127.0.0.1",
                  "notify_url": "http://127.0.0.1:9/notify", "trade_type": "JSAPI", "openid": openid}  # fmt: skip
        fields["sign"] = v2_sign(fields, MCH_KEY)
        bodies.append(xml(fields))
    return bodies


def query_bodies(out_trade_nos: Sequence[str]) -> list[str]:
    bodies = []
    for n, out_trade_no in enumerate(out_trade_nos):
        fields = {"appid": APPID, "mch_id": MCH_ID, "out_trade_no": out_trade_no, "nonce_str": f"q{n}"}
        fields["sign"] = v2_sign(fields, MCH_KEY)
        bodies.append(xml(fields))
    return bodies


def openid_of(url: str) -> str:
    return str(get_json(f"{url}/_sandbox/api/config")["users"][0]["openids"][APPID])


# -- load ------------------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int
    tool: str


def parse_wrk(text: str) -> Load:
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0}

    def percentile(name: str) -> float:
        match = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        return float(match[1]) * units[match[2]] if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    failed = (int(errors[1]) if errors else 0) + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0)
    return Load(
        rps=float(rps[1]) if rps else 0.0,
        p50=percentile("50"),
        p99=percentile("99"),
        requests=int(total[1]) if total else 0,
        errors=failed,
        tool="wrk",
    )


def load(url: str, bodies: Sequence[str], seconds: float = SECONDS) -> Load:
    """`CONNECTIONS` connections POSTing `bodies` in turn to `url` for `seconds`."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as file:
        file.write("\n".join(bodies) + "\n")
    try:
        if shutil.which("wrk"):
            threads = 2
            command = ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency",
                       "-s", str(HERE / "bodies.lua"), url, "--", file.name, str(threads)]  # fmt: skip
            return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        command = [sys.executable, "-m", "bench.loader", url, file.name, "--connections", str(CONNECTIONS),
                   "--seconds", str(seconds)]  # fmt: skip
        found = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        return Load(found["rps"], found["p50"], found["p99"], found["requests"], found["errors"], "bench/loader.py")
    finally:
        os.unlink(file.name)


def measured(url: str, bodies: Sequence[str]) -> Load:
    load(url, bodies, WARMUP)  # the first connections, caches and (for the JVM) the JIT, not counted
    return load(url, bodies)


# -- rows --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    work: str
    sandbox: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    values: dict[str, Any] = field(default_factory=dict)


def at_least(ratio: float, wanted: float) -> bool:
    return ratio >= wanted


def throughput_rows(name: str, path: str, bodies: Callable[[str, str], list[str]], wanted: float) -> list[Row]:
    """`path` in memory and with a data dir, next to the minimal handler (and WireMock's stub if present)."""
    rows: list[Row] = []
    with running(minimal_command()) as minimal:
        reference = measured(f"{minimal.url}{path}", bodies(minimal.url, "R"))
    for label in ("in memory", "data dir"):
        with tempfile.TemporaryDirectory() as tmp:
            where = ("--in-memory",) if label == "in memory" else ("--data-dir", tmp)
            with running(sandbox_command(*where)) as server:
                found = measured(f"{server.url}{path}", bodies(server.url, "S"))
        target = wanted if label == "in memory" else (0.5 if path == "/pay/unifiedorder" else wanted)
        ratio = found.rps / reference.rps if reference.rps else 0.0
        rows.append(
            Row(
                f"{name}, {label}: req/s (p50 / p99)",
                f"{found.rps:,.0f} ({found.p50 * 1000:.1f} / {found.p99 * 1000:.1f} ms)",
                f"{reference.rps:,.0f} ({reference.p50 * 1000:.1f} / {reference.p99 * 1000:.1f} ms)",
                ratio,
                f"≥ {target}×; p99 ≤ 2× ref",
                ratio >= target and found.p99 <= 2 * reference.p99,
                {"sandbox": dataclasses.asdict(found), "minimal": dataclasses.asdict(reference)},
            )
        )
    return rows


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def replica_rows() -> list[Row]:
    """Unified order and order query with 1, 2 and 4 replicas on one PostgreSQL behind nginx: the scaling curve.
    The cluster (a throwaway initdb) and nginx come as in the two-replica tests."""
    from tests.postgres import start_cluster, stop_cluster
    from tests.replicas.conftest import start_nginx

    cluster = start_cluster()
    found: dict[int, tuple[Load, Load]] = {}
    try:
        for count in REPLICAS:
            dsn = cluster.dsn(cluster.create_database())
            servers: list[Server] = []
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    for _ in range(count):  # one after another: the first creates the schema
                        servers.append(launch(sandbox_command("--store", dsn)))
                    nginx = start_nginx(Path(tmp), [port_of(server.url) for server in servers])
                    try:
                        placed = measured(f"{nginx.url}/pay/unifiedorder", new_orders(nginx.url, "S"))
                        queried = measured(f"{nginx.url}/pay/orderquery", seeded_queries(nginx.url, "S"))
                        found[count] = (placed, queried)
                    finally:
                        nginx.stop()
                finally:
                    for server in servers:
                        stop(server)
    finally:
        stop_cluster(cluster)
    rows = []
    for index, name in enumerate(("unifiedorder", "orderquery")):
        one = found[1][index]
        for count, loads in found.items():
            load = loads[index]
            rows.append(
                Row(
                    f"{name}, PostgreSQL, {count} replica{'s' if count > 1 else ''} behind nginx: req/s (p50 / p99)",
                    f"{load.rps:,.0f} ({load.p50 * 1000:.1f} / {load.p99 * 1000:.1f} ms)",
                    f"{one.rps:,.0f} with 1 replica",
                    load.rps / one.rps if one.rps else 0.0,
                    "the scaling curve",
                    None,
                    {"replicas": count, "load": dataclasses.asdict(load)},
                )
            )
    return rows


def wiremock_row() -> Row | None:
    jars = sorted(WIREMOCK.glob("wiremock-standalone-*.jar")) if WIREMOCK.exists() else []
    if not jars or not shutil.which("java"):
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    began = time.perf_counter()
    proc = subprocess.Popen(
        [
            "java",
            "-jar",
            str(jars[-1]),
            "--port",
            str(port),
            "--bind-address",
            "127.0.0.1",
            "--disable-banner",
            "--no-request-journal",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                get_json(f"{base}/__admin/mappings")
                break
            except OSError:
                if time.perf_counter() - began > 60:
                    raise
                time.sleep(0.02)
        started = time.perf_counter() - began
        answer = xml({"return_code": "SUCCESS", "return_msg": "OK", "prepay_id": "wx20240101000000abcdef"})
        post_json(f"{base}/__admin/mappings", {
            "request": {"method": "POST", "url": "/pay/unifiedorder"},
            "response": {"status": 200, "body": answer, "headers": {"Content-Type": "text/xml"}},
        })  # fmt: skip
        found = measured(f"{base}/pay/unifiedorder", order_bodies("o", 2000, "W"))
    finally:
        proc.terminate()
        proc.wait(20)
    return Row(
        "WireMock 3.13 canned stub (unifiedorder): req/s (p50 / p99)",
        f"{found.rps:,.0f} ({found.p50 * 1000:.1f} / {found.p99 * 1000:.1f} ms)",
        f"start-up {started:.2f} s",
        values={"wiremock": dataclasses.asdict(found), "startup_s": started},
    )


def startup_seconds(command: Sequence[str]) -> float:
    """From spawning `command` to the first 200 of its /_sandbox/api/health."""
    began = time.perf_counter()
    server = launch(command)
    try:
        while True:
            try:
                get_json(f"{server.url}/_sandbox/api/health")
                return time.perf_counter() - began
            except OSError:
                time.sleep(0.002)
    finally:
        stop(server)


def startup_row() -> Row:
    sandbox = statistics.median(startup_seconds(sandbox_command("--in-memory")) for _ in range(STARTS))
    empty = statistics.median(startup_seconds(minimal_command("--empty")) for _ in range(STARTS))
    ratio = sandbox / empty
    return Row(
        "start-up to the first healthy /_sandbox/api/health (median of 5)",
        f"{sandbox:.2f} s",
        f"{empty:.2f} s (an empty aiohttp app)",
        ratio,
        "≤ 1.25×",
        ratio <= 1.25,
        {"sandbox_s": sandbox, "empty_s": empty},
    )


async def notification_latencies(url: str) -> list[float]:
    """From the pay call to the merchant's handler receiving the notification, for NOTIFICATIONS orders."""
    from aiohttp import web

    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}

    async def notify(request: web.Request) -> web.Response:
        text = await request.text()
        out_trade_no = re.search(r"<out_trade_no><!\[CDATA\[(.*?)\]\]>", text)
        key = out_trade_no[1] if out_trade_no else ""
        arrived.setdefault(key, time.perf_counter())
        if key in waiting:
            waiting[key].set()
        return web.Response(text="<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    notify_url = f"http://127.0.0.1:{runner.addresses[0][1]}/notify"
    openid = openid_of(url)
    found: list[float] = []
    async with aiohttp.ClientSession() as http:
        for n in range(NOTIFICATIONS):
            fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": f"n{n}", "body": "bench",
                      "out_trade_no": f"N{n}", "total_fee": "1", "spbill_create_ip": "127.0.0.1",
                      "notify_url": notify_url, "trade_type": "JSAPI", "openid": openid}  # fmt: skip
            fields["sign"] = v2_sign(fields, MCH_KEY)
            async with http.post(f"{url}/pay/unifiedorder", data=xml(fields)) as resp:
                await resp.read()
            waiting[f"N{n}"] = asyncio.Event()
            began = time.perf_counter()
            async with http.post(f"{url}/_sandbox/api/orders/{MCH_ID}/N{n}/pay", json={}) as resp:
                await resp.read()
            await asyncio.wait_for(waiting[f"N{n}"].wait(), 10)
            found.append(arrived[f"N{n}"] - began)
    await runner.cleanup()
    return found


def notification_row() -> Row:
    with running(sandbox_command("--in-memory")) as server:
        latencies = sorted(asyncio.run(notification_latencies(server.url)))
    median, worst = statistics.median(latencies), latencies[-1]
    return Row(
        f"notification latency: pay call → merchant's handler (median / max of {NOTIFICATIONS})",
        f"{median * 1000:.1f} / {worst * 1000:.1f} ms",
        "",
        None,
        "≤ 50 ms",
        worst <= 0.050,
        {"median_s": median, "max_s": worst},
    )


def filled_data_dir(directory: Path, count: int, openid: str) -> None:
    """A data dir whose store already holds `count` orders (written straight into SQLite, in one transaction)."""
    with running(sandbox_command("--data-dir", str(directory))):
        pass  # the sandbox makes its schema and seeds its users
    now = time.time()
    db = sqlite3.connect(directory / "state.sqlite3")
    with db:
        rows = (
            (
                "order",
                f"{MCH_ID}:F{n}",
                MCH_ID,
                None,
                json.dumps(
                    dataclasses.asdict(
                        Order(
                            mch_id=MCH_ID,
                            appid=APPID,
                            out_trade_no=f"F{n}",
                            body="bench",
                            total_fee=1,
                            trade_type="JSAPI",
                            notify_url="http://127.0.0.1:9/notify",
                            spbill_create_ip="127.0.0.1",
                            created_at=now,
                            prepay_id=f"wx{n:030d}",
                            prepay_expires_at=now + 7200,
                            sign_type="MD5",
                            fields={},
                            openid=openid,
                        )
                    ),
                    ensure_ascii=False,
                ),
            )
            for n in range(count)
        )
        db.executemany("INSERT INTO records (kind, key, owner, expires_at, data) VALUES (?, ?, ?, ?, ?)", rows)
    db.close()


async def query_latencies(url: str, count: int, queries: int = 300) -> list[float]:
    step = max(1, count // queries)
    bodies = query_bodies([f"F{n}" for n in range(0, count, step)][:queries])
    found = []
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            began = time.perf_counter()
            async with http.post(f"{url}/pay/orderquery", data=body) as resp:
                text = await resp.text()
            found.append(time.perf_counter() - began)
            if "SUCCESS" not in text:
                raise RuntimeError(f"orderquery failed: {text[:200]}")
    return sorted(found)


def store_size_rows() -> list[Row]:
    rows = []
    medians: dict[int, float] = {}
    for count in STORE_SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp) / "data"
            filled_data_dir(directory, count, "o" + "x" * 27)
            with running(sandbox_command("--data-dir", str(directory))) as server:
                latencies = asyncio.run(query_latencies(server.url, count))
                rss = rss_mb(server.proc.pid)
        medians[count] = statistics.median(latencies)
        ratio = medians[count] / medians[STORE_SIZES[0]]
        rows.append(
            Row(
                f"orderquery with {count:,} orders in the store: p50 / p99, RSS",
                f"{medians[count] * 1000:.2f} / {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms, {rss:.0f} MiB",
                f"{medians[STORE_SIZES[0]] * 1000:.2f} ms at {STORE_SIZES[0]}",
                ratio,
                "≤ 1.2× at 1,000,000",
                ratio <= 1.2 if count == STORE_SIZES[-1] else None,
                {"p50_s": medians[count], "rss_mib": rss},
            )
        )
    return rows


def v3_row() -> Row:
    """API v3 JSAPI orders: an RSA verify of the request and an RSA signature of the answer each."""
    import base64
    import secrets

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    with running(sandbox_command("--in-memory")) as server:
        merchant = get_json(f"{server.url}/_sandbox/api/config")["merchants"][0]
        key = serialization.load_pem_private_key(merchant["private_key"].encode(), None)
        assert isinstance(key, RSAPrivateKey)
        openid = openid_of(server.url)
        lines = []
        for n in range(4000):
            body = json.dumps({"appid": APPID, "mchid": MCH_ID, "description": "bench", "out_trade_no": f"V{n}",
                               "notify_url": "https://127.0.0.1:9/notify", "amount": {"total": 1},
                               "payer": {"openid": openid}}, separators=(",", ":"))  # fmt: skip
            timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
            message = f"POST\n/v3/pay/transactions/jsapi\n{timestamp}\n{nonce}\n{body}\n"
            signature = base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
            auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{MCH_ID}",nonce_str="{nonce}",signature="{signature}",'
                    f'timestamp="{timestamp}",serial_no="{merchant["serial_no"]}"')  # fmt: skip
            lines.append(f"{auth}\t{body}")
        found = measured(f"{server.url}/v3/pay/transactions/jsapi", lines)
    return Row(
        "API v3 JSAPI order (RSA verify + sign): req/s (p50 / p99)",
        f"{found.rps:,.0f} ({found.p50 * 1000:.1f} / {found.p99 * 1000:.1f} ms)",
        values={"sandbox": dataclasses.asdict(found)},
    )


def browser_rows() -> list[Row]:
    from bench import browser

    single, parallel = browser.run()
    return [
        Row(
            "one whole browser payment (warm browser, the demo shop: product → sheet → PIN → PAID), median of 5",
            f"{single:.2f} s",
            target="≤ 1 s",
            met=single <= 1.0,
            values={"seconds": single},
        ),
        Row(
            f"{browser.PARALLEL} such payments at once, in {browser.PARALLEL} browser contexts",
            f"{parallel:.2f} s",
            target="≤ 5 s",
            met=parallel <= 5.0,
            values={"seconds": parallel},
        ),
    ]


# -- the table ---------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| work | sandbox | reference | ratio | target | met |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.work} | {row.sandbox} | {row.reference} | {ratio} | {row.target} | {met} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    steps: list[Callable[[], list[Row]]] = [
        lambda: throughput_rows("unifiedorder", "/pay/unifiedorder", new_orders, 0.6),
        lambda: [row for row in [wiremock_row()] if row is not None],
        lambda: throughput_rows("orderquery", "/pay/orderquery", seeded_queries, 0.8),
        replica_rows,
        lambda: [startup_row()],
        lambda: [notification_row()],
        lambda: [v3_row()],
        store_size_rows,
        browser_rows,
    ]
    rows: list[Row] = []
    for step in steps:
        made = step()
        rows.extend(made)
        for row in made:
            print(f"  {row.work}: {row.sandbox}" + (f" vs {row.reference}" if row.reference else ""), flush=True)
    print()
    print(table(rows))
    print(f"\nMeasured on {machine()}; load by {'wrk' if shutil.which('wrk') else 'bench/loader.py'}, "
          f"{CONNECTIONS} connections, {SECONDS:.0f} s each.")  # fmt: skip
    result = {"machine": machine(), "seconds": SECONDS, "connections": CONNECTIONS,
              "rows": [dataclasses.asdict(r) for r in rows]}  # fmt: skip
    (HERE / "results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def new_orders(url: str, prefix: str) -> list[str]:
    """40,000 new orders (more than any run places); the sandbox's for its first user, the reference's for anyone."""
    return order_bodies(openid_of(url) if prefix == "S" else "o" * 28, 40_000, prefix)


def seeded_queries(url: str, prefix: str) -> list[str]:
    """Queries of 1,000 orders that exist (placed now on the sandbox; the minimal handler needs none)."""
    numbers = [f"{prefix}Q{n}" for n in range(1000)]
    if prefix == "S":
        openid = openid_of(url)
        for body in order_bodies(openid, 1000, f"{prefix}Q"):
            request = urllib.request.Request(f"{url}/pay/unifiedorder", data=body.encode(), method="POST")  # noqa: S310
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
    return query_bodies(numbers)


if __name__ == "__main__":
    main()
