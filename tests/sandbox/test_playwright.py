"""`sandbox.playwright.proxy_launch_options`: Chromium sends WeChat's hosts to the sandbox's proxy and trusts its CA."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from mock_wechat.trust import WECHAT_HOSTS
from sandbox.playwright import launch_options, proxy_launch_options, proxy_pac_url, spki_hash
from sandbox.tls import LocalCA

SPKI = "--ignore-certificate-errors-spki-list="
PAC = "--proxy-pac-url="


@pytest.fixture
def ca_certificate(tmp_path: Path) -> Path:
    return LocalCA.load_or_create(tmp_path).certificate_path


def test_launch_options_with_a_pac_script_and_the_cas_key(ca_certificate: Path) -> None:
    options = proxy_launch_options("http://127.0.0.1:8600", ca_certificate)
    plain = launch_options()
    assert options["executable_path"] == plain["executable_path"]
    assert options["args"] == [
        *plain["args"],
        PAC + proxy_pac_url("127.0.0.1:8600"),
        SPKI + spki_hash(ca_certificate),
    ]
    assert "proxy" not in options  # Playwright's proxy would send loopback pages to the sandbox too


@pytest.mark.parametrize("url", ["https://127.0.0.1:8600", "127.0.0.1:8600", "http://127.0.0.1", "socks5://h:1"])
def test_the_proxy_is_the_sandboxs_http_url(ca_certificate: Path, url: str) -> None:
    with pytest.raises(ValueError, match="the sandbox's proxy is its http://HOST:PORT URL"):
        proxy_launch_options(url, ca_certificate)


def test_the_spki_hash_is_the_one_chromiums_docs_compute_with_openssl(ca_certificate: Path) -> None:
    """`openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`."""

    def run(args: list[str], data: bytes) -> bytes:
        return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout

    public = run(["x509", "-pubkey", "-noout"], ca_certificate.read_bytes())
    der = run(["pkey", "-pubin", "-outform", "der"], public)
    digest = run(["dgst", "-sha256", "-binary"], der)
    assert spki_hash(ca_certificate) == base64.b64encode(digest).decode()


def test_the_pac_script_sends_wechats_hosts_only_to_the_proxy() -> None:
    script = base64.b64decode(proxy_pac_url("127.0.0.1:8600").split(",", 1)[1]).decode()
    hosts = [*WECHAT_HOSTS, "RES.WX.QQ.COM", "res.wx.qq.com.", "127.0.0.1", "localhost", "wx.qq.com", "example.com"]
    probe = script + f"console.log(JSON.stringify({json.dumps(hosts)}.map(function (h) {{"
    probe += "return FindProxyForURL('https://' + h + '/x', h); })));"
    answer = subprocess.run(["node", "-e", probe], capture_output=True, check=True, text=True).stdout
    proxied = ["PROXY 127.0.0.1:8600"] * (len(WECHAT_HOSTS) + 2)
    assert json.loads(answer) == [*proxied, "DIRECT", "DIRECT", "DIRECT", "DIRECT"]
