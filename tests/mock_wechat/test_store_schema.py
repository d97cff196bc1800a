"""Schema versions, on SQLite and PostgreSQL: a new store is stamped, an older one migrated, a newer one refused."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest
from aiohttp import web

import mock_wechat
from mock_wechat.keys import PAY
from mock_wechat.pay import v2_xml
from mock_wechat.pay.service import PayService
from mock_wechat.store import StoreVersionError, schema
from tests.conftest import ClientFactory, make_config
from tests.mock_wechat.conftest import Shared
from tests.pay_helpers import order_fields, post

NATIVE_ORDER = {
    "mch_id": "1900000109",
    "out_trade_no": "N1",
    "trade_type": "NATIVE",
    "prepay_id": "wx201410272009395522657a690389285100",
}


class Boom(Exception):
    pass


def version(shared: Shared) -> int | None:
    """The recorded version; None when none is (no row, or no table: a store made before versions)."""
    try:
        rows = shared.sql("SELECT version FROM schema_version")
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return None
    return None if not rows else int(rows[0][0])


def made_by_an_unversioned_sandbox(shared: Shared, *records: tuple[str, str, str, dict[str, Any]]) -> None:
    """A store as wechat-sandbox left it before schema versions: the tables, the records, no version."""
    store = shared()
    for kind, key, owner, data in records:
        store.put(kind, key, owner, data)
    store.close()
    shared.sql("DROP TABLE schema_version")


def test_a_new_store_is_stamped_with_the_current_version(open_shared: Shared) -> None:
    open_shared()
    assert version(open_shared) == schema.CURRENT == 2


def test_an_unversioned_store_is_taken_as_version_1_and_migrated(open_shared: Shared) -> None:
    made_by_an_unversioned_sandbox(open_shared, ("order", "1900000109:N1", "1900000109", NATIVE_ORDER))
    store = open_shared()
    assert version(open_shared) == schema.CURRENT
    assert store.get("pay_index", "pr:9285100") == {"value": "1900000109:N1"}


def test_the_migration_points_only_native_orders_codes_at_them(open_shared: Shared) -> None:
    jsapi = {**NATIVE_ORDER, "out_trade_no": "J1", "trade_type": "JSAPI", "prepay_id": "wx2014102720093955226571234567"}
    made_by_an_unversioned_sandbox(open_shared, ("order", "1900000109:J1", "1900000109", jsapi))
    store = open_shared()
    assert store.query("pay_index") == []


def test_a_current_store_is_not_migrated_again(open_shared: Shared) -> None:
    first = open_shared()
    first.put("order", "1900000109:N1", "1900000109", NATIVE_ORDER)  # as if its pointer were gone
    first.close()
    assert open_shared().query("pay_index") == []


def test_a_failing_migration_leaves_the_store_as_it_was(open_shared: Shared, monkeypatch: pytest.MonkeyPatch) -> None:
    made_by_an_unversioned_sandbox(open_shared, ("order", "1900000109:N1", "1900000109", NATIVE_ORDER))

    def fails(store: Any) -> None:
        raise Boom

    monkeypatch.setattr(schema, "MIGRATIONS", (schema.index_native_codes, fails))
    monkeypatch.setattr(schema, "CURRENT", 3)
    with pytest.raises(Boom):
        open_shared()
    assert open_shared.sql("SELECT count(*) FROM records WHERE kind = 'pay_index'") == [(0,)]
    assert version(open_shared) is None


def test_a_newer_store_is_refused_naming_both_versions(open_shared: Shared) -> None:
    open_shared().close()
    open_shared.sql("UPDATE schema_version SET version = 7")
    with pytest.raises(StoreVersionError) as refused:
        open_shared()
    assert str(refused.value) == (
        f"{open_shared.where} has schema version 7, but this wechat-sandbox knows versions up to 2: "
        "upgrade wechat-sandbox, or use another data dir or database"
    )


def test_a_refused_store_is_left_untouched(open_shared: Shared) -> None:
    first = open_shared()
    first.put("thing", "k", "wxA", {"v": 1})
    first.close()
    open_shared.sql("UPDATE schema_version SET version = 7")
    with pytest.raises(StoreVersionError):
        open_shared()
    assert version(open_shared) == 7
    assert open_shared.sql("SELECT count(*) FROM records") == [(1,)]


async def test_an_old_native_orders_code_is_found_after_the_migration(
    open_shared: Shared, aiohttp_client: ClientFactory
) -> None:
    """An order made while codes were found without a pointer (pointer and version removed) pays after upgrade."""
    store = open_shared()
    client = await aiohttp_client(mock_wechat.create_app(make_config(), store=store))
    order = order_fields(out_trade_no="OLD1", trade_type="NATIVE", openid=None, product_id="tea")
    status, text = await post(client, "/pay/unifiedorder", order)
    assert status == 200, text
    pr = v2_xml.parse(text.encode())["code_url"].rsplit("pr=", 1)[1]
    await client.close()
    store.delete("pay_index", f"pr:{pr}")
    store.close()
    open_shared.sql("DROP TABLE schema_version")
    found = pay_service(mock_wechat.create_app(make_config(), store=open_shared())).by_pr(pr)
    assert found is not None
    assert (found.mch_id, found.out_trade_no) == ("1900000109", "OLD1")


def pay_service(app: web.Application) -> PayService:
    return app[PAY]
