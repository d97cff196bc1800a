"""A real `wechat-sandbox serve` subprocess whose stderr goes to a file, and a keep-alive HTTP client for it."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.sandbox.conftest import LISTENING, REPO, START_TIMEOUT, STOP_TIMEOUT, module_command, subprocess_env

REQUEST_TIMEOUT = 30.0
"""Seconds one answer may take; a hang fails the test instead of stalling the suite."""


def sandbox_command() -> list[str]:
    """The installed `wechat-sandbox` script beside this interpreter, else `python -m sandbox`."""
    script = Path(sys.executable).with_name("wechat-sandbox")
    return [str(script)] if script.exists() else module_command()


@dataclass
class RunningServer:
    """A sandbox process: its URL, and its stdout and stderr as files."""

    proc: subprocess.Popen[bytes]
    base_url: str
    host: str
    port: int
    stdout_path: Path
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running {STOP_TIMEOUT} s after SIGTERM") from None


def start(directory: Path, args: Sequence[str] = ("--in-memory", "--seed", "1")) -> RunningServer:
    """`wechat-sandbox serve --port 0 ARGS`, returned once its listening line is written."""
    stdout_path, stderr_path = directory / "stdout.txt", directory / "stderr.txt"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(  # the files stay open in the child
            [*sandbox_command(), "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=REPO,
            env=subprocess_env(),
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        first = stdout_path.read_text(encoding="utf-8", errors="replace").split("\n", 1)
        match = LISTENING.match(first[0]) if len(first) == 2 else None
        if match:
            url = urlsplit(match["url"])
            assert url.hostname is not None
            assert url.port is not None
            return RunningServer(proc, match["url"], url.hostname, url.port, stdout_path, stderr_path)
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} before listening: {stderr_path.read_text()}")
        time.sleep(0.02)  # polling a file for the start-up line, not in any request path
    proc.kill()
    proc.wait()
    raise AssertionError(f"no listening line within {START_TIMEOUT} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One in-memory sandbox (seed 1) for a test module; it must stop cleanly at the end."""
    running = start(tmp_path_factory.mktemp("sandbox"))
    try:
        yield running
    finally:
        code = running.stop()
    assert code == 0, running.stderr()
