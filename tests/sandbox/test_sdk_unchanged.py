"""Real clients, unchanged, reach WeChat's real hosts in the sandbox: a proxy setting and a trusted CA, nothing else.

wechatpy, wechatpayv3, curl, the JDK's HttpsURLConnection and Node's https module call `https://api.weixin.qq.com`
and `https://api.mch.weixin.qq.com` (through the sandbox's HTTP port as a proxy) or the TLS listener, trusting the
local CA; no base URL, gateway or adapter is changed. There is no network here but loopback, so an answer can only
come from the sandbox, and its journal shows it answered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
import requests
from wechatpayv3 import WeChatPay as WeChatPayV3
from wechatpayv3 import WeChatPayType
from wechatpy import WeChatClient
from wechatpy.pay import WeChatPay

from sandbox.defaults import DEFAULT_APPID, DEFAULT_MCH_ID, DEFAULT_MCH_KEY, DEFAULT_SECRET
from sandbox.testing import SandboxThread, WeChatSandbox
from tests.pay_helpers import assert_success, base_fields, signed_xml

CLIENTS = Path(__file__).with_name("clients")
TIMEOUT = 60.0
"""Seconds a client program may take (`java Token.java` compiles first, about a second; this only bounds a hang)."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS")
TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/token?" + urlencode(
    {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
)
MCH = "https://api.mch.weixin.qq.com"
NOTIFY_URL = "http://127.0.0.1:9/pay/notify"
"""A loopback notify_url where nothing listens: the notifications fail quietly, unread here."""
ACCESS_TOKEN = re.compile(r"[0-9A-Za-z_-]{100,}")
T = TypeVar("T")


@dataclass(frozen=True)
class Running:
    """The module's sandbox and what a client is given to reach it."""

    url: str
    """`http://127.0.0.1:PORT`: the control API, and the proxy for WeChat's hosts (HTTPS_PROXY)."""
    tls_url: str
    ca: Path
    truststore: Path
    """The PKCS#12 truststore `wechat-sandbox ca --java-truststore` wrote."""
    ca_printed: str
    """What `wechat-sandbox ca` printed on stdout."""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def tool(name: str) -> str:
    """A program the machine's set-up provides (curl, java, node): missing is a failure, not a skip."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH; it is part of this machine's set-up (these tests run real clients)")
    return found


def wechat_sandbox_command() -> str:
    """The installed `wechat-sandbox` console script, beside the interpreter running the tests."""
    command = Path(sys.executable).with_name("wechat-sandbox")
    if not command.exists():
        pytest.fail(f"{command} is missing: install the project (`make install-test`)")
    return str(command)


def client_env(**extra: str) -> dict[str, str]:
    """The tests' environment for a client program, without any proxy or trust setting but `extra`."""
    dropped = {name.upper() for name in (*PROXY_VARIABLES, *TRUST_VARIABLES)}
    return {k: v for k, v in os.environ.items() if k.upper() not in dropped} | extra


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, env=env
    )


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`wechat-sandbox ca --data-dir D --java-truststore F` makes the CA, then one sandbox serves TLS with it."""
    data_dir = tmp_path_factory.mktemp("sandbox-ca")
    truststore = data_dir / "truststore.p12"
    made = run(
        [wechat_sandbox_command(), "ca", "--data-dir", str(data_dir), "--java-truststore", str(truststore)],
        client_env(),
    )
    assert made.returncode == 0, made.stderr
    server = SandboxThread(tls_port=0, ca_dir=data_dir).start()
    try:
        yield Running(server.url, server.tls_url, server.ca_certificate, truststore, made.stdout)
    finally:
        server.stop()


@pytest.fixture
def sandbox(running: Running) -> WeChatSandbox:
    sandbox = WeChatSandbox(running.url)
    sandbox.reset()
    return sandbox


@pytest.fixture
def proxied(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Python user sets, and nothing more: HTTPS_PROXY at the sandbox, the CA in REQUESTS_CA_BUNDLE.

    Every other proxy and trust variable is unset; NO_PROXY names loopback only (never a WeChat host)."""
    for name in (*PROXY_VARIABLES, *TRUST_VARIABLES):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", running.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca))


@pytest.fixture
def closing() -> Iterator[Callable[[T], T]]:
    """Close a wechatpy client's HTTP session after the test (wechatpy has no close()): an idle keep-alive TLS
    connection still open when the module's sandbox stops leaves its socket unclosed there (a ResourceWarning)."""
    made: list[Any] = []

    def later(client: T) -> T:
        made.append(client)
        return client

    yield later
    for client in made:
        client._http.close()


def calls(sandbox: WeChatSandbox) -> list[tuple[str, str, int]]:
    """(method, path, status) of each journaled request."""
    return [(e["method"], e["path"], e["status"]) for e in sandbox.journal()]


def secapi_refund_entry(sandbox: WeChatSandbox) -> dict[str, Any]:
    [entry] = [e for e in sandbox.journal() if e["path"] == "/secapi/pay/refund"]
    return entry


def paid_order(pay: Any, sandbox: WeChatSandbox, out_trade_no: str) -> None:
    """wechatpy places a 100-fen JSAPI order for alice at api.mch.weixin.qq.com; she pays it."""
    pay.order.create(
        "JSAPI", "一杯咖啡", 100, NOTIFY_URL, client_ip="127.0.0.1", user_id=sandbox.openid(), out_trade_no=out_trade_no
    )
    sandbox.pay(out_trade_no)


def merchant_key_files(running: Running, directory: Path) -> tuple[str, str]:
    """The merchant's apiclient_cert.pem and apiclient_key.pem, as downloaded from the control API."""
    files = []
    for name, saved_as in (("certificate.pem", "apiclient_cert.pem"), ("private_key.pem", "apiclient_key.pem")):
        answer = requests.get(f"{running.url}/_sandbox/api/merchants/{DEFAULT_MCH_ID}/keys/{name}", timeout=10)
        assert answer.status_code == 200, answer.text
        (directory / saved_as).write_text(answer.text)
        files.append(str(directory / saved_as))
    return files[0], files[1]


# -- Python: wechatpy and wechatpayv3 with HTTPS_PROXY and REQUESTS_CA_BUNDLE -------------------------------------


@pytest.mark.usefixtures("proxied")
def test_wechatpy_client_fetches_an_access_token_from_the_real_host(
    sandbox: WeChatSandbox, closing: Callable[[WeChatClient], WeChatClient]
) -> None:
    client = closing(WeChatClient(DEFAULT_APPID, DEFAULT_SECRET))

    token = client.fetch_access_token()

    assert client.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert set(token) == {"access_token", "expires_in"}, token
    assert ACCESS_TOKEN.fullmatch(token["access_token"]), token
    assert token["expires_in"] == 7200
    assert calls(sandbox) == [("GET", "/cgi-bin/token", 200)]


@pytest.mark.usefixtures("proxied")
def test_wechatpy_client_gets_a_jsapi_ticket_from_the_real_host(
    sandbox: WeChatSandbox, closing: Callable[[WeChatClient], WeChatClient]
) -> None:
    ticket = closing(WeChatClient(DEFAULT_APPID, DEFAULT_SECRET)).jsapi.get_jsapi_ticket()

    assert re.fullmatch(r"[0-9A-Za-z_-]{40,}", ticket), ticket
    assert calls(sandbox) == [("GET", "/cgi-bin/token", 200), ("GET", "/cgi-bin/ticket/getticket", 200)]


@pytest.mark.usefixtures("proxied")
def test_wechatpayv3_places_and_queries_a_jsapi_order_at_the_real_host(sandbox: WeChatSandbox) -> None:
    wxpay = WeChatPayV3(wechatpay_type=WeChatPayType.JSAPI, notify_url=NOTIFY_URL, **sandbox.v3)
    assert wxpay._core._gate_way == "https://api.mch.weixin.qq.com"  # untouched

    placed = wxpay.pay(
        description="一杯咖啡", out_trade_no="V3-PROXY-1", amount={"total": 1}, payer={"openid": sandbox.openid()}
    )
    queried = wxpay.query(out_trade_no="V3-PROXY-1")

    assert placed[0] == 200, placed
    assert set(json.loads(placed[1])) == {"prepay_id"}, placed
    assert queried[0] == 200, queried
    order = json.loads(queried[1])
    assert (order["out_trade_no"], order["trade_state"], order["amount"]) == (
        "V3-PROXY-1",
        "NOTPAY",
        {"total": 1, "currency": "CNY"},
    )
    assert calls(sandbox) == [
        ("POST", "/v3/pay/transactions/jsapi", 200),
        ("GET", "/v3/pay/transactions/out-trade-no/V3-PROXY-1", 200),
    ]


@pytest.mark.usefixtures("proxied")
def test_wechatpayv3_downloads_the_platform_certificate_from_the_real_host(
    sandbox: WeChatSandbox, tmp_path: Path
) -> None:
    sandbox.configure_merchant(response_signing="platform_certificate")
    merchant = sandbox.config["merchants"][0]

    wxpay = WeChatPayV3(wechatpay_type=WeChatPayType.JSAPI, notify_url=NOTIFY_URL, cert_dir=str(tmp_path), **sandbox.v3)
    placed = wxpay.pay(
        description="一杯咖啡", out_trade_no="V3-PROXY-2", amount={"total": 1}, payer={"openid": sandbox.openid()}
    )

    assert [p.name for p in tmp_path.iterdir()] == [f"{merchant['platform_serial_no']}.pem"]
    assert placed[0] == 200, placed  # its answer verified with the downloaded certificate
    assert calls(sandbox) == [("GET", "/v3/certificates", 200), ("POST", "/v3/pay/transactions/jsapi", 200)]


@pytest.mark.usefixtures("proxied")
def test_wechatpy_refund_with_the_merchant_certificate_leaves_no_mutual_tls_note(
    running: Running, sandbox: WeChatSandbox, tmp_path: Path, closing: Callable[[WeChatPay], WeChatPay]
) -> None:
    mch_cert, mch_key = merchant_key_files(running, tmp_path)
    pay = closing(WeChatPay(DEFAULT_APPID, DEFAULT_MCH_KEY, DEFAULT_MCH_ID, mch_cert=mch_cert, mch_key=mch_key))
    paid_order(pay, sandbox, "V2-CERT-1")

    refund = pay.refund.apply(100, 100, "REFUND-CERT-1", out_trade_no="V2-CERT-1")

    assert (refund["result_code"], refund["out_refund_no"], refund["refund_fee"]) == ("SUCCESS", "REFUND-CERT-1", "100")
    entry = secapi_refund_entry(sandbox)
    assert (entry["status"], entry["notes"]) == (200, [])


@pytest.mark.usefixtures("proxied")
def test_wechatpy_refund_without_a_certificate_is_journaled(
    sandbox: WeChatSandbox, closing: Callable[[WeChatPay], WeChatPay]
) -> None:
    pay = closing(WeChatPay(DEFAULT_APPID, DEFAULT_MCH_KEY, DEFAULT_MCH_ID))  # wechatpy calls /secapi/ without one
    paid_order(pay, sandbox, "V2-NOCERT-1")

    pay.refund.apply(100, 100, "REFUND-NOCERT-1", out_trade_no="V2-NOCERT-1")

    assert secapi_refund_entry(sandbox)["notes"] == [
        "mutual TLS: the client presented no certificate; WeChat refuses /secapi/… at the TLS handshake without the "
        "merchant's API certificate (apiclient_cert.pem of 1900000109, from the console or "
        "/_sandbox/api/merchants/1900000109/keys/certificate.pem, with apiclient_key.pem)"
    ]


# -- curl: -x the sandbox, --cacert its CA ------------------------------------------------------------------------


@pytest.mark.usefixtures("proxied")
def test_curl_queries_an_order_at_the_real_host_through_the_proxy(
    running: Running, sandbox: WeChatSandbox, closing: Callable[[WeChatPay], WeChatPay]
) -> None:
    closing(WeChatPay(DEFAULT_APPID, DEFAULT_MCH_KEY, DEFAULT_MCH_ID)).order.create(
        "JSAPI", "一杯咖啡", 100, NOTIFY_URL, client_ip="127.0.0.1", user_id=sandbox.openid(), out_trade_no="CURL-1"
    )
    body = signed_xml(base_fields(out_trade_no="CURL-1"), DEFAULT_MCH_KEY).decode()

    answer = run(
        [tool("curl"), "-sS", "-x", running.url, "--cacert", str(running.ca), "-d", body, f"{MCH}/pay/orderquery"],
        client_env(),
    )

    assert answer.returncode == 0, answer.stderr
    fields = assert_success(answer.stdout)
    assert (fields["out_trade_no"], fields["trade_state"], fields["total_fee"]) == ("CURL-1", "NOTPAY", "100")
    assert calls(sandbox)[-1] == ("POST", "/pay/orderquery", 200)


def test_curl_without_the_ca_refuses_the_sandbox_certificate(running: Running, sandbox: WeChatSandbox) -> None:
    answer = run([tool("curl"), "-sS", "-x", running.url, TOKEN_URL], client_env())

    assert (answer.returncode, answer.stdout) == (60, "")
    assert answer.stderr.startswith("curl: (60) SSL certificate problem: "), answer.stderr
    [entry] = sandbox.journal()
    assert (entry["method"], entry["path"], entry["status"]) == ("CONNECT", "api.weixin.qq.com:443", 502)
    assert entry["diagnostic"].endswith(f"(the client does not trust the sandbox's CA: {running.ca})"), entry


# -- Java: the JDK's HttpsURLConnection with -Dhttps.proxyHost and the truststore of `wechat-sandbox ca` ---------


def test_wechat_sandbox_ca_prints_the_certificate_the_sandbox_serves_with(running: Running) -> None:
    assert running.ca_printed == f"{running.ca.resolve()}\n"


def test_java_https_url_connection_gets_a_token_trusting_the_ca_truststore(running: Running) -> None:
    answer = run(
        [
            tool("java"),
            "-Dhttps.proxyHost=127.0.0.1",
            f"-Dhttps.proxyPort={running.port}",
            f"-Djavax.net.ssl.trustStore={running.truststore}",
            "-Djavax.net.ssl.trustStorePassword=changeit",
            str(CLIENTS / "Token.java"),
            TOKEN_URL,
        ],
        client_env(),
    )

    assert answer.returncode == 0, answer.stderr
    status, _, body = answer.stdout.strip().partition(" ")
    token = json.loads(body)
    assert (status, set(token), token["expires_in"]) == ("200", {"access_token", "expires_in"}, 7200)
    assert ACCESS_TOKEN.fullmatch(token["access_token"]), token


# -- Node: https.get on the TLS listener with NODE_EXTRA_CA_CERTS --------------------------------------------------


def test_node_https_get_gets_a_token_from_the_tls_listener(running: Running) -> None:
    answer = run(
        [tool("node"), str(CLIENTS / "token.mjs"), running.tls_url + "/cgi-bin/token?" + TOKEN_URL.split("?")[1]],
        client_env(NODE_EXTRA_CA_CERTS=str(running.ca)),
    )

    assert answer.returncode == 0, answer.stderr
    token = json.loads(answer.stdout)
    assert (set(token), token["expires_in"]) == ({"access_token", "expires_in"}, 7200)
    assert ACCESS_TOKEN.fullmatch(token["access_token"]), token


def test_node_without_node_extra_ca_certs_refuses_the_tls_listener(running: Running) -> None:
    answer = run(
        [tool("node"), str(CLIENTS / "token.mjs"), running.tls_url + "/cgi-bin/token?" + TOKEN_URL.split("?")[1]],
        client_env(),
    )

    assert (answer.returncode, answer.stdout, answer.stderr) == (1, "", "SELF_SIGNED_CERT_IN_CHAIN\n")


# -- the proxy never goes anywhere else -----------------------------------------------------------------------------


def why_refused(target: str) -> str:
    """What the proxy says (and journals) of `CONNECT target` for a host that is not WeChat's."""
    return (
        f"CONNECT {target}: the sandbox is a proxy for WeChat's hosts only (api.weixin.qq.com, api.mch.weixin.qq.com, "
        "api2.mch.weixin.qq.com, open.weixin.qq.com, res.wx.qq.com, res2.wx.qq.com, wx.tenpay.com) and never connects "
        "anywhere; "
        "leave other hosts out of the proxy (NO_PROXY=localhost,127.0.0.1,… or a proxy per host)"
    )


def refusal(target: str) -> bytes:
    """The proxy's whole answer to `CONNECT target` for a host that is not WeChat's."""
    body = f"wechat-sandbox: {why_refused(target)}\n".encode()
    head = (
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def connect(port: int, target: str) -> bytes:
    """Ask the proxy for a tunnel to `target`; everything it answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_connect_to_another_host_is_refused_and_nothing_is_contacted(running: Running, sandbox: WeChatSandbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as bait:
        bait.setblocking(False)
        targets = [f"127.0.0.1:{bait.getsockname()[1]}", "example.com:443"]

        answers = [connect(running.port, target) for target in targets]

        assert answers == [refusal(target) for target in targets]
        with pytest.raises(BlockingIOError):
            bait.accept()
    assert [(e["method"], e["path"], e["status"], e["diagnostic"]) for e in sandbox.journal()] == [
        ("CONNECT", target, 403, why_refused(target)) for target in targets
    ]
