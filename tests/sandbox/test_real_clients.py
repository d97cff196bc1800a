"""Unmodified wechatpy 1.8.18 against a running `wechat-sandbox serve` (CLIENTS.md part A)."""

from __future__ import annotations

import hashlib
import signal
import time
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from mock_wechat.ids import openid_for, unionid_for
from mock_wechat.signing import jsapi_signature
from sandbox.defaults import DEFAULT_APPID, DEFAULT_SECRET
from tests.sandbox.conftest import REDIRECT_URI, ServerFactory, authorize_code

REAL_API = "https://api.weixin.qq.com/"


class Rewrite(HTTPAdapter):
    """Send what wechatpy addresses to the real api.weixin.qq.com to the sandbox instead."""

    def __init__(self, real: str, local: str) -> None:
        super().__init__()
        self.real = real
        self.local = local
        self.rewritten: list[str] = []

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if request.url is not None and request.url.startswith(self.real):
            request.url = self.local + request.url[len(self.real) :]
            self.rewritten.append(request.url)
        return super().send(request, *args, **kwargs)


def oauth_client(base_url: str, **kwargs: str) -> WeChatOAuth:
    oauth = WeChatOAuth(
        kwargs.get("appid", DEFAULT_APPID),
        kwargs.get("secret", DEFAULT_SECRET),
        REDIRECT_URI,
        scope=kwargs.get("scope", "snsapi_userinfo"),
        state="st",
    )
    oauth.API_BASE_URL = base_url + "/"
    oauth.OAUTH_BASE_URL = base_url + "/connect/"
    return oauth


def wechat_client(base_url: str) -> tuple[WeChatClient, Rewrite]:
    client = WeChatClient(DEFAULT_APPID, DEFAULT_SECRET)
    client.API_BASE_URL = base_url + "/cgi-bin/"
    adapter = Rewrite(REAL_API, base_url + "/")
    client._http.mount(REAL_API, adapter)
    return client, adapter


def configured_users(base_url: str) -> dict[str, dict[str, Any]]:
    users = requests.get(f"{base_url}/_sandbox/api/config", timeout=10).json()["users"]
    return {u["id"]: u for u in users}


# -- WeChatOAuth ----------------------------------------------------------------------------------


def test_authorize_url_points_at_the_sandbox(base_url: str) -> None:
    url = oauth_client(base_url).authorize_url
    assert url == (
        f"{base_url}/connect/oauth2/authorize?appid={DEFAULT_APPID}"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcb"
        "&response_type=code&scope=snsapi_userinfo&state=st#wechat_redirect"
    )


def test_the_whole_web_authorization_flow(base_url: str) -> None:
    oauth = oauth_client(base_url)
    code = authorize_code(base_url, "alice", url=oauth.authorize_url)

    token = oauth.fetch_access_token(code)
    assert token["openid"] == openid_for(DEFAULT_APPID, "alice")
    assert token["scope"] == "snsapi_userinfo"
    assert token["expires_in"] == 7200
    assert token["unionid"] == unionid_for("alice")
    assert oauth.open_id == token["openid"]
    assert oauth.access_token == token["access_token"]
    assert oauth.refresh_token == token["refresh_token"]

    alice = configured_users(base_url)["alice"]
    info = oauth.get_user_info()
    assert info["openid"] == token["openid"]
    assert info["nickname"] == alice["nickname"]
    assert info["sex"] == alice["sex"]
    assert info["province"] == alice["province"]
    assert info["city"] == alice["city"]
    assert info["unionid"] == alice["unionid"]
    assert info["privilege"] == []
    avatar = requests.get(info["headimgurl"], timeout=10)
    assert avatar.status_code == 200
    assert avatar.headers["Content-Type"].startswith("image/svg+xml")

    assert oauth.check_access_token() is True

    refreshed = oauth.refresh_access_token(token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] == token["refresh_token"]
    assert refreshed["openid"] == token["openid"]
    assert oauth.access_token == refreshed["access_token"]
    again = oauth.get_user_info(access_token=refreshed["access_token"])
    assert again["nickname"] == alice["nickname"]
    assert oauth.check_access_token() is True


def test_the_flow_for_another_user_and_snsapi_base(base_url: str) -> None:
    oauth = oauth_client(base_url, scope="snsapi_base")
    assert "scope=snsapi_base" in oauth.authorize_url
    code = authorize_code(base_url, "bob", url=oauth.authorize_url)
    token = oauth.fetch_access_token(code)
    assert token["openid"] == configured_users(base_url)["bob"]["openids"][DEFAULT_APPID]
    assert token["scope"] == "snsapi_base"
    assert oauth.check_access_token() is True
    with pytest.raises(WeChatOAuthException) as info:
        oauth.get_user_info()
    assert info.value.errcode == 48001


def test_an_unknown_code_raises_40029(base_url: str) -> None:
    with pytest.raises(WeChatOAuthException) as info:
        oauth_client(base_url).fetch_access_token("0" * 32)
    assert info.value.errcode == 40029
    assert info.value.errmsg.startswith("invalid code, rid: ")


def test_a_code_used_twice_raises_40163(base_url: str) -> None:
    oauth = oauth_client(base_url)
    code = authorize_code(base_url, url=oauth.authorize_url)
    oauth.fetch_access_token(code)
    with pytest.raises(WeChatOAuthException) as info:
        oauth.fetch_access_token(code)
    assert info.value.errcode == 40163


def test_oauth_with_a_wrong_secret_raises_40125(base_url: str) -> None:
    oauth = oauth_client(base_url, secret="wrong")
    code = authorize_code(base_url, url=oauth.authorize_url)
    with pytest.raises(WeChatOAuthException) as info:
        oauth.fetch_access_token(code)
    assert info.value.errcode == 40125


def test_check_access_token_raises_rather_than_returning_false(base_url: str) -> None:
    """CLIENTS.md A.1: an invalid token never reaches `return False`."""
    oauth = oauth_client(base_url)
    with pytest.raises(WeChatOAuthException) as info:
        oauth.check_access_token(openid_for(DEFAULT_APPID, "alice"), "not-a-token")
    assert info.value.errcode == 40001
    code = authorize_code(base_url, url=oauth.authorize_url)
    oauth.fetch_access_token(code)
    with pytest.raises(WeChatOAuthException) as wrong_openid:
        oauth.check_access_token(openid_for(DEFAULT_APPID, "bob"))
    assert wrong_openid.value.errcode == 40003


def test_an_unknown_refresh_token_raises_40030(base_url: str) -> None:
    with pytest.raises(WeChatOAuthException) as info:
        oauth_client(base_url).refresh_access_token("R" * 64)
    assert info.value.errcode == 40030


# -- WeChatClient ---------------------------------------------------------------------------------


def test_fetch_access_token_through_the_rewriting_adapter(base_url: str) -> None:
    client, adapter = wechat_client(base_url)
    result = client.fetch_access_token()
    assert set(result) == {"access_token", "expires_in"}
    assert result["expires_in"] == 7200
    assert client.access_token == result["access_token"]
    assert adapter.rewritten == [
        f"{base_url}/cgi-bin/token?grant_type=client_credential&appid={DEFAULT_APPID}&secret={DEFAULT_SECRET}"
    ]


def test_jsapi_ticket_and_signature(base_url: str) -> None:
    client, _ = wechat_client(base_url)
    client.fetch_access_token()
    ticket = client.jsapi.get_jsapi_ticket()
    assert isinstance(ticket, str)
    assert len(ticket) == 86

    again = client.jsapi.get_ticket()
    assert again["errcode"] == 0
    assert again["ticket"] == ticket, "the same ticket while it is valid"
    assert 7000 < again["expires_in"] <= 7200
    assert client.jsapi.get_jsapi_ticket() == ticket, "and wechatpy's cache agrees"

    noncestr, timestamp = "Wm3WZYTPz0wzccnW", int(time.time())
    url = "http://127.0.0.1:8000/pay?order=1"
    signature = client.jsapi.get_jsapi_signature(noncestr, ticket, timestamp, url)
    assert signature == jsapi_signature(ticket, noncestr, timestamp, url)
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    assert signature == hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def test_the_documented_signature_vectors() -> None:
    """CLIENTS.md A.2 and PROTOCOL.md §4.1, through wechatpy's own signer (no server needed)."""
    client = WeChatClient(DEFAULT_APPID, DEFAULT_SECRET)
    assert (
        client.jsapi.get_jsapi_signature("noncexyz", "TICKET", 1700000000, "http://localhost/page")
        == "a7b904774d61210385dbfedabc5e4aca45e43450"
    )
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    official = client.jsapi.get_jsapi_signature(
        "Wm3WZYTPz0wzccnW", ticket, 1414587457, "http://mp.weixin.qq.com?params=value"
    )
    assert official == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    assert official == jsapi_signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value")


def test_without_the_adapter_the_token_request_leaves_the_sandbox(base_url: str) -> None:
    """CLIENTS.md A.4 row 1a: API_BASE_URL alone does not move fetch_access_token (checked without the network)."""
    client = WeChatClient(DEFAULT_APPID, DEFAULT_SECRET)
    client.API_BASE_URL = base_url + "/cgi-bin/"
    seen: list[str] = []

    class Refuse(HTTPAdapter):
        def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
            seen.append(str(request.url))
            raise requests.ConnectionError("refused by the test: no real WeChat here")

    client._http.mount(REAL_API, Refuse())
    with pytest.raises(requests.ConnectionError):
        client.fetch_access_token()
    assert seen[0].startswith("https://api.weixin.qq.com/cgi-bin/token?")


def test_client_with_a_wrong_secret_raises_40125(base_url: str) -> None:
    client = WeChatClient(DEFAULT_APPID, "wrong")
    client._http.mount(REAL_API, Rewrite(REAL_API, base_url + "/"))
    with pytest.raises(WeChatClientException) as info:
        client.fetch_access_token()
    assert info.value.errcode == 40125


def test_wechatpy_recovers_from_an_expired_token_by_itself(launch: ServerFactory) -> None:
    """After the sandbox clock jumps 2 h, getticket answers 42001; wechatpy fetches a new token and retries."""
    server = launch("--in-memory", "--seed", "1")
    client, adapter = wechat_client(server.base_url)
    first = client.fetch_access_token()["access_token"]
    ticket = client.jsapi.get_ticket()["ticket"]
    resp = requests.post(f"{server.base_url}/_sandbox/api/clock", json={"advance": 7200}, timeout=10)
    assert resp.status_code == 200
    renewed = client.jsapi.get_ticket()
    assert renewed["errcode"] == 0
    assert renewed["ticket"] != ticket, "the old ticket expired with the clock"
    assert client.access_token != first
    assert sum("/cgi-bin/token?" in url for url in adapter.rewritten) == 2
    journal = requests.get(f"{server.base_url}/_sandbox/api/journal", timeout=10).json()["entries"]
    assert [(e["path"], e["errcode"]) for e in journal] == [
        ("/cgi-bin/token", None),
        ("/cgi-bin/ticket/getticket", None),
        ("/cgi-bin/ticket/getticket", 42001),
        ("/cgi-bin/token", None),
        ("/cgi-bin/ticket/getticket", None),
    ]
    assert server.stop(signal.SIGTERM) == 0
