"""Drive a sandbox from tests: run one in a background thread, and call its control API."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, urlencode

from aiohttp import web

from mock_wechat.config import WeChatConfig
from mock_wechat.http_server import Runner
from mock_wechat.pay.orders import Outcome
from sandbox import config_file
from sandbox.app import create_app
from sandbox.keys import TLS
from sandbox.tunnel import front_for

START_TIMEOUT = 10.0


class SandboxError(AssertionError):
    """The control API refused a call; the message is its answer."""


class AppThread:
    """Any aiohttp app on 127.0.0.1 (a free port), built and served by its own loop in a daemon thread.

    Playwright's sync API keeps a loop running in the test's thread, so servers live in threads of their own.
    """

    def __init__(self, build: Callable[[], web.Application], *, tls_port: int | None = None) -> None:
        self._build = build
        self._tls_port = tls_port
        self._loop = asyncio.new_event_loop()
        self._runner: Runner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wechat-sandbox-app", daemon=True)
        self.url = ""
        self.tls_url = ""
        """`https://127.0.0.1:PORT` when started with a `tls_port` (the sandbox's certificate, from its local CA)."""
        self.app: web.Application | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self.app = self._build()
        runner = Runner(self.app, front=front_for(self.app))
        await runner.setup()
        self._runner = runner
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        if self._tls_port is not None:
            site = web.TCPSite(runner, "127.0.0.1", self._tls_port)  # the front does TLS (and journals failures)
            await site.start()
            self.tls_url = self.app[TLS].listen(runner.addresses[1][1], "127.0.0.1")

    def start(self) -> Self:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the app did not start")
        if self._error is not None:
            raise RuntimeError("the app failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(START_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT)
        self._loop.close()


class SandboxThread(AppThread):
    """The sandbox (`sandbox.create_app`), in memory, in a thread of its own; its HTTP port is also a proxy for
    WeChat's hosts. With a `tls_port` (0: a free one) it serves HTTPS too (`.tls_url`); the local CA is kept in
    `ca_dir` (default: the user's cache directory) and its certificate is `.ca_certificate`."""

    def __init__(
        self,
        config: WeChatConfig | None = None,
        notify_speed: float = 1.0,
        *,
        tls_port: int | None = None,
        ca_dir: Path | None = None,
    ) -> None:
        self.config = config if config is not None else config_file.load(None)
        build = lambda: create_app(self.config, notify_speed=notify_speed, ca_dir=ca_dir)  # noqa: E731
        super().__init__(build, tls_port=tls_port)

    @property
    def ca_certificate(self) -> Path:
        """The local CA's certificate (made now if it was not yet): what a client must trust."""
        assert self.app is not None, "start() the sandbox first"
        return self.app[TLS].ca.certificate_path


class WeChatSandbox:
    """A running sandbox as a test sees it: its URL, its config, and the control API as methods."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return json.loads(self._call_raw(method, path, body) or b"null")

    def _call_raw(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the sandbox's own URL, http(s) only
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise SandboxError(f"{method} {path} → {exc.code}: {exc.read().decode('utf-8', 'replace')}") from None

    # -- configuration ------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """`{"accounts": [...], "merchants": [...], "users": [...]}` with every credential."""
        return dict(self._call("GET", "/_sandbox/api/config"))

    @property
    def appid(self) -> str:
        return str(self.config["accounts"][0]["appid"])

    @property
    def secret(self) -> str:
        return str(self.config["accounts"][0]["secret"])

    @property
    def mch_id(self) -> str:
        return str(self.config["merchants"][0]["mch_id"])

    @property
    def mch_key(self) -> str:
        return str(self.config["merchants"][0]["key"])

    @property
    def v3(self) -> dict[str, str]:
        """The first merchant's API v3 material as wechatpayv3 takes it, so set-up is one line:
        `WeChatPay(wechatpay_type=WeChatPayType.JSAPI, notify_url=…, **wechat_sandbox.v3)` (then point
        `_core._gate_way` at `.url`). With `response_signing` "public_key" (the default) it carries `public_key`
        and `public_key_id`; with "platform_certificate" it does not, and wechatpayv3 wants a `cert_dir` holding
        `config["merchants"][0]["platform_certificate"]`."""
        config = self.config
        merchant = config["merchants"][0]
        settings = {
            "mchid": str(merchant["mch_id"]),
            "appid": str((merchant["appids"] or [config["accounts"][0]["appid"]])[0]),
            "private_key": str(merchant["private_key"]),
            "cert_serial_no": str(merchant["serial_no"]),
            "apiv3_key": str(merchant["apiv3_key"]),
        }
        if merchant["response_signing"] == "public_key":
            settings |= {"public_key": str(merchant["public_key"]), "public_key_id": str(merchant["public_key_id"])}
        return settings

    @property
    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_sandbox/api/health"))

    @property
    def tls_url(self) -> str | None:
        """The sandbox's HTTPS URL when it serves one (`--tls-port`), else None."""
        url = self.health["tls_url"]
        return None if url is None else str(url)

    @property
    def proxy(self) -> str:
        """The sandbox as an HTTP proxy for WeChat's hosts: `HTTPS_PROXY` for a client (with `ca_certificate`)."""
        return self.url

    def ca_certificate(self) -> str:
        """The path of the local CA's certificate (made now if missing) on the sandbox's machine."""
        self._call_raw("GET", "/_sandbox/api/ca.pem")
        return str(self.health["ca_certificate"])

    def user(self, user_id: str | None = None) -> dict[str, Any]:
        """A user as the config lists it (the first one by default): id, nickname, openids, pin, balance."""
        users = self.config["users"]
        if user_id is None:
            return dict(users[0])
        for user in users:
            if user["id"] == user_id:
                return dict(user)
        raise SandboxError(f"no user {user_id!r}; users: {[u['id'] for u in users]}")

    def openid(self, user_id: str | None = None, appid: str | None = None) -> str:
        return str(self.user(user_id)["openids"][appid or self.appid])

    def add_user(self, **profile: Any) -> dict[str, Any]:
        return dict(self._call("POST", "/_sandbox/api/users", profile))

    def update_user(self, user_id: str, **changes: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/_sandbox/api/users/{quote(user_id)}", changes))

    def configure_account(self, appid: str | None = None, **fields: Any) -> dict[str, Any]:
        """Set `oauth_domains`, `js_domains`, `trust_loopback`… for the app under test (until the next reset)."""
        return dict(self._call("POST", f"/_sandbox/api/accounts/{quote(appid or self.appid)}", fields))

    def configure_merchant(self, mch_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Set `pay_directories`, `notify_hosts`, `h5_domains`, `native_callback_url`, `trust_loopback`… (until the
        next reset)."""
        return dict(self._call("POST", f"/_sandbox/api/merchants/{quote(mch_id or self.mch_id)}", fields))

    def reset(self) -> None:
        self._call("POST", "/_sandbox/api/reset", {})

    # -- time, orders, notifications, journal -------------------------------------------------------

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", "/_sandbox/api/clock", {"advance": seconds}))

    def orders(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_sandbox/api/orders")["orders"])

    def order(self, out_trade_no: str, mch_id: str | None = None) -> dict[str, Any]:
        return dict(self._call("GET", f"/_sandbox/api/orders/{quote(mch_id or self.mch_id)}/{quote(out_trade_no)}"))

    def pay(
        self,
        *args: str,
        outcome: str | None = None,
        mch_id: str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """The payer pays, as on the pay sheet: the order turns SUCCESS and WeChat notifies.

        Either `pay(out_trade_no, outcome="success", mch_id=None)` (the first merchant by default) or
        `pay(mch_id, out_trade_no, outcome="success")`; two positional values are read as the second form
        unless the second is an outcome name (`success`, `notenough`, `fail`)."""
        mch, out_trade_no, how = _pay_arguments(args, outcome, mch_id)
        body: dict[str, Any] = {"outcome": how}
        if user is not None:
            body["user"] = user
        path = f"/_sandbox/api/orders/{quote(mch or self.mch_id)}/{quote(out_trade_no)}/pay"
        return dict(self._call("POST", path, body))

    def scan(self, code_url: str, *, user: str | None = None, outcome: str = "success") -> dict[str, Any]:
        """`user` (the first by default) scans `code_url` with WeChat and pays it with their PIN: a NATIVE order's
        code_url (mode 2), or a merchant's mode 1 bizpayurl (WeChat calls its scan-pay callback first).

        Returns `{"result": {"err_msg": …}, "order": {…}, "diagnostics": […]}`; a refused scan raises
        SandboxError with what the phone shows and why."""
        body: dict[str, Any] = {"code_url": code_url, "outcome": outcome}
        if user is not None:
            body["user"] = user
        return dict(self._call("POST", "/_sandbox/api/scan", body))

    def notifications(
        self, out_trade_no: str | None = None, *, wait_for: int = 0, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The notifications (of one order); with `wait_for`, waits until that many were delivered."""
        query = "" if out_trade_no is None else "?" + urlencode({"out_trade_no": out_trade_no})
        deadline = time.monotonic() + timeout
        while True:
            found = list(self._call("GET", "/_sandbox/api/notifications" + query)["notifications"])
            delivered = [n for n in found if n["status"] == "delivered"]
            if len(delivered) >= wait_for:
                return found
            if time.monotonic() >= deadline:
                seen = [(n["out_trade_no"], n["status"], [a.get("verdict") for a in n["attempts"]]) for n in found]
                raise SandboxError(
                    f"waited {timeout} s for {wait_for} delivered notification(s)"
                    f"{f' of {out_trade_no}' if out_trade_no else ''}; saw {len(delivered)}: {seen}"
                )
            time.sleep(0.05)

    def resend(self, notification_id: str, **options: Any) -> list[dict[str, Any]]:
        """Send a notification again: `duplicate=True`, or `tamper="sign"|"amount"`."""
        return list(
            self._call("POST", f"/_sandbox/api/notifications/{quote(notification_id)}/resend", options)["notifications"]
        )

    def journal(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_sandbox/api/journal")["entries"])


def load_config(path: str | Path | None) -> WeChatConfig:
    return config_file.load(Path(path) if path else None)


def _pay_arguments(args: tuple[str, ...], outcome: str | None, mch_id: str | None) -> tuple[str | None, str, str]:
    """`(mch_id, out_trade_no, outcome)` from either calling form of `WeChatSandbox.pay`."""
    outcomes = {o.value for o in Outcome}
    if len(args) == 1:
        return mch_id, args[0], outcome or "success"
    if len(args) == 2 and args[1] in outcomes:  # pay(out_trade_no, "notenough")
        if outcome is not None:
            raise TypeError("pay() got the outcome twice")
        return mch_id, args[0], args[1]
    if len(args) in (2, 3):  # pay(mch_id, out_trade_no[, outcome])
        if mch_id is not None:
            raise TypeError("pay(mch_id, out_trade_no) got mch_id twice")
        if len(args) == 3 and outcome is not None:
            raise TypeError("pay() got the outcome twice")
        return args[0], args[1], args[2] if len(args) == 3 else (outcome or "success")
    raise TypeError("pay() takes (out_trade_no) or (mch_id, out_trade_no[, outcome])")
