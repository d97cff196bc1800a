"""Zero-config users: Faker's names for a seed, kept in the user's cache directory after the first start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_wechat.config import User
from sandbox import defaults

IDS = ("alice", "bob")


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_the_users_are_faker_s_for_the_seed() -> None:
    assert defaults.generate_users(IDS, 7) == defaults._faker_users(IDS, 7)


def test_a_second_start_up_reads_the_users_from_the_cache(monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    made = defaults.generate_users(IDS, 7)
    assert list((cache_home / "wechat-sandbox" / "users").glob("*.json"))

    def no_faker(ids: tuple[str, ...], seed: int) -> tuple[User, ...]:
        raise AssertionError("Faker was asked again")

    monkeypatch.setattr(defaults, "_faker_users", no_faker)
    assert defaults.generate_users(IDS, 7) == made


def test_another_seed_or_other_ids_are_not_read_from_the_cache() -> None:
    defaults.generate_users(IDS, 7)
    assert defaults.generate_users(IDS, 8) == defaults._faker_users(IDS, 8)
    assert defaults.generate_users((*IDS, "carol"), 7) == defaults._faker_users((*IDS, "carol"), 7)


def test_a_damaged_cache_file_is_made_again(cache_home: Path) -> None:
    made = defaults.generate_users(IDS, 7)
    [kept] = (cache_home / "wechat-sandbox" / "users").glob("*.json")
    kept.write_text("{not json", encoding="utf-8")
    assert defaults.generate_users(IDS, 7) == made
    assert kept.read_text(encoding="utf-8").startswith("{")


def test_an_unwritable_cache_directory_only_costs_the_time(cache_home: Path) -> None:
    (cache_home / "wechat-sandbox").write_text("a file where the directory would be", encoding="utf-8")
    assert defaults.generate_users(IDS, 7) == defaults._faker_users(IDS, 7)
