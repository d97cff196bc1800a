"""Which store a sandbox opens: the command line, then WECHAT_SANDBOX_STORE, then the config file, else the data dir."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mock_wechat.store import MemoryStore, SQLiteStore, StoreUnavailable
from sandbox import config_file, storage
from sandbox.storage import Choice, choose

FLAG = "postgresql://flag@db/wechat"
ENV = "postgresql://env@db/wechat"
FILE = "postgresql://file@db/wechat"


def chosen(
    *,
    flag: str | None = None,
    data_dir: Path | None = None,
    in_memory: bool = False,
    env: str = "",
    file: str | None = None,
) -> Choice:
    return choose(flag=flag, data_dir=data_dir, in_memory=in_memory, env={storage.ENV: env}, file_url=file)


def test_without_any_choice_the_state_is_in_the_default_data_dir() -> None:
    assert chosen() == Choice(data_dir=Path(".wechat-sandbox"))


def test_the_flag_wins_over_the_environment_and_the_file() -> None:
    assert chosen(flag=FLAG, env=ENV, file=FILE) == Choice(url=FLAG)


def test_the_environment_wins_over_the_file() -> None:
    assert chosen(env=ENV, file=FILE) == Choice(url=ENV)


def test_the_file_is_used_when_nothing_else_chooses() -> None:
    assert chosen(file=FILE) == Choice(url=FILE)


def test_an_empty_variable_chooses_nothing() -> None:
    assert chosen(env="", file=FILE) == Choice(url=FILE)


def test_a_data_dir_on_the_command_line_wins_over_the_environment() -> None:
    assert chosen(data_dir=Path("here"), env=ENV) == Choice(data_dir=Path("here"))


def test_in_memory_on_the_command_line_wins_over_the_file() -> None:
    assert chosen(in_memory=True, file=FILE) == Choice()


def test_a_flag_that_is_no_postgresql_url_is_refused_without_its_password() -> None:
    with pytest.raises(ValueError, match=r"^--store must") as refused:
        chosen(flag="mysql://root:s3cret@db/wechat")
    assert str(refused.value) == (
        "--store must be a postgresql:// URL (postgresql://user:password@host:5432/database), "
        "got 'mysql://root:***@db/wechat'"
    )


def test_a_variable_that_is_no_postgresql_url_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^WECHAT") as refused:
        chosen(env="sqlite:///tmp/x.db")
    assert str(refused.value) == (
        "WECHAT_SANDBOX_STORE must be a postgresql:// URL (postgresql://user:password@host:5432/database), "
        "got 'sqlite:///tmp/x.db'"
    )


def test_the_config_files_store_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(f'[sandbox]\nstore = "{FILE}"\n', encoding="utf-8")
    assert config_file.store_url(path) == FILE


def test_a_config_file_without_a_store_names_none(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text("[sandbox]\nseed = 3\n", encoding="utf-8")
    assert config_file.store_url(path) is None
    assert config_file.store_url(None) is None


def test_a_config_files_store_that_is_no_url_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text('[sandbox]\nstore = "db.example:5432"\n', encoding="utf-8")
    with pytest.raises(config_file.ConfigError) as refused:
        config_file.load(path)
    assert str(refused.value) == (
        "sandbox.store: must be a postgresql:// URL (postgresql://user:password@host:5432/database), "
        "got 'db.example:5432'"
    )


def test_a_config_files_store_that_is_no_string_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text("[sandbox]\nstore = 5432\n", encoding="utf-8")
    with pytest.raises(config_file.ConfigError) as refused:
        config_file.load(path)
    assert str(refused.value) == "sandbox.store: must be a string, got 5432"


def test_a_data_dir_opens_sqlite_in_it(tmp_path: Path) -> None:
    store = storage.open_store(Choice(data_dir=tmp_path))
    try:
        assert isinstance(store, SQLiteStore)
        assert (tmp_path / "state.sqlite3").exists()
    finally:
        store.close()


def test_no_data_dir_and_no_url_opens_memory() -> None:
    assert isinstance(storage.open_store(Choice()), MemoryStore)


def test_without_psycopg_postgresql_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` finds when it is not installed
    monkeypatch.delitem(sys.modules, "mock_wechat.store.postgres", raising=False)
    with pytest.raises(StoreUnavailable) as refused:
        storage.open_store(Choice(url=FLAG))
    assert str(refused.value) == (
        "a PostgreSQL store needs psycopg, which is not installed: pip install 'wechat-sandbox[postgres]'"
    )


def test_what_is_shown_of_a_url_has_no_password() -> None:
    assert (
        Choice(url="postgresql://sandbox:s3cret@db/wechat").shown() == "postgresql://sandbox:***@db/wechat (PostgreSQL)"
    )
