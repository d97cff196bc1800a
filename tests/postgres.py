"""A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary directory, a unix socket, one database each."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 60
SETTINGS = (
    "fsync=off",  # a test cluster need not survive a power cut; each commit then costs no disk flush
    "full_page_writes=off",
    "max_connections=200",  # several stores per test, several sandbox processes in the replica tests
    "shared_buffers=32MB",
    "unix_socket_permissions=0777",
)


def binary(name: str) -> str:
    """An executable of PostgreSQL's server: on the path, or in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found is not None:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_of, reverse=True)
    if not candidates:
        pytest.fail(
            f"PostgreSQL's {name} is not installed; the PostgreSQL tests need it: run "
            "`bash scripts/ensure-postgres.sh` (Debian: apt-get install postgresql; macOS: brew install postgresql)"
        )
    return candidates[0]


def _version_of(path: str) -> int:
    version = Path(path).parent.parent.name
    return int(version) if version.isdigit() else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: its unix socket in `directory` (and 127.0.0.1:`port`), superuser `postgres`, no password."""

    directory: Path
    port: int
    as_user: list[str]
    _names: Iterator[int] = field(default_factory=itertools.count)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.directory}&port={self.port}"

    def tcp_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database's name (a copy of template0: a few milliseconds with fsync off)."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.dsn(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY file_copy")
        return name

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )


def _unprivileged() -> tuple[list[str], int | None]:
    """How to run the server's commands: as ourselves, or (PostgreSQL refuses root) as the `postgres` user."""
    if os.geteuid() != 0:
        return [], None
    import pwd

    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, and there is no `postgres` user to run PostgreSQL as: apt-get install postgresql")
    runuser = shutil.which("runuser")
    command = [runuser, "-u", "postgres", "--"] if runuser else ["setpriv", "--reuid=postgres", "--regid=postgres"]
    if not runuser:
        command.append("--init-groups")
    return command, user.pw_uid


def start_cluster() -> Cluster:
    """initdb in a new temporary directory and start the server on a socket there; fails the test when it cannot."""
    initdb, pg_ctl = binary("initdb"), binary("pg_ctl")
    as_user, uid = _unprivileged()
    directory = Path(tempfile.mkdtemp(prefix="wechat-sandbox-pg-"))
    if uid is not None:
        os.chown(directory, uid, -1)
    cluster = Cluster(directory, free_port(), as_user)
    made = cluster.run(initdb, "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                       "--no-locale", "--no-sync")  # fmt: skip
    if made.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"initdb failed ({made.returncode}): {made.stderr.strip() or made.stdout.strip()}")
    options = f"-k {directory} -p {cluster.port} -c listen_addresses=127.0.0.1 " + " ".join(
        f"-c {setting}" for setting in SETTINGS
    )
    started = cluster.run(
        pg_ctl, "-D", str(directory / "data"), "-l", str(directory / "server.log"), "-o", options, "-w", "start"
    )
    if started.returncode != 0:
        log = (directory / "server.log").read_text(errors="replace") if (directory / "server.log").exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start ({started.returncode}): {started.stderr.strip()}\n{log}")
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    cluster.run(binary("pg_ctl"), "-D", str(cluster.directory / "data"), "-m", "immediate", "-w", "stop")
    shutil.rmtree(cluster.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One cluster for the whole session, stopped and removed at its end. Fails (never skips) without PostgreSQL."""
    cluster = start_cluster()
    yield cluster
    stop_cluster(cluster)


@pytest.fixture
def postgres_dsn(postgres_cluster: Cluster) -> str:
    """The DSN of a new, empty database of the session's cluster (over its unix socket)."""
    return postgres_cluster.dsn(postgres_cluster.create_database())
