"""Several `wechat-sandbox serve --store postgresql://…` processes on one database, with nginx in front."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.postgres import Cluster, free_port
from tests.reliability.conftest import RunningServer, start
from tests.sandbox.conftest import STOP_TIMEOUT

REPLICAS = 2
START_TIMEOUT = 30.0
"""Seconds nginx may take to accept connections (milliseconds in practice; this only bounds a hang)."""


def site_config(listen: str, upstreams: list[int]) -> str:
    """The load balancer as README.md shows it (nginx's http context, e.g. /etc/nginx/conf.d/wechat-sandbox.conf).

    `Host $http_host` passes the port on too: the sandbox builds its own URLs (avatars, cashier links) from it.
    A replica that refuses a connection is skipped for 2 s, then tried again (restarted on its port)."""
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in upstreams)
    return f"""upstream wechat_sandbox {{
{servers}    keepalive 32;
}}

server {{
    listen {listen};
    client_max_body_size 10m;

    location / {{
        proxy_pass http://wechat_sandbox;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}

    location /_sandbox/api/events {{
        proxy_pass http://wechat_sandbox;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_buffering off;
        proxy_read_timeout 1h;
    }}
}}
"""


def nginx_config(directory: Path, port: int, upstreams: list[int], *, as_root: bool) -> str:
    """A whole nginx.conf around `site_config`, run in the foreground, everything it writes inside `directory`."""
    temp = "".join(
        f"    {kind}_temp_path {directory / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    site = site_config(f"127.0.0.1:{port}", upstreams)
    site = "".join(f"    {line}\n" if line else "\n" for line in site.splitlines())
    return f"""{"user root;" if as_root else ""}
worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log {directory / "access.log"};
{temp}{site}}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        pytest.fail(
            "nginx is not installed; the two-replica tests put it in front of the replicas: run "
            "`bash scripts/ensure-nginx.sh` (Debian: apt-get install nginx; macOS: brew install nginx)"
        )
    return found


@dataclass
class Nginx:
    """nginx in the foreground (`daemon off`), its config, logs and temporary files in `directory`."""

    directory: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_nginx(directory: Path, upstreams: list[int]) -> Nginx:
    """nginx on a free loopback port balancing round robin over `upstreams`; returned once it accepts."""
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, port, upstreams, as_root=os.geteuid() == 0))
    proc = subprocess.Popen(
        [nginx_binary(), "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = Nginx(directory, port, proc)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited {proc.returncode}: {nginx.error_log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return nginx
        except OSError:
            if time.monotonic() > deadline:
                nginx.stop()
                raise AssertionError(f"nginx not accepting within {START_TIMEOUT} s: {nginx.error_log()}") from None
            time.sleep(0.01)


@dataclass
class Replica:
    """One `wechat-sandbox serve --store DSN --port PORT --seed 1`; killed and started again on the same port."""

    name: str
    port: int
    dsn: str
    directory: Path
    server: RunningServer | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        run = self.directory / f"{self.name}-{self.starts}"
        run.mkdir()
        self.server = start(run, ["--port", str(self.port), "--store", self.dsn, "--seed", "1"])
        assert self.server.port == self.port

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crashed machine or an OOM kill would leave it."""
        assert self.server is not None
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait(STOP_TIMEOUT)

    def stop(self) -> int:
        assert self.server is not None
        return self.server.stop()

    def stderr(self) -> str:
        return "" if self.server is None else self.server.stderr()


@dataclass
class World:
    """The replicas (`a`, `b`, …), nginx in front of them (`url`), and the database they share."""

    replicas: list[Replica]
    nginx: Nginx
    dsn: str
    directory: Path
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def a(self) -> Replica:
        return self.replicas[0]

    @property
    def b(self) -> Replica:
        return self.replicas[1]


@pytest.fixture(scope="module")
def world(postgres_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A new database, REPLICAS sandboxes on it (started one after another: the first creates the schema) and
    nginx in front; each replica must stop cleanly at the end."""
    dsn = postgres_cluster.dsn(postgres_cluster.create_database())
    directory = tmp_path_factory.mktemp("replicas")
    replicas = [Replica(chr(ord("a") + i), free_port(), dsn, directory) for i in range(REPLICAS)]
    nginx: Nginx | None = None
    try:
        for replica in replicas:
            replica.start()
        nginx = start_nginx(directory, [r.port for r in replicas])
        yield World(replicas, nginx, dsn, directory)
    finally:
        if nginx is not None:
            nginx.stop()
        codes = {r.name: (r.stop() if r.server is not None else 0) for r in replicas}
    assert codes == {r.name: 0 for r in replicas}, [r.stderr() for r in replicas]
