"""The pytest plugin's TLS option: `--wechat-sandbox-tls-port` (or the ini option) gives `wechat_sandbox.tls_url`."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INNER = """
import requests

def test_tls(wechat_sandbox):
    url = wechat_sandbox.tls_url
    assert url.startswith("https://127.0.0.1:")
    answer = requests.get(url + "/_sandbox/api/health", verify=wechat_sandbox.ca_certificate(), timeout=10)
    assert answer.json()["tls_url"] == url

def test_proxy(wechat_sandbox):
    assert wechat_sandbox.proxy == wechat_sandbox.url
"""

NO_TLS = """
def test_no_tls(wechat_sandbox):
    assert wechat_sandbox.tls_url is None
"""


@pytest.fixture(autouse=True)
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The in-process sandbox keeps its CA in the user's cache: a temporary one here."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_the_command_line_option_serves_tls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(INNER)
    result = pytester.runpytest_subprocess("--wechat-sandbox-tls-port=0", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_ini_option_serves_tls(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nwechat_sandbox_tls_port = 0\n")
    pytester.makepyfile(INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_without_the_option_there_is_no_tls_listener(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NO_TLS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
