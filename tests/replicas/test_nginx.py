"""The tests' nginx: found where Debian puts it, a whole config around the README's, and a clear failure without it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.replicas import conftest


def test_a_missing_nginx_fails_the_test_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("os.access", lambda path, mode: False)
    with pytest.raises(pytest.fail.Exception) as failed:
        conftest.nginx_binary()
    assert str(failed.value) == (
        "nginx is not installed; the two-replica tests put it in front of the replicas: run "
        "`bash scripts/ensure-nginx.sh` (Debian: apt-get install nginx; macOS: brew install nginx)"
    )


def test_the_generated_configuration_is_one_nginx_accepts(tmp_path: Path) -> None:
    config = tmp_path / "nginx.conf"
    config.write_text(conftest.nginx_config(tmp_path, 8600, [8601, 8602], as_root=False))
    checked = subprocess.run(
        [conftest.nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
