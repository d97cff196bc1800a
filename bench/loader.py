"""A load generator of our own for machines without wrk: N connections POSTing a file's bodies for S seconds.

`python -m bench.loader URL BODIES --connections 32 --seconds 5` prints `{"requests", "rps", "p50", "p99",
"errors"}` (seconds) as JSON. It runs in its own process, so it does not share a core's loop with the server."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp

Request = tuple[dict[str, str], bytes]
XML = {"Content-Type": "text/xml"}


def parse(line: str) -> Request:
    """A line of the bodies file: XML, or `AUTH<TAB>JSON` (an API v3 request with its Authorization)."""
    auth, tab, body = line.partition("\t")
    if not tab:
        return XML, line.encode()
    return {"Content-Type": "application/json", "Accept": "application/json", "Authorization": auth}, body.encode()


async def run(url: str, bodies: list[Request], connections: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    index = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal index, errors
            while time.perf_counter() < deadline:
                headers, body = bodies[index % len(bodies)]
                index += 1
                started = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        if resp.status >= 500:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        took = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / took,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("bodies", type=Path)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    bodies = [parse(line) for line in args.bodies.read_text(encoding="utf-8").splitlines()]
    print(json.dumps(asyncio.run(run(args.url, bodies, args.connections, args.seconds))))


if __name__ == "__main__":
    main()
