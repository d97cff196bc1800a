"""The real `wechat-sandbox` command as a subprocess: start it, find its URL, stop it with a signal."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import defaults
from sandbox.testing import SandboxThread, WeChatSandbox
from tests.pay_helpers import MCH_KEY, order_fields, signed_xml

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^WeChat sandbox listening on (?P<url>http://\S+:(?P<port>\d+))$")
START_TIMEOUT = 30.0
"""Seconds to wait for the listening line (start-up takes well under one; this only bounds a hang)."""
STOP_TIMEOUT = 10.0
"""Seconds a stopped server may take to exit ("promptly")."""
RUN_TIMEOUT = 60
"""Seconds a command that exits by itself may take (it takes about one; this only bounds a hang)."""


def module_command() -> list[str]:
    """`python -m sandbox` with the interpreter running the tests."""
    return [sys.executable, "-m", "sandbox"]


def subprocess_env() -> dict[str, str]:
    """The tests' environment, with this checkout first on the path and UTF-8 pipes."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONUNBUFFERED", None)  # the command must flush its own output
    return env


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command to completion (for the cases that exit by themselves)."""
    return subprocess.run(
        [*module_command(), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=RUN_TIMEOUT,
        env=subprocess_env(),
        cwd=cwd,
        check=False,
    )


def _pump(stream: IO[str], sink: list[str], lines: queue.Queue[str | None] | None) -> None:
    """Copy a pipe line by line into `sink` (and `lines`), until it closes."""
    for raw in stream:
        line = raw.rstrip("\n")
        sink.append(line)
        if lines is not None:
            lines.put(line)
    if lines is not None:
        lines.put(None)


class Server:
    """A running `wechat-sandbox` process and everything it printed."""

    def __init__(self, proc: subprocess.Popen[str], command: Sequence[str]) -> None:
        self.proc = proc
        self.command = list(command)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.base_url = ""
        self.port = 0
        self.startup_seconds = 0.0
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._threads = [
            threading.Thread(target=_pump, args=(proc.stdout, self.stdout, self._lines), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, self.stderr, None), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def wait_listening(self, started: float, timeout: float = START_TIMEOUT) -> None:
        """Read stdout until the listening line; fail with the output if the process dies first."""
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"no listening line within {timeout} s; stdout: {self.stdout}") from None
            if line is None:
                code = self.proc.wait(STOP_TIMEOUT)
                self._join()
                raise AssertionError(f"{self.command} exited {code} before listening; stderr: {self.text('stderr')}")
            match = LISTENING.match(line)
            if match:
                self.startup_seconds = time.monotonic() - started
                self.base_url = match["url"]
                self.port = int(match["port"])
                return

    def read_line(self, timeout: float = START_TIMEOUT) -> str | None:
        """The next line of stdout after the listening line, as soon as the command flushed it (None at EOF)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no further output within {timeout} s; stdout so far: {self.stdout}") from None

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send `sig` and wait for the exit code; a server that does not exit in time is killed and fails."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {timeout} s after {sig.name}") from None
        self._join()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._join()

    def text(self, which: str = "stdout") -> str:
        return "\n".join(self.stdout if which == "stdout" else self.stderr)

    def _join(self) -> None:
        """After the exit: collect the rest of the output and close the pipes."""
        for thread in self._threads:
            thread.join(STOP_TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def spawn(args: Sequence[str], *, command: Sequence[str] | None = None, cwd: Path | None = None) -> Server:
    """Start the command with `args`; the caller waits for it (or for its exit)."""
    full = [*(command if command is not None else module_command()), *args]
    proc = subprocess.Popen(
        full,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=cwd if cwd is not None else REPO,
        env=subprocess_env(),
    )
    return Server(proc, full)


def start_server(
    *args: str, subcommand: str = "serve", command: Sequence[str] | None = None, cwd: Path | None = None
) -> Server:
    """`wechat-sandbox SUBCOMMAND --port 0 ARGS...`, returned once it printed its listening line."""
    started = time.monotonic()
    server = spawn([subcommand, "--port", "0", *args], command=command, cwd=cwd)
    server.wait_listening(started)
    return server


class ServerFactory(Protocol):
    def __call__(
        self, *args: str, subcommand: str = "serve", command: Sequence[str] | None = None, cwd: Path | None = None
    ) -> Server: ...


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Server]:
    """One in-memory sandbox for the whole session (default config, seed 1)."""
    server = start_server("--in-memory", "--seed", "1")
    try:
        yield server
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.text("stderr")


@pytest.fixture(scope="session")
def base_url(sandbox_server: Server) -> str:
    return sandbox_server.base_url


@pytest.fixture
def launch() -> Iterator[ServerFactory]:
    """Start servers (e.g. twice on one --data-dir); any still running at the end is killed."""
    started: list[Server] = []

    def factory(
        *args: str, subcommand: str = "serve", command: Sequence[str] | None = None, cwd: Path | None = None
    ) -> Server:
        server = start_server(*args, subcommand=subcommand, command=command, cwd=cwd)
        started.append(server)
        return server

    yield factory
    for server in started:
        if server.proc.poll() is None:
            server.kill()


# -- the OAuth flow as a script drives it (no browser): headers choose the user and the consent -----

REDIRECT_URI = "http://127.0.0.1:9000/cb"


def authorize_code(
    base_url: str,
    user: str = "alice",
    *,
    appid: str = defaults.DEFAULT_APPID,
    scope: str = "snsapi_userinfo",
    state: str = "st",
    url: str | None = None,
) -> str:
    """GET the authorize URL (built here, or `url`) as `user` who allows; the code from the redirect."""
    headers = {"X-WeChat-Sandbox-User": user, "X-WeChat-Sandbox-Consent": "allow"}
    if url is None:
        params = {"appid": appid, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": scope}
        resp = requests.get(
            f"{base_url}/connect/oauth2/authorize",
            params={**params, "state": state},
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
    else:
        resp = requests.get(url, headers=headers, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    [code] = query["code"]
    return code


def exchange_code(base_url: str, code: str, *, appid: str = defaults.DEFAULT_APPID) -> dict[str, Any]:
    """`/sns/oauth2/access_token` with the default secret; the JSON body, success or error."""
    params = {"appid": appid, "secret": defaults.DEFAULT_SECRET, "code": code, "grant_type": "authorization_code"}
    body = requests.get(f"{base_url}/sns/oauth2/access_token", params=params, timeout=10).json()
    assert isinstance(body, dict)
    return body


# -- an in-process sandbox per test module (its CA in a temporary directory) ------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxThread]:
    """A sandbox in a thread of this process for the test module; its HTTP port is also the proxy."""
    started = SandboxThread(ca_dir=tmp_path_factory.mktemp("ca")).start()
    yield started
    started.stop()


@pytest.fixture
def sandbox(server: SandboxThread) -> WeChatSandbox:
    """`server`'s control API, reset before the test."""
    sandbox = WeChatSandbox(server.url)
    sandbox.reset()
    return sandbox


def place(url: str, out_trade_no: str, total_fee: int = 100, **fields: Any) -> None:
    body = signed_xml(order_fields(out_trade_no=out_trade_no, total_fee=total_fee, **fields), MCH_KEY)
    answer = requests.post(f"{url}/pay/unifiedorder", data=body, timeout=10)
    assert "<result_code><![CDATA[SUCCESS]]></result_code>" in answer.text
