"""`sandbox.journal` (the observer that records each emulated call) and `sandbox.masking`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from mock_wechat.keys import Exchange
from mock_wechat.store import SQLiteStore
from sandbox import journal as journal_module
from sandbox.journal import Journal, entry, is_workbench
from sandbox.masking import SECRET_NAMES, mask, mask_params, mask_text
from tests.conftest import ClientFactory

TOKEN = "Ab" + "x" * 130 + "_-Yz"
SECRET = "5ec0f1a2b3c4d5e6f708192a3b4c5d6e"


def exchange(path: str = "/cgi-bin/token", **overrides: object) -> Exchange:
    values: dict[str, object] = {
        "time": 1_700_000_000.123456,
        "method": "GET",
        "path": path,
        "query": {"grant_type": "client_credential", "appid": "wx1", "secret": SECRET},
        "status": 200,
        "rid": "6553f100-0000abcd-1234ef00",
    }
    values.update(overrides)
    return Exchange(**values)  # type: ignore[arg-type]


@pytest.fixture
def store() -> SQLiteStore:
    return SQLiteStore.in_memory()


# -- masking --------------------------------------------------------------------------------------


def test_mask_hides_a_long_value_but_tells_two_apart() -> None:
    masked = mask(TOKEN)
    assert TOKEN not in masked
    assert masked == "Abxx…_-Yz (136 chars)"
    assert mask(TOKEN) != mask(TOKEN[::-1])


@pytest.mark.parametrize("value", ["a", "12345678", "short"])
def test_mask_hides_a_short_value_entirely(value: str) -> None:
    assert mask(value) == "****"


def test_mask_reveals_at_most_eight_characters() -> None:
    for length in range(9, 40):
        value = "".join(chr(ord("a") + i % 26) for i in range(length))
        masked = mask(value)
        assert value not in masked
        assert sum(c.isalpha() for c in masked.split(" (")[0]) == 8


@pytest.mark.parametrize("name", sorted(SECRET_NAMES))
def test_every_secret_name_is_masked(name: str) -> None:
    assert mask_params({name: SECRET}) == {name: mask(SECRET)}


def test_secret_names_cover_what_wechat_calls_carry() -> None:
    expected = {"secret", "access_token", "refresh_token", "code", "ticket", "sign", "paysign", "signature", "key"}
    assert expected <= SECRET_NAMES


def test_mask_params_matches_names_in_any_case() -> None:
    masked = mask_params({"Secret": SECRET, "ACCESS_TOKEN": TOKEN, "paySign": SECRET})
    assert masked == {"Secret": mask(SECRET), "ACCESS_TOKEN": mask(TOKEN), "paySign": mask(SECRET)}


def test_mask_params_keeps_what_is_not_secret_and_empty_values() -> None:
    params = {"appid": "wx1", "openid": "o123456789", "grant_type": "client_credential", "secret": ""}
    assert mask_params(params) == params


def test_mask_params_returns_a_new_dict() -> None:
    params = {"secret": SECRET}
    mask_params(params)
    assert params == {"secret": SECRET}


# -- entry ----------------------------------------------------------------------------------------


def test_an_entry_has_every_field_and_masks_the_query() -> None:
    recorded = entry(
        exchange(
            status=200,
            wire_code=40125,
            error="InvalidAppsecret",
            diagnostic="secret does not match appid wx1",
            notes=["a note"],
            duration_ms=1.5,
        )
    )
    assert recorded == {
        "time": "2023-11-14T22:13:20.123+00:00",
        "timestamp": 1_700_000_000.123456,
        "method": "GET",
        "path": "/cgi-bin/token",
        "query": {"grant_type": "client_credential", "appid": "wx1", "secret": mask(SECRET)},
        "fields": {},
        "status": 200,
        "errcode": 40125,
        "error": "InvalidAppsecret",
        "diagnostic": "secret does not match appid wx1",
        "notes": ["a note"],
        "rid": "6553f100-0000abcd-1234ef00",
        "duration_ms": 1.5,
        "answer": "",
        "comparison": None,
    }
    assert datetime.fromisoformat(recorded["time"]).timestamp() == pytest.approx(1_700_000_000.123, abs=1e-6)
    assert SECRET not in json.dumps(recorded)


def test_an_entry_of_a_success_has_no_error() -> None:
    recorded = entry(exchange())
    assert recorded["errcode"] is None
    assert recorded["error"] is None
    assert recorded["diagnostic"] == ""
    assert recorded["notes"] == []


def test_a_page_error_keeps_its_string_code() -> None:
    assert entry(exchange("/connect/oauth2/authorize", wire_code="page"))["errcode"] == "page"


# -- journal --------------------------------------------------------------------------------------


def test_the_journal_stores_each_exchange_in_order(store: SQLiteStore) -> None:
    journal = Journal(store)
    journal(exchange("/cgi-bin/token"))
    journal(exchange("/sns/userinfo", query={"access_token": TOKEN, "openid": "o1"}))
    entries = journal.entries()
    assert [e["path"] for e in entries] == ["/cgi-bin/token", "/sns/userinfo"]
    assert entries[0]["id"] < entries[1]["id"]
    assert entries[1]["query"] == {"access_token": mask(TOKEN), "openid": "o1"}
    assert entries[0] == {"id": entries[0]["id"], **entry(exchange("/cgi-bin/token"))}


def test_what_reaches_the_store_is_already_masked(store: SQLiteStore) -> None:
    Journal(store)(exchange(query={"secret": SECRET, "code": "081aBcDeFgHiJkLmNoPqRsTuVwXyZ012", "ticket": TOKEN}))
    raw = json.dumps(store.journal_list())
    for value in (SECRET, "081aBcDeFgHiJkLmNoPqRsTuVwXyZ012", TOKEN):
        assert value not in raw


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/_sandbox/",
        "/_sandbox/orders",
        "/_sandbox/journal",
        "/_sandbox/api/journal",
        "/_sandbox/api/reset",
        "/_sandbox/static/app.js",
        "/_sandbox/avatar/alice/132",
    ],
)
def test_the_workbench_own_paths_are_not_journaled(store: SQLiteStore, path: str) -> None:
    journal = Journal(store)
    journal(exchange(path))
    assert journal.entries() == []


def test_the_sandbox_pages_of_the_oauth_flow_are_journaled(store: SQLiteStore) -> None:
    journal = Journal(store)
    journal(exchange("/_sandbox/oauth/consent", method="POST", query={}))
    assert [e["path"] for e in journal.entries()] == ["/_sandbox/oauth/consent"]
    assert not is_workbench("/_sandbox/oauth/consent")


def test_a_refusal_on_a_workbench_path_is_journaled(store: SQLiteStore) -> None:
    journal = Journal(store)
    refused = exchange("/")
    refused.error, refused.wire_code, refused.status = "Refused", "refused", 403
    journal(refused)
    assert [e["path"] for e in journal.entries()] == ["/"]


def test_entries_pages_with_after_and_limit(store: SQLiteStore) -> None:
    journal = Journal(store)
    for n in range(7):
        journal(exchange(f"/p{n}"))
    ids = [e["id"] for e in journal.entries()]
    assert len(ids) == 7
    assert [e["path"] for e in journal.entries(limit=3)] == ["/p0", "/p1", "/p2"]
    assert [e["path"] for e in journal.entries(after=ids[2], limit=3)] == ["/p3", "/p4", "/p5"]
    assert [e["path"] for e in journal.entries(after=ids[5])] == ["/p6"]
    assert journal.entries(after=ids[6]) == []


def test_a_negative_limit_reads_nothing_rather_than_everything(store: SQLiteStore) -> None:
    journal = Journal(store)
    for n in range(3):
        journal(exchange(f"/p{n}"))
    assert journal.entries(limit=-1) == []
    assert journal.recent(-1) == []


def test_one_read_returns_at_most_page_max_entries(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "PAGE_MAX", 2)
    journal = Journal(store)
    for n in range(3):
        journal(exchange(f"/p{n}"))
    assert [e["path"] for e in journal.entries(limit=10**6)] == ["/p0", "/p1"]
    assert [e["path"] for e in journal.recent(10**6)] == ["/p2", "/p1"]


def test_an_after_past_the_largest_sqlite_id_reads_nothing(store: SQLiteStore) -> None:
    journal = Journal(store)
    journal(exchange("/p0"))
    assert journal.entries(after=10**400) == []


def test_the_journal_keeps_only_the_newest_entries(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "KEEP", 4)
    monkeypatch.setattr(journal_module, "TRIM_EVERY", 5)
    journal = Journal(store)
    for n in range(4):
        journal(exchange(f"/p{n}"))
    assert len(journal.entries()) == 4
    journal(exchange("/p4"))
    assert [e["path"] for e in journal.entries()] == ["/p1", "/p2", "/p3", "/p4"]
    for n in range(5, 9):
        journal(exchange(f"/p{n}"))
    assert len(journal.entries()) == 8, "trimming happens every TRIM_EVERY entries, not on each one"
    journal(exchange("/p9"))
    assert [e["path"] for e in journal.entries()] == ["/p6", "/p7", "/p8", "/p9"]


def test_the_journal_survives_a_restart_on_the_same_store(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "state.sqlite3")
    Journal(first)(exchange("/before"))
    first.close()
    second = SQLiteStore(tmp_path / "state.sqlite3")
    journal = Journal(second)
    journal(exchange("/after"))
    assert [e["path"] for e in journal.entries()] == ["/before", "/after"]
    second.close()


# -- answers --------------------------------------------------------------------------------------


def test_an_answer_is_journaled_with_its_secrets_masked(store: SQLiteStore) -> None:
    journal = Journal(store)
    journal(exchange(answer='{"access_token":"' + TOKEN + '","expires_in":7200}'))
    [found] = journal.entries()
    assert found["answer"] == '{"access_token":"' + mask(TOKEN) + '","expires_in":7200}'


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "<xml><sign><![CDATA[0123456789ABCDEF]]></sign></xml>",
            "<xml><sign><![CDATA[0123…CDEF (16 chars)]]></sign></xml>",
        ),
        ("<xml><SIGN>0123456789ABCDEF</SIGN></xml>", "<xml><SIGN>0123…CDEF (16 chars)</SIGN></xml>"),
        ('{"paySign": "0123456789ABCDEF"}', '{"paySign": "0123…CDEF (16 chars)"}'),
        ("https://shop/cb?code=0123456789abcdef&state=s", "https://shop/cb?code=0123…cdef (16 chars)&state=s"),
        ('{"openid": "o123456789"}', '{"openid": "o123456789"}'),
    ],
)
def test_mask_text_masks_secrets_in_json_xml_and_urls(text: str, masked: str) -> None:
    assert mask_text(text) == masked


async def test_the_middleware_journals_the_answer(aiohttp_client: ClientFactory) -> None:
    import sandbox as workbench
    from tests.conftest import make_config

    client = await aiohttp_client(workbench.create_app(make_config()))
    await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": "wxnope", "secret": "x"})
    [entry] = (await (await client.get("/_sandbox/api/journal")).json())["entries"]
    assert entry["answer"].startswith('{"errcode":40013,"errmsg":"invalid appid')


async def test_a_page_answer_is_named_not_kept(aiohttp_client: ClientFactory) -> None:
    import sandbox as workbench
    from tests.conftest import make_config

    client = await aiohttp_client(workbench.create_app(make_config()))
    await client.get("/connect/oauth2/authorize", params={"appid": "wxnope"})
    [entry] = (await (await client.get("/_sandbox/api/journal")).json())["entries"]
    assert entry["answer"].startswith("(text/html, ")
