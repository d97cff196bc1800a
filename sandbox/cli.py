"""The `wechat-sandbox` command: `serve` runs the emulator, `up` runs it with the demo shop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from mock_wechat.config import WeChatConfig
from mock_wechat.http_server import Runner
from mock_wechat.ids import openid_for
from mock_wechat.keys import KEYRING
from mock_wechat.store import Store, StoreError
from sandbox import config_file, remote, storage, tls, up
from sandbox.app import create_app
from sandbox.keys import TLS
from sandbox.tunnel import front_for

log = logging.getLogger("sandbox")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wechat-sandbox", description="A local, offline WeChat for web-payment tests.")
    remote.add_top_options(top)
    commands = top.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run the emulated WeChat"),
        ("up", "run the emulated WeChat and the demo shop beside it"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        sub.add_argument(
            "--port",
            type=int,
            default=8600,
            help="port (default 8600; 0 picks a free one); it is also a proxy for WeChat's hosts (HTTPS_PROXY)",
        )
        sub.add_argument(
            "--tls-port",
            type=int,
            metavar="N",
            help="also serve HTTPS on this port (0 picks a free one), with a certificate from the local CA",
        )
        where = sub.add_mutually_exclusive_group()
        where.add_argument(
            "--data-dir", type=Path, help=f"state directory (default {storage.DEFAULT_DATA_DIR}/, SQLite)"
        )
        where.add_argument("--in-memory", action="store_true", help="keep no state on disk")
        where.add_argument(
            "--store",
            metavar="URL",
            help=f"keep the state in this PostgreSQL database ({storage.EXAMPLE}), shared by every sandbox "
            f"started on it; also ${storage.ENV} or [sandbox] store in the config file ({storage.INSTALL})",
        )
        sub.add_argument("--config", type=Path, help="a TOML file overriding the defaults")
        sub.add_argument("--seed", type=int, help="seed for generated users and ids (reproducible runs)")
        sub.add_argument("--auto-user", metavar="ID", help="act as this user without showing the user picker")
        sub.add_argument(
            "--import",
            dest="import_file",
            type=Path,
            metavar="FILE",
            help="start from this state document (`wechat-sandbox export`) instead of the configured start",
        )
        sub.add_argument(
            "--notify-speed",
            type=float,
            default=1.0,
            metavar="N",
            help="run WeChat's notification retry schedule N times faster (default 1)",
        )
        if name == "up":
            sub.add_argument("--shop-port", type=int, default=8700, help="the demo shop's port (default 8700; 0: free)")
            sub.add_argument(
                "--shop-api",
                choices=up.SHOP_APIS,
                default="v2",
                help="the WeChat Pay API the demo shop speaks: v2 (XML, MD5) or v3 (JSON, RSA); default v2",
            )
    remote.add_commands(commands)
    ca = commands.add_parser(
        "ca",
        help="print the local CA certificate's path (made if missing)",
        description="Print the path of the local CA certificate that signs the sandbox's TLS certificates (for "
        "WeChat's hosts too), making it if missing. Trust it in your client: REQUESTS_CA_BUNDLE, SSL_CERT_FILE, "
        "NODE_EXTRA_CA_CERTS, or a JVM truststore (--java-truststore).",
    )
    where = ca.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, default=Path(".wechat-sandbox"), help="state directory")
    where.add_argument("--in-memory", action="store_true", help="the CA of --in-memory runs (the user's cache)")
    ca.add_argument(
        "--java-truststore",
        type=Path,
        metavar="FILE",
        help=f"also write a PKCS#12 truststore for the JVM (password {tls.JAVA_TRUSTSTORE_PASSWORD!r})",
    )
    return top


def ca_command(args: argparse.Namespace) -> int:
    """`wechat-sandbox ca`: the CA certificate's path on stdout (and the truststore's, when asked for)."""
    try:
        ca = tls.LocalCA.load_or_create(tls.ca_dir(None if args.in_memory else args.data_dir))
        if args.java_truststore is not None:
            args.java_truststore.write_bytes(ca.java_truststore())
    except tls.CAError as exc:
        print(f"wechat-sandbox: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"wechat-sandbox: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    print(ca.certificate_path.resolve())
    if args.java_truststore is not None:
        print(
            f"Java truststore: {args.java_truststore.resolve()} (PKCS12, password {tls.JAVA_TRUSTSTORE_PASSWORD}): "
            f"-Djavax.net.ssl.trustStore={args.java_truststore.resolve()} "
            f"-Djavax.net.ssl.trustStorePassword={tls.JAVA_TRUSTSTORE_PASSWORD}",
            file=sys.stderr,
        )
    return 0


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


async def warm_keys(app: web.Application) -> None:
    """Make the merchants' API v3 keys in a worker thread once listening, so no first request waits for them."""
    try:
        await app[KEYRING].warm()
    except Exception:
        log.exception("making the merchants' API v3 keys failed; they are made on first use instead")


class StartError(Exception):
    """The sandbox cannot start as asked (a state document it cannot import)."""


def load_scenario(app: web.Application, path: Path) -> None:
    from mock_wechat import json_input
    from sandbox.scenario import ScenarioError, import_state

    try:
        import_state(app, json_input.loads(path.read_bytes()))
    except OSError as exc:
        raise StartError(f"cannot read {path}: {exc.strerror}") from None
    except json_input.BadJson as exc:
        raise StartError(f"{path} is not a JSON state document: {exc}") from None
    except ScenarioError as exc:
        raise StartError(f"cannot import {path}: {exc}") from None


class ListenError(Exception):
    """An address that cannot be bound (in use, or not this machine's)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before any app is built, so each app can know the other's URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, host: str, scheme: str = "http") -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"{scheme}://{shown}:{sock.getsockname()[1]}"


async def serve(
    args: argparse.Namespace, config: WeChatConfig, store: Store, where: storage.Choice, with_shop: bool = False
) -> None:
    # Handlers first: a supervisor may signal as soon as it reads the listening line.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop.set)
    sandbox_sock = bind(args.host, args.port)
    sandbox_url = url_of(sandbox_sock, args.host)
    tls_sock = None if args.tls_port is None else bind(args.host, args.tls_port)
    shop_sock: socket.socket | None = None
    shop_url = ""
    if with_shop:
        shop_sock = bind(args.host, args.shop_port)
        shop_url = url_of(shop_sock, args.host)
        if args.config is None:
            config = up.demo_config(config, shop_url)
    app = create_app(config, store=store, data_dir=where.data_dir, notify_speed=args.notify_speed)
    if args.import_file is not None:
        load_scenario(app, args.import_file)
    if tls_sock is not None:  # CAError before anything listens
        app[TLS].listen(tls_sock.getsockname()[1], args.host)
    sites: list[tuple[web.Application, socket.socket]] = [(app, sandbox_sock)]
    if shop_sock is not None:
        from demo_shop import create_app as create_shop  # only `up` pays for importing the shop

        keys = await up.shop_keys(app, config) if args.shop_api == "v3" else None  # the shop's v3 key files
        settings = up.shop_settings(
            config, sandbox_url, shop_url, pay_api=args.shop_api, keys=keys, data_dir=where.data_dir
        )
        sites.append((create_shop(settings), shop_sock))
    runners = []
    warming: asyncio.Task[None] | None = None
    try:
        for each, sock in sites:
            runner = Runner(each, handle_signals=False, front=front_for(each))
            runners.append(runner)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            if each is app and tls_sock is not None:  # the front does TLS on it (and journals failed handshakes)
                await web.SockSite(runner, tls_sock).start()
        print(f"WeChat sandbox listening on {sandbox_url}", flush=True)
        if tls_sock is not None:
            print(f"WeChat sandbox TLS listening on {app[TLS].url}", flush=True)
            print(f"  CA certificate: {app[TLS].ca.certificate_path.resolve()}", flush=True)
        if with_shop:
            print(f"Demo shop listening on {shop_url}", flush=True)
        if where.url is not None:
            print(f"  State: {where.shown()}", flush=True)
        print(credentials_table(config), flush=True)
        # What start-up made (modules, the app, the seeded world) stays: the collector stops walking it, which
        # took a full collection from ~17 ms to ~6 ms under load here.
        gc.freeze()
        if where.url is not None or where.data_dir is not None:  # kept: made once, not on every start
            warming = asyncio.create_task(warm_keys(app))
        await stop.wait()
    finally:
        if warming is not None:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
        for runner in reversed(runners):
            await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "ca":
        return ca_command(args)
    if args.command in remote.COMMANDS:
        return remote.run(args)
    if args.notify_speed <= 0:
        print("wechat-sandbox: --notify-speed must be positive", file=sys.stderr)
        return 2
    try:
        config = config_file.load(args.config, seed=args.seed, auto_user=args.auto_user)
        file_store = config_file.store_url(args.config)
    except config_file.ConfigError as exc:
        print(f"wechat-sandbox: config error: {exc}", file=sys.stderr)
        return 2
    try:
        where = storage.choose(
            flag=args.store, data_dir=args.data_dir, in_memory=args.in_memory, env=os.environ, file_url=file_store
        )
        store = storage.open_store(where)
    except (ValueError, StoreError) as exc:
        print(f"wechat-sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(args, config, store, where, with_shop=args.command == "up"))
    except (ListenError, tls.CAError) as exc:
        print(f"wechat-sandbox: {exc}", file=sys.stderr)
        return 1
    except StartError as exc:
        print(f"wechat-sandbox: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0
