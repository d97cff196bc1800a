"""Scenarios: export → reset → import gives back the same world; documents it cannot read are refused whole."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import scenario
from sandbox.testing import WeChatSandbox
from tests.pay_helpers import openid
from tests.sandbox.conftest import ServerFactory, module_command, place, subprocess_env


def state(sandbox: WeChatSandbox) -> dict[str, Any]:
    answer = requests.get(f"{sandbox.url}/_sandbox/api/state", timeout=10)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def load(sandbox: WeChatSandbox, document: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/_sandbox/api/state", json=document, timeout=10)


def world(sandbox: WeChatSandbox) -> dict[str, Any]:
    """What a client can observe: orders with refunds, notifications with attempts, users, the clock, settings."""
    orders = [sandbox.order(o["out_trade_no"]) for o in sandbox.orders()]
    return {
        "orders": orders,
        "notifications": sandbox.notifications(),
        "users": requests.get(f"{sandbox.url}/_sandbox/api/users", timeout=10).json(),
        "offset": requests.get(f"{sandbox.url}/_sandbox/api/clock", timeout=10).json()["offset"],
        "config": {k: v for k, v in sandbox.config.items() if k in ("accounts", "merchants")},
    }


def busy_world(sandbox: WeChatSandbox) -> None:
    """Orders in every state, a refund, notifications with failed attempts, a new user, settings and the clock."""
    place(sandbox.url, "S1", total_fee=500)
    place(sandbox.url, "S2")
    place(sandbox.url, "S3")
    sandbox.pay("S1")
    requests.post(
        f"{sandbox.url}/_sandbox/api/orders/{sandbox.mch_id}/S1/refund", json={"amount": 200}, timeout=10
    ).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/api/orders/{sandbox.mch_id}/S3/close", json={}, timeout=10)
    sandbox.add_user(id="dave", nickname="大卫", balance=1234)
    sandbox.configure_merchant(notify_hosts=["shop.example.com"], trust_loopback=True)
    sandbox.advance_clock(3600)
    settle(sandbox)


def settle(sandbox: WeChatSandbox) -> None:
    """Wait until no notification is due (the attempts the clock's advance set off have been made)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = requests.get(f"{sandbox.url}/_sandbox/api/clock", timeout=10).json()["now"]
        if all(n["status"] != "pending" or n["next_at"] > now for n in sandbox.notifications()):
            return
        time.sleep(0.02)
    raise AssertionError(f"notifications still due: {sandbox.notifications()}")


def test_export_reset_import_gives_back_the_same_world(sandbox: WeChatSandbox) -> None:
    busy_world(sandbox)
    before = world(sandbox)
    document = state(sandbox)
    sandbox.reset()
    assert world(sandbox) != before
    answer = load(sandbox, document)
    assert answer.status_code == 200, answer.text
    assert world(sandbox) == before


def test_the_import_says_what_it_loaded(sandbox: WeChatSandbox) -> None:
    busy_world(sandbox)
    document = state(sandbox)
    imported = load(sandbox, document).json()["imported"]
    assert (imported["order"], imported["refund"], imported["user"]) == (3, 1, 4)


def test_an_imported_order_is_paid_and_queried_as_before(sandbox: WeChatSandbox) -> None:
    place(sandbox.url, "S1")
    document = state(sandbox)
    sandbox.reset()
    load(sandbox, document)
    assert sandbox.pay("S1")["trade_state"] == "SUCCESS"


def test_a_document_is_versioned_json_with_chinese_as_itself(sandbox: WeChatSandbox) -> None:
    sandbox.add_user(id="dave", nickname="大卫")
    answer = requests.get(f"{sandbox.url}/_sandbox/api/state", timeout=10)
    assert "大卫" in answer.text
    document = answer.json()
    assert (document["format"], document["version"]) == ("wechat-sandbox-state", scenario.VERSION)


def test_the_merchants_keys_never_travel(sandbox: WeChatSandbox) -> None:
    sandbox.config  # noqa: B018 - the keys are made by now
    text = json.dumps(state(sandbox))
    assert "PRIVATE KEY" not in text
    assert "v3_keys" not in text


def test_a_document_from_a_newer_version_is_refused_clearly(sandbox: WeChatSandbox) -> None:
    document = {**state(sandbox), "version": scenario.VERSION + 1}
    answer = load(sandbox, document)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": f"this state was exported by a newer wechat-sandbox (format version {scenario.VERSION + 1}); "
        f"this one reads version {scenario.VERSION} and older: upgrade wechat-sandbox to import it"
    }


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": "other"}, 'not a wechat-sandbox state document (no "format": "wechat-sandbox-state")'),
        ({"records": {}}, '"records" must be a list'),
        ({"clock_offset": -1}, '"clock_offset" must be a number of seconds from 0'),
        ({"records": [{"kind": "order"}]}, "records[0]: must have exactly kind, key, owner, expires_at and data"),
        (
            {"records": [{"kind": "secret", "key": "k", "owner": "o", "expires_at": None, "data": {}}]},
            "records[0]: unknown kind 'secret'; kinds: " + str(sorted(scenario.KINDS)),
        ),
        (
            {"records": [{"kind": "pointer", "key": "k", "owner": "o", "expires_at": None, "data": {"x": 1}}]},
            "records[0]: not a pointer of this version: Pointer.__init__() got an unexpected keyword argument 'x'",
        ),
        (
            {"config": {"accounts": {"wxother": {}}}},
            "config.accounts: 'wxother' is not configured in this sandbox (['wx5a4db0c0ffee0001']); start it with "
            "the same config file as the one that exported",
        ),
    ],
)
def test_a_bad_document_is_refused_and_changes_nothing(
    sandbox: WeChatSandbox, change: dict[str, Any], error: str
) -> None:
    place(sandbox.url, "S1")
    before = world(sandbox)
    answer = load(sandbox, {**state(sandbox), **change})
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert world(sandbox) == before


def test_a_body_that_is_not_json_is_refused(sandbox: WeChatSandbox) -> None:
    answer = requests.post(f"{sandbox.url}/_sandbox/api/state", data=b"{", timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("the body is not a JSON state document: not JSON (")


def test_a_body_nested_too_deeply_is_refused(sandbox: WeChatSandbox) -> None:
    """Found by the fuzz: the state's reader is the one JSON reader with its depth limit (no RecursionError)."""
    answer = requests.post(f"{sandbox.url}/_sandbox/api/state", data=b'{"a":' * 5000 + b"1" + b"}" * 5000, timeout=10)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "the body is not a JSON state document: nested deeper than 32 levels"},
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*module_command(), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        env=subprocess_env(),
    )


def test_the_cli_exports_to_a_file_and_imports_it(sandbox: WeChatSandbox, tmp_path: Path) -> None:
    busy_world(sandbox)
    before = world(sandbox)
    target = tmp_path / "state.json"
    exported = cli("export", "--url", sandbox.url, "-o", str(target))
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.startswith("exported ")
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind
    sandbox.reset()
    imported = cli("import", str(target), "--url", sandbox.url)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(f"imported {target} into {sandbox.url}: ")
    assert world(sandbox) == before


def test_the_cli_exports_to_stdout(sandbox: WeChatSandbox) -> None:
    place(sandbox.url, "S1")
    exported = cli("export", "--url", sandbox.url)
    assert json.loads(exported.stdout)["format"] == "wechat-sandbox-state"


def test_the_cli_says_why_an_import_is_refused(sandbox: WeChatSandbox, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text(json.dumps({"format": "wechat-sandbox-state", "version": 99}), encoding="utf-8")
    result = cli("import", str(target), "--url", sandbox.url)
    assert result.returncode == 1
    assert "exported by a newer wechat-sandbox (format version 99)" in result.stderr


def test_serve_starts_from_an_imported_state(sandbox: WeChatSandbox, launch: ServerFactory, tmp_path: Path) -> None:
    busy_world(sandbox)
    target = tmp_path / "state.json"
    target.write_text(json.dumps(state(sandbox), ensure_ascii=False), encoding="utf-8")
    server = launch("--in-memory", "--import", str(target))
    started = WeChatSandbox(server.base_url)
    assert [o["out_trade_no"] for o in started.orders()] == ["S1", "S2", "S3"]
    assert started.order("S1")["refunded_fee"] == 200
    assert started.openid("alice") == openid("alice")
    assert server.stop(signal.SIGTERM) == 0


def test_serve_refuses_a_state_it_cannot_import(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("{}", encoding="utf-8")
    result = cli("serve", "--port", "0", "--in-memory", "--import", str(target))
    assert result.returncode == 2
    assert result.stderr == (
        f'wechat-sandbox: cannot import {target}: not a wechat-sandbox state document (no "format": '
        '"wechat-sandbox-state")\n'
    )
