"""The `wechat-sandbox` command: `serve` runs the emulator, `up` runs it with the demo shop."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from mock_wechat.config import WeChatConfig
from mock_wechat.ids import openid_for
from sandbox import config_file
from sandbox.app import create_app


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wechat-sandbox", description="A local, offline WeChat for web-payment tests.")
    commands = top.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run the emulated WeChat"),
        ("up", "run the emulated WeChat and the demo shop (the demo shop arrives with a later release)"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        sub.add_argument("--port", type=int, default=8600, help="port (default 8600; 0 picks a free one)")
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--data-dir", type=Path, default=Path(".wechat-sandbox"), help="state directory")
        where.add_argument("--in-memory", action="store_true", help="keep no state on disk")
        sub.add_argument("--config", type=Path, help="a TOML file overriding the defaults")
        sub.add_argument("--seed", type=int, help="seed for generated users and ids (reproducible runs)")
        sub.add_argument("--auto-user", metavar="ID", help="act as this user without showing the user picker")
        sub.add_argument(
            "--notify-speed",
            type=float,
            default=1.0,
            metavar="N",
            help="run WeChat's notification retry schedule N times faster (default 1)",
        )
    return top


def credentials_table(config: WeChatConfig) -> str:
    lines = []
    for a in config.accounts:
        lines.append(f"  Official Account  appid={a.appid}  secret={a.secret}  ({a.name})")
    for m in config.merchants:
        lines.append(f"  Merchant          mch_id={m.mch_id}  key={m.key}  ({m.name})")
    first = config.accounts[0].appid
    for u in config.users:
        lines.append(f"  User {u.id:<12} {u.nickname}  openid={openid_for(first, u.id)}  pin={u.pin}")
    return "\n".join(lines)


async def serve(args: argparse.Namespace, config: WeChatConfig) -> None:
    # Handlers first: a supervisor may signal as soon as it reads the listening line.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = create_app(config, data_dir=None if args.in_memory else args.data_dir, notify_speed=args.notify_speed)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = runner.addresses[0][1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"WeChat sandbox listening on http://{host}:{port}", flush=True)
    print(credentials_table(config), flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.notify_speed <= 0:
        print("wechat-sandbox: --notify-speed must be positive", file=sys.stderr)
        return 2
    try:
        config = config_file.load(args.config, seed=args.seed, auto_user=args.auto_user)
    except config_file.ConfigError as exc:
        print(f"wechat-sandbox: config error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(args, config))
    except OSError as exc:
        print(f"wechat-sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
