"""A PostgreSQL DSN as the sandbox shows it: the password masked, wherever it was written."""

from __future__ import annotations

import pytest

from mock_wechat.store.dsn import is_postgres_url, masked, scrubbed


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://sandbox:s3cret@db:5432/wechat", "postgresql://sandbox:***@db:5432/wechat"),
        ("postgres://sandbox:p%40ss@db/wechat", "postgres://sandbox:***@db/wechat"),
        (
            "postgresql://sandbox@db/wechat?password=s3cret&sslmode=require",
            "postgresql://sandbox@db/wechat?password=***&sslmode=require",
        ),
        ("postgresql://sandbox:a:b@db/wechat", "postgresql://sandbox:***@db/wechat"),
        ("postgresq://sandbox:s3cret@db/wechat", "postgresq://sandbox:***@db/wechat"),
        ("host=db user=sandbox password=s3cret dbname=wechat", "host=db user=sandbox password=*** dbname=wechat"),
        ("host=db password = 'it\\'s secret' dbname=wechat", "host=db password = *** dbname=wechat"),
    ],
)
def test_the_password_is_masked(dsn: str, shown: str) -> None:
    assert masked(dsn) == shown


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://sandbox@db/wechat", "postgresql:///wechat?host=/run/postgresql", "host=db dbname=wechat"],
)
def test_a_dsn_without_a_password_is_shown_as_it_is(dsn: str) -> None:
    assert masked(dsn) == dsn


def test_a_drivers_message_loses_the_password() -> None:
    message = 'FATAL:  password authentication failed for user "sandbox" (password s3cret)'
    assert scrubbed(message, "postgresql://sandbox:s3cret@db/wechat") == (
        'FATAL:  password authentication failed for user "sandbox" (password ***)'
    )


@pytest.mark.parametrize(
    ("value", "is_url"),
    [("postgresql://db/x", True), ("postgres://db/x", True), ("mysql://db/x", False), ("db", False)],
)
def test_only_postgresql_urls_are_postgresql_urls(value: str, is_url: bool) -> None:
    assert is_postgres_url(value) is is_url
