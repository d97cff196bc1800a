"""Which store a sandbox process opens: a PostgreSQL database (flag, environment or file), a data dir, or memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mock_wechat.store import Store, StoreUnavailable
from mock_wechat.store.dsn import is_postgres_url, masked
from sandbox.app import STATE_FILE
from sandbox.app import open_store as open_here

ENV = "WECHAT_SANDBOX_STORE"
DEFAULT_DATA_DIR = Path(".wechat-sandbox")
EXAMPLE = "postgresql://user:password@host:5432/database"
INSTALL = "pip install 'wechat-sandbox[postgres]'"


@dataclass(frozen=True)
class Choice:
    """Where the state lives: `url` (PostgreSQL), else `data_dir` (SQLite), else memory (both None)."""

    url: str | None = None
    data_dir: Path | None = None

    def shown(self) -> str:
        """What to print about it (a URL's password masked)."""
        if self.url is not None:
            return f"{masked(self.url)} (PostgreSQL)"
        return "memory" if self.data_dir is None else str(self.data_dir / STATE_FILE)


def url_problem(value: object) -> str | None:
    """Why `value` is not a store URL (None when it is one); the value itself is shown with its password masked."""
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if is_postgres_url(value):
        return None
    return f"must be a postgresql:// URL ({EXAMPLE}), got {masked(value)!r}"


def choose(
    *, flag: str | None, data_dir: Path | None, in_memory: bool, env: Mapping[str, str], file_url: str | None
) -> Choice:
    """The command line first (`--store`, `--data-dir`, `--in-memory`), then `WECHAT_SANDBOX_STORE`, then the config
    file's `[sandbox] store`, else the default data dir. Raises ValueError when `--store` or the variable is no URL."""
    if flag is not None:
        problem = url_problem(flag)
        if problem is not None:
            raise ValueError(f"--store {problem}")
        return Choice(url=flag)
    if in_memory:
        return Choice()
    if data_dir is not None:
        return Choice(data_dir=data_dir)
    from_env = env.get(ENV, "")
    if from_env:
        problem = url_problem(from_env)
        if problem is not None:
            raise ValueError(f"{ENV} {problem}")
        return Choice(url=from_env)
    if file_url is not None:
        return Choice(url=file_url)
    return Choice(data_dir=DEFAULT_DATA_DIR)


def open_store(choice: Choice) -> Store:
    """The chosen store, opened (its schema created or migrated). Raises `StoreError` (`StoreUnavailable` when
    psycopg is missing or the database cannot be reached, `StoreVersionError` when its schema is newer)."""
    if choice.url is None:
        return open_here(choice.data_dir)
    try:
        from mock_wechat.store.postgres import PostgresStore
    except ImportError:
        raise StoreUnavailable(f"a PostgreSQL store needs psycopg, which is not installed: {INSTALL}") from None
    return PostgresStore(choice.url)
