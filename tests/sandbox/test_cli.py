"""The real `wechat-sandbox` command, run as a subprocess the way a developer or a CI job runs it."""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import requests
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from mock_wechat.ids import openid_for
from sandbox import defaults
from sandbox.config_file import load
from tests.sandbox.conftest import (
    LISTENING,
    REDIRECT_URI,
    STOP_TIMEOUT,
    Server,
    ServerFactory,
    authorize_code,
    exchange_code,
    run,
)
from tests.wire import assert_api_error


def health(server: Server) -> dict[str, object]:
    resp = requests.get(f"{server.base_url}/_sandbox/api/health", timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert isinstance(body, dict)
    return body


def stop_promptly(server: Server, sig: signal.Signals) -> float:
    """Signal the server, assert it exits 0 with nothing on stderr; the seconds it took."""
    started = time.monotonic()
    code = server.stop(sig)
    took = time.monotonic() - started
    assert code == 0, f"exit {code} after {sig.name}; stderr: {server.text('stderr')}"
    assert "Traceback" not in server.text("stderr")
    return took


# -- start-up -------------------------------------------------------------------------------------


def test_prints_the_listening_line_first_with_the_real_port(launch: ServerFactory) -> None:
    server = launch("--in-memory", "--seed", "1")
    print(f"\nwechat-sandbox start-up (spawn to listening line): {server.startup_seconds * 1000:.0f} ms")
    assert LISTENING.match(server.stdout[0]), server.stdout
    assert server.stdout[0] == f"WeChat sandbox listening on http://127.0.0.1:{server.port}"
    assert server.port != 0
    assert health(server)["status"] == "ok"
    stop_promptly(server, signal.SIGTERM)


def test_prints_the_credentials_table_while_running(launch: ServerFactory) -> None:
    server = launch("--in-memory", "--seed", "1")
    config = load(None, seed=1)
    last = f"User {config.users[-1].id}"
    table: list[str] = []
    while not any(last in line for line in table):
        line = server.read_line()
        assert line is not None, f"stdout closed before the table ended: {table}"
        assert len(table) < 50, table
        table.append(line)
    assert server.proc.poll() is None, "the table is flushed while the server runs"
    [account] = [line for line in table if f"appid={defaults.DEFAULT_APPID}" in line]
    assert f"secret={defaults.DEFAULT_SECRET}" in account
    [merchant] = [line for line in table if f"mch_id={defaults.DEFAULT_MCH_ID}" in line]
    assert f"key={defaults.DEFAULT_MCH_KEY}" in merchant
    for user in config.users:
        [line] = [line for line in table if f"User {user.id} " in line]
        assert user.nickname in line
        assert f"openid={openid_for(defaults.DEFAULT_APPID, user.id)}" in line
        assert f"pin={user.pin}" in line
    stop_promptly(server, signal.SIGTERM)


def test_the_table_shows_the_users_of_the_seed(launch: ServerFactory) -> None:
    one = launch("--in-memory", "--seed", "1")
    two = launch("--in-memory", "--seed", "2")
    stop_promptly(one, signal.SIGTERM)
    stop_promptly(two, signal.SIGTERM)
    assert one.stdout[1:] != two.stdout[1:]
    for user in load(None, seed=2).users:
        assert user.nickname in two.text()


def test_a_config_file_is_used(launch: ServerFactory, tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    text = '[[accounts]]\nappid = "wx1111111111111111"\nsecret = "filesecret"\n'
    path.write_text(text + '\n[[users]]\nid = "zoe"\nnickname = "佐伊"\n', encoding="utf-8")
    server = launch("--in-memory", "--config", str(path))
    config = requests.get(f"{server.base_url}/_sandbox/api/config", timeout=10).json()
    assert [a["appid"] for a in config["accounts"]] == ["wx1111111111111111"]
    assert [u["id"] for u in config["users"]] == ["zoe"]
    stop_promptly(server, signal.SIGTERM)
    assert "secret=filesecret" in server.text()
    assert "佐伊" in server.text()


def test_the_console_script_works(launch: ServerFactory) -> None:
    script = Path(sys.executable).with_name("wechat-sandbox")
    assert script.exists(), f"no console script next to {sys.executable}: `make test` installs the package"
    server = launch("--in-memory", command=[str(script)])
    assert health(server)["status"] == "ok"
    stop_promptly(server, signal.SIGTERM)


def test_python_dash_m_sandbox_works(launch: ServerFactory) -> None:
    server = launch("--in-memory")
    assert server.command[:3] == [sys.executable, "-m", "sandbox"]
    assert health(server)["status"] == "ok"
    stop_promptly(server, signal.SIGTERM)


def test_up_behaves_like_serve_and_starts_the_shop(launch: ServerFactory) -> None:
    server = launch("--in-memory", "--seed", "1", "--shop-port", "0", subcommand="up")
    assert server.stdout[0].startswith("WeChat sandbox listening on http://127.0.0.1:")
    line = server.read_line()
    assert line is not None
    assert line.startswith("Demo shop listening on http://127.0.0.1:")
    shop = line.removeprefix("Demo shop listening on ")
    assert "shop-login" in requests.get(shop, timeout=5).text
    body = health(server)
    assert "/sns/oauth2/access_token" in body["endpoints"]  # type: ignore[operator]
    code = authorize_code(server.base_url)
    assert "access_token" in exchange_code(server.base_url, code)
    stop_promptly(server, signal.SIGTERM)
    assert f"appid={defaults.DEFAULT_APPID}" in server.text()


def test_the_default_data_dir_is_in_the_working_directory(launch: ServerFactory, tmp_path: Path) -> None:
    server = launch(cwd=tmp_path)
    stop_promptly(server, signal.SIGTERM)
    assert (tmp_path / ".wechat-sandbox" / "state.sqlite3").exists()


def test_in_memory_writes_nothing(launch: ServerFactory, tmp_path: Path) -> None:
    server = launch("--in-memory", cwd=tmp_path)
    requests.get(f"{server.base_url}/cgi-bin/token", timeout=10)
    stop_promptly(server, signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []


def test_listens_on_ipv6_loopback_or_says_why_not(launch: ServerFactory) -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:  # a machine without IPv6: the command must say so and exit 1, not crash
        result = run("serve", "--in-memory", "--host", "::1", "--port", "0")
        assert result.returncode == 1
        assert "wechat-sandbox: cannot listen on ::1:0" in result.stderr
        assert "Traceback" not in result.stderr
        return
    server = launch("--in-memory", "--host", "::1")
    assert server.base_url == f"http://[::1]:{server.port}"
    assert health(server)["status"] == "ok"
    stop_promptly(server, signal.SIGTERM)


# -- stopping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_it_promptly_with_exit_0(launch: ServerFactory, sig: signal.Signals) -> None:
    server = launch("--in-memory")
    assert health(server)["status"] == "ok"
    took = stop_promptly(server, sig)
    print(f"\nstopped by {sig.name} in {took * 1000:.0f} ms")
    assert took < STOP_TIMEOUT


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_right_after_the_listening_line_exits_0(launch: ServerFactory, sig: signal.Signals) -> None:
    """A supervisor may stop the server as soon as it printed that it listens."""
    for _ in range(5):
        server = launch("--in-memory")
        stop_promptly(server, sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_open_keep_alive_connection_does_not_hold_up_the_stop(launch: ServerFactory, sig: signal.Signals) -> None:
    server = launch("--in-memory")
    with requests.Session() as session:
        assert session.get(f"{server.base_url}/_sandbox/api/health", timeout=10).status_code == 200
        took = stop_promptly(server, sig)
    assert took < STOP_TIMEOUT


# -- refusing to start ----------------------------------------------------------------------------


def test_a_missing_config_file_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = run("serve", "--port", "0", "--in-memory", "--config", str(missing))
    assert result.returncode == 2
    assert "wechat-sandbox: config error:" in result.stderr
    assert str(missing) in result.stderr
    assert "listening" not in result.stdout


def test_a_bad_config_file_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[accounts]]\nappid = "wx1"\nsecret = "s"\npin = "1"\n', encoding="utf-8")
    result = run("serve", "--port", "0", "--in-memory", "--config", str(path))
    assert result.returncode == 2
    assert "accounts[0]: unknown keys ['pin']" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[accounts]\n", encoding="utf-8")
    result = run("serve", "--port", "0", "--in-memory", "--config", str(path))
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr


def test_an_unknown_auto_user_exits_2() -> None:
    result = run("serve", "--port", "0", "--in-memory", "--auto-user", "mallory")
    assert result.returncode == 2
    assert "mallory" in result.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["serve", "--in-memory", "--data-dir", "x"], ["serve", "--port", "http"], ["serve", "--bogus"], ["down"]],
)
def test_bad_arguments_exit_2_with_usage(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "usage: wechat-sandbox" in result.stderr
    assert result.stdout == ""


def test_a_port_in_use_exits_1_with_a_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--in-memory")
    assert result.returncode == 1
    assert f"wechat-sandbox: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# -- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "up"])
def test_subcommand_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: wechat-sandbox {command}")
    for option in ("--host", "--port", "--data-dir", "--in-memory", "--config", "--seed", "--auto-user"):
        assert option in result.stdout
    assert result.stderr == ""


def test_top_level_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "up" in result.stdout


# -- restart persistence --------------------------------------------------------------------------


def test_a_refresh_token_and_a_used_code_survive_a_restart(launch: ServerFactory, tmp_path: Path) -> None:
    """Done when: OAuth, SIGTERM, start again on the same --data-dir: refresh works, the used code is 40163."""
    data_dir = tmp_path / "state"
    first = launch("--data-dir", str(data_dir), "--seed", "1")
    code = authorize_code(first.base_url, "alice")
    token = exchange_code(first.base_url, code)
    assert token["openid"] == openid_for(defaults.DEFAULT_APPID, "alice")
    before = requests.get(f"{first.base_url}/_sandbox/api/journal", timeout=10).json()["entries"]
    stop_promptly(first, signal.SIGTERM)

    second = launch("--data-dir", str(data_dir), "--seed", "1")
    oauth = WeChatOAuth(defaults.DEFAULT_APPID, defaults.DEFAULT_SECRET, REDIRECT_URI, scope="snsapi_userinfo")
    oauth.API_BASE_URL = second.base_url + "/"
    refreshed = oauth.refresh_access_token(token["refresh_token"])
    assert refreshed["openid"] == token["openid"]
    assert refreshed["refresh_token"] == token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"], "a new boot hands out new tokens"
    info = oauth.get_user_info()
    assert info["nickname"] == load(None, seed=1).users[0].nickname
    assert oauth.check_access_token(token["openid"], token["access_token"]) is True, "the old web token too"

    assert_api_error(exchange_code(second.base_url, code), 40163, "code been used")
    with pytest.raises(WeChatOAuthException) as info_exc:
        oauth.fetch_access_token(code)
    assert info_exc.value.errcode == 40163

    after = requests.get(f"{second.base_url}/_sandbox/api/journal", timeout=10).json()["entries"]
    assert after[: len(before)] == before, "the journal survives the restart too"
    stop_promptly(second, signal.SIGTERM)


def test_the_clock_offset_survives_a_restart(launch: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    first = launch("--data-dir", str(data_dir))
    resp = requests.post(f"{first.base_url}/_sandbox/api/clock", json={"advance": 3600}, timeout=10)
    assert resp.status_code == 200
    stop_promptly(first, signal.SIGTERM)
    second = launch("--data-dir", str(data_dir))
    assert requests.get(f"{second.base_url}/_sandbox/api/clock", timeout=10).json()["offset"] == 3600
    stop_promptly(second, signal.SIGTERM)


# -- API v3 keys: made once per data dir --------------------------------------------------------------

V3_FIELDS = ("apiv3_key", "serial_no", "private_key", "platform_serial_no", "public_key_id", "public_key")


def stored_v3_keys(data_dir: Path) -> list[str]:
    """The mch_ids whose API v3 keys the state file holds."""
    with contextlib.closing(sqlite3.connect(data_dir / "state.sqlite3")) as db:
        return [row[0] for row in db.execute("SELECT key FROM records WHERE kind = 'v3_keys'")]


def test_serve_makes_the_api_v3_keys_after_listening_without_a_request(launch: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    server = launch("--data-dir", str(data_dir))
    deadline = time.monotonic() + 10
    while not stored_v3_keys(data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_promptly(server, signal.SIGTERM)
    assert stored_v3_keys(data_dir) == [defaults.DEFAULT_MCH_ID]


def test_the_api_v3_keys_survive_a_restart(launch: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    first = launch("--data-dir", str(data_dir))
    before = requests.get(f"{first.base_url}/_sandbox/api/config", timeout=10).json()["merchants"][0]
    stop_promptly(first, signal.SIGTERM)
    second = launch("--data-dir", str(data_dir))
    after = requests.get(f"{second.base_url}/_sandbox/api/config", timeout=10).json()["merchants"][0]
    stop_promptly(second, signal.SIGTERM)
    assert [after[k] for k in V3_FIELDS] == [before[k] for k in V3_FIELDS]
