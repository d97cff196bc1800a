"""Users by openid: the lookup every order with an openid makes."""

from __future__ import annotations

from mock_wechat.account.service import AccountService
from mock_wechat.clock import ManualClock
from mock_wechat.ids import Ids, openid_for
from mock_wechat.store import SQLiteStore
from tests.conftest import APPID, OTHER_APPID, make_config


def service() -> AccountService:
    accounts = AccountService(make_config(), SQLiteStore.in_memory(), ManualClock(), Ids(7))
    accounts.seed_users()
    return accounts


def test_a_user_is_found_by_an_openid_of_each_app() -> None:
    accounts = service()
    for appid in (APPID, OTHER_APPID):
        found = accounts.user_by_openid(appid, openid_for(appid, "bob"))
        assert found is not None
        assert found.id == "bob"


def test_an_openid_of_another_app_finds_nobody() -> None:
    accounts = service()
    assert accounts.user_by_openid(APPID, openid_for(OTHER_APPID, "bob")) is None


def test_a_user_found_once_and_then_removed_is_found_no_more() -> None:
    accounts = service()
    openid = openid_for(APPID, "bob")
    assert accounts.user_by_openid(APPID, openid) is not None
    accounts.users.delete("bob")
    assert accounts.user_by_openid(APPID, openid) is None


def test_a_user_added_later_is_found() -> None:
    from dataclasses import replace

    accounts = service()
    alice = accounts.user("alice")
    assert alice is not None
    accounts.user_by_openid(APPID, "o-nobody")  # fills what is known so far
    accounts.put_user(replace(alice, id="dave"))
    found = accounts.user_by_openid(APPID, openid_for(APPID, "dave"))
    assert found is not None
    assert found.id == "dave"
