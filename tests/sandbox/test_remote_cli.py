"""`wechat-sandbox status|users|orders|order|pay|close|refund|notifications|resend|clock|reset|journal|tail`
against a running sandbox: what people read, and `--json` parsed as a script would."""

from __future__ import annotations

import argparse
import json
import subprocess
from typing import Any

import pytest
import requests

from sandbox import cli, remote
from sandbox.testing import SandboxThread, WeChatSandbox
from tests.sandbox.conftest import module_command, place, subprocess_env


@pytest.fixture
def url(server: SandboxThread) -> str:
    WeChatSandbox(server.url).reset()
    return server.url


def command(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--url", url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> Any:
    code, out, err = command(capsys, url, *args, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


# -- durations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("5min", 300), ("5m", 300), ("2h", 7200), ("1d", 86_400), ("30d", 2_592_000), ("1h30m", 5400)],
)
def test_human_durations(text: str, seconds: float) -> None:
    assert remote.parse_duration(text) == seconds


def test_a_bare_number_is_seconds() -> None:
    assert remote.parse_duration("90") == 90


@pytest.mark.parametrize("text", ["", "soon", "2 fortnights", "h"])
def test_what_is_not_a_duration_says_how_to_write_one(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        remote.parse_duration(text)


# -- each command ------------------------------------------------------------------------------------


def test_status_says_the_sandbox_is_up(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = command(capsys, url, "status")
    assert code == 0
    assert out.startswith(f"wechat-sandbox 0.1.0 at {url}: ok\n")
    assert f"proxy for WeChat's hosts: HTTPS_PROXY={url}" in out


def test_status_json_has_health_and_clock(capsys: pytest.CaptureFixture[str], url: str) -> None:
    body = as_json(capsys, url, "status")
    assert body["status"] == "ok"
    assert sorted(body["clock"]) == ["iso", "now", "offset"]


def test_users_lists_balances_and_chinese_as_itself(capsys: pytest.CaptureFixture[str], url: str) -> None:
    users = as_json(capsys, url, "users")
    assert [u["id"] for u in users] == ["alice", "bob", "carol"]
    _, out, _ = command(capsys, url, "users", "--json")
    assert users[0]["nickname"] in out  # not \\u escapes
    _, table, _ = command(capsys, url, "users")
    assert table.splitlines()[0].split() == ["id", "nickname", "balance", "pin", "openid"]
    assert "¥10000.00" in table


def test_orders_filter_by_state(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    place(url, "C2")
    WeChatSandbox(url).pay("C2")
    assert [o["out_trade_no"] for o in as_json(capsys, url, "orders", "--state", "SUCCESS")] == ["C2"]
    assert [o["out_trade_no"] for o in as_json(capsys, url, "orders")] == ["C1", "C2"]


def test_order_shows_refunds_and_notifications(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1", total_fee=500)
    WeChatSandbox(url).pay("C1")
    command(capsys, url, "refund", "C1", "--amount", "200", "--out-refund-no", "RF1")
    found = as_json(capsys, url, "order", "C1")
    assert (found["trade_state"], found["refunded_fee"]) == ("REFUND", 200)
    assert [r["out_refund_no"] for r in found["refunds"]] == ["RF1"]
    assert [n["kind"] for n in found["notifications"]] == ["payment"]
    _, out, _ = command(capsys, url, "order", "C1")
    assert out.startswith("C1  REFUND  ¥5.00  (转入退款)\n")
    assert "  RF1  ¥2.00  SUCCESS  " in out


def test_pay_with_an_outcome(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    code, out, err = command(capsys, url, "pay", "C1", "--outcome", "fail")
    assert (code, out, err) == (0, "paid C1: PAYERROR ¥1.00 by alice\n", "")


def test_pay_says_what_the_sandbox_refused(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    WeChatSandbox(url).pay("C1")
    code, out, err = command(capsys, url, "pay", "C1")
    assert (code, out) == (1, "")
    assert err == "wechat-sandbox pay: 商户订单已支付 (order C1 is already paid)\n"


def test_close_closes(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    assert as_json(capsys, url, "close", "C1")["trade_state"] == "CLOSED"


def test_refund_all_by_default(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1", total_fee=300)
    WeChatSandbox(url).pay("C1")
    answer = as_json(capsys, url, "refund", "C1")
    assert (answer["refunded_fee"], answer["refund"]["refund_fee"]) == (300, 300)


def test_notifications_and_resend_duplicate(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    WeChatSandbox(url).pay("C1")
    [note] = as_json(capsys, url, "notifications", "--out-trade-no", "C1")
    copies = as_json(capsys, url, "resend", note["id"], "--duplicate")
    assert len(copies) == 2
    assert len(as_json(capsys, url, "notifications", "--out-trade-no", "C1")) == 3


def test_resend_tampered(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    WeChatSandbox(url).pay("C1")
    [note] = as_json(capsys, url, "notifications")
    [copy] = as_json(capsys, url, "resend", note["id"], "--tamper", "sign")
    assert "sign" in copy["note"]


def test_clock_advance_takes_human_durations(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert as_json(capsys, url, "clock", "advance", "2h")["offset"] == 7200
    assert as_json(capsys, url, "clock")["offset"] == 7200


def test_clock_advance_without_a_duration_says_so(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = command(capsys, url, "clock", "advance")
    assert code == 1
    assert err == "wechat-sandbox clock: clock advance needs a duration: 15s, 5min, 2h, 1d, 30d\n"


def test_reset_empties_the_orders(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    command(capsys, url, "reset")
    assert as_json(capsys, url, "orders") == []


def test_journal_filters_errors_and_shows_diagnostics(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    requests.get(f"{url}/cgi-bin/token?grant_type=client_credential&appid=wxnope&secret=x", timeout=10)
    entries = as_json(capsys, url, "journal", "--errors")
    assert [e["path"] for e in entries] == ["/cgi-bin/token"]
    _, out, _ = command(capsys, url, "journal", "--errors")
    assert f" 200 GET /cgi-bin/token {entries[0]['error']} ({entries[0]['errcode']})  rid {entries[0]['rid']}\n" in out
    assert entries[0]["diagnostic"] in out


def test_journal_filters_by_out_trade_no(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    place(url, "C2")
    entries = as_json(capsys, url, "journal", "--out-trade-no", "C2")
    assert [e["fields"]["out_trade_no"] for e in entries] == ["C2"]


def test_tail_shows_the_last_entries_then_follows(capsys: pytest.CaptureFixture[str], url: str) -> None:
    place(url, "C1")
    place(url, "C2")
    code, out, _ = command(capsys, url, "tail", "--lines", "1", "--count", "0", "--json")
    assert code == 0
    assert [json.loads(line)["fields"]["out_trade_no"] for line in out.splitlines()] == ["C2"]


def test_tail_prints_new_entries_as_they_come(url: str) -> None:
    proc = subprocess.Popen(
        [*module_command(), "tail", "--url", url, "--lines", "0", "--count", "1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=subprocess_env(),
    )
    try:
        for attempt in range(100):  # until tail has looked once: then the order lands after its start
            place(url, f"C{attempt}")
            try:
                out, err = proc.communicate(timeout=0.3)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            raise AssertionError("tail printed nothing")
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out)["path"] == "/pay/unifiedorder"


def test_no_sandbox_at_the_url_says_how_to_start_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = command(capsys, "http://127.0.0.1:9", "orders")
    assert (code, out) == (1, "")
    assert err.startswith("wechat-sandbox orders: no sandbox running at http://127.0.0.1:9 (")
    assert err.endswith(
        "); start one with `wechat-sandbox serve` (or `make demo`), or point --url / $WECHAT_SANDBOX_URL at yours\n"
    )


def test_the_url_may_come_before_the_command_or_from_the_environment(
    capsys: pytest.CaptureFixture[str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["--url", url, "--json", "clock"]) == 0
    assert json.loads(capsys.readouterr().out)["offset"] == 0
    monkeypatch.setenv(remote.URL_ENV, url)
    assert cli.main(["clock", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["offset"] == 0


def test_the_real_command_prints_json_for_scripts(url: str) -> None:
    place(url, "C1")
    result = subprocess.run(
        [*module_command(), "orders", "--url", url, "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        env=subprocess_env(),
    )
    assert result.returncode == 0, result.stderr
    assert [o["out_trade_no"] for o in json.loads(result.stdout)] == ["C1"]
