"""The Flow page: journal paths mapped to the seed's steps, a subject's entries picked and laid out (pure), and the
page as the server renders it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.keys import PAY
from sandbox import defaults
from sandbox.flow import SHOWN, OrderRef, SheetRef, Subject, build_flow, latest_order, latest_user, sign_ins
from sandbox.flow_steps import ARROWS, BRIDGE_CALLS, PATHS, PATTERNS, classify, failure
from tests.conftest import APPID, SECRET, ClientFactory, make_config
from tests.pay_helpers import NOTIFY_URL, openid, order_fields, post

Client = TestClient[web.Request, web.Application]
MCH_ID = defaults.DEFAULT_MCH_ID
ALICE, BOB = openid("alice"), openid("bob")
PAGE = "http://127.0.0.1:8700/checkout/O1"
REDIRECT = "http://127.0.0.1:8700/auth/callback"
AUTH = {"appid": APPID, "redirect_uri": REDIRECT, "response_type": "code", "scope": "snsapi_userinfo", "state": "s1"}
HOSTILE = "<img src=x onerror=alert(1)>"


def entry(
    path: str,
    at: float,
    method: str = "GET",
    *,
    query: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
    status: int = 200,
    notes: Sequence[str] = (),
    answer: Any = "",
    error: str | None = None,
    diagnostic: str = "",
) -> dict[str, Any]:
    """A journal entry as `sandbox.journal.entry` writes it."""
    return {
        "timestamp": at,
        "method": method,
        "path": path,
        "query": query or {},
        "fields": fields or {},
        "status": status,
        "errcode": None if error is None else 40163,
        "error": error,
        "diagnostic": diagnostic,
        "notes": list(notes),
        "rid": f"rid-{path.strip('/').replace('/', '-')}-{at}",
        "duration_ms": 1.0,
        "answer": answer if isinstance(answer, str) else json.dumps(answer),
    }


def sign_in(at: float = 1000.0, user: str = "alice", state: str = "s1") -> list[dict[str, Any]]:
    """The picker, the user chosen, the authorize page again, the consent: a code (a 302)."""
    query = {**AUTH, "state": state}
    chosen = f"user {user} chosen in the picker (cookie wxsandbox_user)"
    return [
        entry("/connect/oauth2/authorize", at, query=query),
        entry("/_sandbox/oauth/user", at + 1, "POST", status=303, notes=[f"this browser is now user {user}"]),
        entry("/connect/oauth2/authorize", at + 2, query=query, notes=[chosen]),
        entry(
            "/_sandbox/oauth/consent",
            at + 3,
            "POST",
            status=302,
            notes=[chosen, f"code issued to {user} ({openid(user)}) for snsapi_userinfo"],
        ),
    ]


def whole_flow(at: float = 1000.0) -> list[dict[str, Any]]:
    """Alice signs in, the shop signs wx.config, places order O1, alice pays on the sheet."""
    return [
        *sign_in(at),
        entry("/sns/oauth2/access_token", at + 4, query={"appid": APPID, "code": "c…"}, answer={"openid": ALICE}),
        entry("/sns/userinfo", at + 5, query={"access_token": "w…", "openid": ALICE}),
        entry("/cgi-bin/token", at + 6, query={"appid": APPID}, answer={"access_token": "T1…"}),
        entry("/cgi-bin/ticket/getticket", at + 7, query={"access_token": "T1…", "type": "jsapi"}),
        entry("/open/js/jweixin-1.6.0.js", at + 8),
        entry("/_sandbox/bridge/invoke", at + 9, "OPTIONS", status=204),
        entry(
            "/_sandbox/bridge/invoke",
            at + 10,
            "POST",
            notes=[f"preVerifyJSAPI from {PAGE}"],
            answer={"result": {"err_msg": "preVerifyJSAPI:ok"}},
        ),
        entry(
            "/pay/unifiedorder",
            at + 11,
            "POST",
            fields={"appid": APPID, "mch_id": MCH_ID, "out_trade_no": "O1", "openid": ALICE},
        ),
        entry("/_sandbox/bridge/sheet/open", at + 12, "POST", answer={"sheet": {"sheet_id": "S1"}}),
        entry(
            "/_sandbox/bridge/sheet/S1/confirm",
            at + 13,
            "POST",
            answer={"result": {"err_msg": "get_brand_wcpay_request:ok"}},
        ),
    ]


def attempt(number: int, at: float, ok: bool) -> dict[str, Any]:
    verdict = "acknowledged with return_code SUCCESS" if ok else "answered FAIL: WeChat retries"
    return {"number": number, "at": at, "status": 200, "body": "<xml/>", "verdict": verdict, "ok": ok}


def paid_order(*attempts: dict[str, Any]) -> Subject:
    notification = {"kind": "payment", "notify_url": "http://127.0.0.1:8700/notify/pay", "body": "<xml/>"}
    return Subject(
        "alice",
        frozenset({ALICE}),
        OrderRef(MCH_ID, "O1", APPID, "wxPREPAY", "4200", 1011.0),
        (SheetRef("S1", 1012.0, PAGE),),
        ({**notification, "attempts": list(attempts) or [attempt(1, 1014.0, True)]},),
    )


def states(entries: list[dict[str, Any]], subject: Subject) -> dict[str, str]:
    return {row.arrow.key: row.state for row in build_flow(entries, subject, 2000.0).rows}


# -- the table --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "arrow"),
    [
        ("/connect/oauth2/authorize", "authorize"),
        ("/sns/oauth2/access_token", "oauth_token"),
        ("/sns/oauth2/refresh_token", "refresh"),
        ("/cgi-bin/stable_token", "token"),
        ("/cgi-bin/ticket/getticket", "ticket"),
        ("/open/js/jweixin-1.6.0.js", "jssdk"),
        ("/pay/unifiedorder", "prepay"),
        ("/sandboxnew/pay/unifiedorder", "prepay"),
        ("/xdc/apiv2sandbox/pay/orderquery", "query"),
        ("/v3/pay/transactions/jsapi", "prepay"),
        ("/v3/pay/transactions/out-trade-no/O1", "query"),
        ("/v3/pay/transactions/id/4200", "query"),
        ("/_sandbox/bridge/sheet/open", "pay"),
        ("/_sandbox/bridge/sheet/S1/cancel", "pay"),
        ("/v3/pay/transactions/native", "prepay"),
        ("/v3/pay/transactions/h5", "prepay"),
        ("/v3/pay/transactions/app", "prepay"),
        ("/_sandbox/bridge/scan", "pay"),
        ("/_sandbox/bridge/cashier/sheet", "pay"),
        ("/cgi-bin/mmpayweb-bin/checkmweb", "pay"),
    ],
)
def test_each_path_is_its_arrow(path: str, arrow: str) -> None:
    assert classify(entry(path, 1.0, "POST")) == arrow


def test_a_bridge_call_is_its_arrow_by_the_js_api_the_page_called() -> None:
    config = entry("/_sandbox/bridge/invoke", 1.0, "POST", notes=[f"preVerifyJSAPI from {PAGE}"])
    share = entry("/_sandbox/bridge/invoke", 1.0, "POST", notes=[f"updateAppMessageShareData from {PAGE}"])
    assert (classify(config), classify(share)) == ("config", None)


def test_a_preflight_and_a_call_outside_the_nine_steps_are_no_arrow() -> None:
    assert classify(entry("/_sandbox/bridge/sheet/open", 1.0, "OPTIONS")) is None
    assert classify(entry("/pay/closeorder", 1.0, "POST")) is None
    assert classify(entry("/v3/pay/transactions/out-trade-no/O1/close", 1.0, "POST")) is None


def test_every_arrow_comes_from_the_table_and_the_table_names_only_arrows() -> None:
    keys = {a.key for a in ARROWS}
    mapped = {*PATHS.values(), *(key for _, key in PATTERNS), *BRIDGE_CALLS.values()}
    assert mapped <= keys
    assert keys - mapped == {"code", "notify"}  # the authorize's 302, and the notification book's attempts
    assert {s for a in ARROWS for s in a.steps} == set(range(1, 10))


def test_each_arrow_spans_from_lifeline_to_lifeline() -> None:
    rows = {r.arrow.key: r for r in build_flow([], Subject(), 0.0).rows}
    assert (rows["authorize"].columns, rows["authorize"].inset) == ((1, 4), 16.667)
    assert (rows["prepay"].columns, rows["prepay"].inset) == ((2, 4), 25.0)
    assert rows["notify"].arrow.leftward
    assert rows["code"].arrow.leftward
    assert not rows["pay"].arrow.leftward


def test_a_bridge_answer_that_is_not_ok_is_a_failure_explained_by_its_notes() -> None:
    refused = entry(
        "/_sandbox/bridge/sheet/open",
        1.0,
        "POST",
        notes=["paySign is the `sign` of the unifiedorder answer"],
        answer={"result": {"err_msg": "get_brand_wcpay_request:fail"}, "alert": "支付验证签名失败"},
    )
    assert failure(refused) == "get_brand_wcpay_request:fail: paySign is the `sign` of the unifiedorder answer"
    retry = entry("/_sandbox/bridge/sheet/S1/confirm", 1.0, "POST", answer={"retry": "支付密码错误，请重试"})
    assert failure(retry) == "支付密码错误，请重试"
    assert failure(entry("/sns/userinfo", 1.0, error="InvalidCode", diagnostic="the code was used")) == (
        "the code was used"
    )


# -- whose entries ----------------------------------------------------------------------------------


def test_a_sign_in_is_the_picker_the_choice_the_consent_and_its_code() -> None:
    [attempt_] = sign_ins(sign_in(1000.0))
    assert (attempt_.user, attempt_.code_at, attempt_.start, len(attempt_.entries)) == ("alice", 1003.0, 1000.0, 4)


def test_two_sign_ins_are_two_attempts() -> None:
    attempts = sign_ins([*sign_in(1000.0, "alice", "s1"), *sign_in(1100.0, "bob", "s2")])
    assert [a.user for a in attempts] == ["alice", "bob"]


def test_a_whole_payment_fills_every_arrow_but_those_only_needed_sometimes() -> None:
    flow = build_flow(whole_flow(), paid_order(), 2000.0)
    assert {r.arrow.key: r.state for r in flow.rows} == {
        **{a.key: "done" for a in ARROWS},
        "refresh": "skipped",
        "query": "skipped",
    }
    assert flow.failed is None
    rows = {r.arrow.key: r for r in flow.rows}
    assert [m.label for m in rows["pay"].messages] == [
        "the pay sheet opens → 200",
        "the PIN, confirmed → get_brand_wcpay_request:ok",
    ]
    assert rows["config"].messages[0].label == f"wx.config on {PAGE} → preVerifyJSAPI:ok"
    assert rows["code"].messages[0].rid == rows["authorize"].messages[-1].rid  # the consent's 302 is the redirect
    assert rows["notify"].messages[0].label == "POST http://127.0.0.1:8700/notify/pay, attempt 1 → 200"


def test_a_failed_code_exchange_stops_the_flow_and_says_why() -> None:
    used = entry(
        "/sns/oauth2/access_token",
        1004.0,
        query={"appid": APPID, "code": "c…"},
        error="CodeBeenUsed",
        diagnostic="this code was exchanged 2 s ago: a code is single-use",
    )
    flow = build_flow([*sign_in(1000.0), used], Subject("alice", frozenset({ALICE})), 2000.0)
    assert flow.failed is not None
    assert flow.failed.arrow.key == "oauth_token"
    assert flow.failed.messages[-1].explanation == "this code was exchanged 2 s ago: a code is single-use"
    assert {r.arrow.key: r.state for r in flow.rows}["prepay"] == "pending"


def test_a_refused_pay_sheet_is_the_orders_failing_step() -> None:
    entries = [
        *whole_flow()[:-2],
        entry(
            "/_sandbox/bridge/sheet/open",
            1012.0,
            "POST",
            notes=["timeStamp is 'undefined'"],
            answer={"result": {"err_msg": "get_brand_wcpay_request:fail"}},
        ),
    ]
    subject = Subject("alice", frozenset({ALICE}), OrderRef(MCH_ID, "O1", APPID, "wxPREPAY", "", 1011.0))
    flow = build_flow(entries, subject, 2000.0)
    assert flow.failed is not None
    assert flow.failed.arrow.key == "pay"
    assert "timeStamp is 'undefined'" in flow.failed.messages[0].explanation
    assert states(entries, subject)["notify"] == "pending"


def test_a_pay_sheet_call_that_names_a_prepay_id_is_that_orders() -> None:
    mine = entry(
        "/_sandbox/bridge/sheet/open",
        1012.2,
        "POST",
        fields={"package": "prepay_id=wxPREPAY"},
        answer={"result": {"err_msg": "get_brand_wcpay_request:fail"}, "alert": "支付验证签名失败"},
    )
    theirs = entry(
        "/_sandbox/bridge/sheet/open",
        1012.4,
        "POST",
        fields={"package": "prepay_id=wxOTHER"},
        answer={"result": {"err_msg": "get_brand_wcpay_request:fail"}, "alert": "支付验证签名失败"},
    )
    confirmed = entry("/_sandbox/bridge/sheet/S9/confirm", 1012.6, "POST", fields={"prepay_id": "wxPREPAY"})
    entries = sorted([*whole_flow(), mine, theirs, confirmed], key=lambda e: e["timestamp"])
    row = next(r for r in build_flow(entries, paid_order(), 2000.0).rows if r.arrow.key == "pay")
    assert [m.at for m in row.messages] == [1012.0, 1012.2, 1012.6, 1013.0]


def test_a_wrong_pin_then_the_right_one_is_done_with_the_miss_shown() -> None:
    wrong = entry("/_sandbox/bridge/sheet/S1/confirm", 1012.5, "POST", answer={"retry": "支付密码错误，请重试"})
    entries = sorted([*whole_flow(), wrong], key=lambda e: e["timestamp"])
    row = next(r for r in build_flow(entries, paid_order(), 2000.0).rows if r.arrow.key == "pay")
    assert [m.ok for m in row.messages] == [True, False, True]
    assert row.state == "done"


def test_a_notification_answered_fail_then_acknowledged() -> None:
    subject = paid_order(attempt(1, 1014.0, False), attempt(2, 1029.0, True))
    row = next(r for r in build_flow(whole_flow(), subject, 2000.0).rows if r.arrow.key == "notify")
    assert [m.ok for m in row.messages] == [False, True]
    assert row.messages[0].explanation == "answered FAIL: WeChat retries"


def test_another_users_calls_are_not_in_the_flow() -> None:
    bobs = [
        *sign_in(1050.0, "bob", "s2"),
        entry("/sns/userinfo", 1055.0, query={"access_token": "w…", "openid": BOB}),
        entry("/pay/unifiedorder", 1056.0, "POST", fields={"mch_id": MCH_ID, "out_trade_no": "O2", "openid": BOB}),
    ]
    entries = sorted([*whole_flow(), *bobs], key=lambda e: e["timestamp"])
    rows = {r.arrow.key: r for r in build_flow(entries, paid_order(), 2000.0).rows}
    assert all("bob" not in " ".join(m.notes) for m in rows["authorize"].messages)
    assert [m.request.count(BOB) for m in rows["userinfo"].messages] == [0]
    assert len(rows["prepay"].messages) == 1


def test_a_token_fetched_before_the_sign_in_is_shown_as_the_one_still_cached() -> None:
    earlier = entry("/cgi-bin/token", 900.0, query={"appid": APPID}, answer={"access_token": "T0…"})
    entries = [earlier, *(e for e in whole_flow() if e["path"] != "/cgi-bin/token")]
    row = next(r for r in build_flow(entries, paid_order(), 2000.0).rows if r.arrow.key == "token")
    assert [(m.at, m.earlier) for m in row.messages] == [(900.0, True)]


def test_wx_config_is_the_one_on_the_page_that_opened_the_sheet() -> None:
    elsewhere = entry(
        "/_sandbox/bridge/invoke",
        1010.5,
        "POST",
        notes=["preVerifyJSAPI from http://127.0.0.1:8700/other"],
        answer={"result": {"err_msg": "config:invalid signature"}},
    )
    entries = sorted([*whole_flow(), elsewhere], key=lambda e: e["timestamp"])
    row = next(r for r in build_flow(entries, paid_order(), 2000.0).rows if r.arrow.key == "config")
    assert [m.label for m in row.messages] == [f"wx.config on {PAGE} → preVerifyJSAPI:ok"]


def test_an_arrow_shows_its_latest_messages_and_counts_the_rest() -> None:
    queries = [
        entry("/pay/orderquery", 1020.0 + i, "POST", fields={"mch_id": MCH_ID, "out_trade_no": "O1"})
        for i in range(SHOWN + 2)
    ]
    row = next(r for r in build_flow([*whole_flow(), *queries], paid_order(), 2000.0).rows if r.arrow.key == "query")
    assert (len(row.messages), row.hidden, row.messages[-1].at) == (SHOWN, 2, 1020.0 + SHOWN + 1)


def test_the_latest_activity_is_the_newest_entry_that_names_a_user() -> None:
    by_openid = {ALICE: "alice", BOB: "bob"}
    assert latest_user([], by_openid) is None
    assert latest_user(whole_flow(), by_openid) == "alice"
    assert latest_user([*whole_flow(), *sign_in(1100.0, "bob", "s2")], by_openid) == "bob"
    refused = entry("/connect/oauth2/authorize", 1200.0, query={**AUTH, "state": "s3"}, error="RedirectUriMismatch")
    assert latest_user([*whole_flow(), refused], by_openid) == ""  # nobody chosen yet: the sign-in that failed


def test_the_users_latest_order_after_a_time() -> None:
    assert latest_order(whole_flow(), frozenset({ALICE}), 1000.0) == OrderRef(MCH_ID, "O1", APPID, created_at=1011.0)
    assert latest_order(whole_flow(), frozenset({ALICE}), 1050.0) is None
    assert latest_order(whole_flow(), frozenset({BOB}), 0.0) is None


# -- the page ---------------------------------------------------------------------------------------


async def console(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


async def page(client: Client, path: str, status: int = 200) -> str:
    resp = await client.get(path)
    assert resp.status == status, await resp.text()
    return await resp.text()


async def signed_in(client: Client, user: str = "alice", state: str = "s1") -> None:
    """Steps 4 and 5 as a script does them: the authorize page (headers pick the user and consent), the code."""
    headers = {"X-WeChat-Sandbox-User": user, "X-WeChat-Sandbox-Consent": "allow"}
    resp = await client.get(
        "/connect/oauth2/authorize", params={**AUTH, "state": state}, headers=headers, allow_redirects=False
    )
    assert resp.status == 302, await resp.text()
    [code] = parse_qs(urlsplit(resp.headers["Location"]).query)["code"]
    params = {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"}
    token = await (await client.get("/sns/oauth2/access_token", params=params)).json()
    await client.get("/sns/userinfo", params={"access_token": token["access_token"], "openid": token["openid"]})


def rows(html: str) -> dict[str, str]:
    """data-arrow → data-state of each row of the page's diagram."""
    found = {}
    for chunk in html.split('data-testid="flow-row" data-arrow="')[1:]:
        arrow, rest = chunk.split('"', 1)
        found[arrow] = rest.split('data-state="', 1)[1].split('"', 1)[0]
    return found


async def test_the_flow_page_is_in_the_navigation_and_waits_for_a_first_sign_in(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    html = await page(client, "/_sandbox/flow")
    assert '<a href="/_sandbox/flow" class="here" aria-current="page">Flow</a>' in html
    assert "Nothing has happened yet" in html
    assert set(rows(html).values()) == {"pending", "skipped"}
    assert html.count('data-testid="flow-lifeline"') == 3


async def test_an_orders_flow_from_the_sign_in_to_the_notification(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await signed_in(client)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="F1", openid=ALICE))
    assert (await client.post(f"/_sandbox/api/orders/{MCH_ID}/F1/pay", json={})).status == 200
    for _ in range(100):  # the delivery to NOTIFY_URL (nothing listens) fails at once, in the background
        if any(n.attempts for n in client.app[PAY].book.all()):
            break
        await asyncio.sleep(0.02)
    html = await page(client, f"/_sandbox/flow?mch_id={MCH_ID}&out_trade_no=F1")
    states_ = rows(html)
    for arrow in ("authorize", "code", "oauth_token", "userinfo", "prepay"):
        assert states_[arrow] == "done", arrow
    assert states_["notify"] == "failed"  # nothing listens at NOTIFY_URL
    assert NOTIFY_URL in html
    assert (states_["config"], states_["pay"]) == ("pending", "pending")  # paid through the control API
    assert '<a href="/_sandbox/journal?rid=' in html
    assert 'data-testid="flow-failure"' in html


async def test_a_users_flow_by_id_or_openid_and_the_latest_activity(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await signed_in(client, "bob", "s2")
    await signed_in(client, "alice", "s1")
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="F2", openid=ALICE))
    by_id = await page(client, "/_sandbox/flow?user=alice")
    assert "F2" in by_id.split('data-testid="flow-subject"')[1].split("</p>")[0]
    assert rows(by_id)["prepay"] == "done"
    assert "user <b>alice</b>" in await page(client, f"/_sandbox/flow?user={ALICE}")
    bob = await page(client, "/_sandbox/flow?user=bob")
    assert "user <b>bob</b>" in bob
    assert rows(bob)["prepay"] == "pending"
    latest = await page(client, "/_sandbox/flow")
    assert "user <b>alice</b>" in latest
    assert "(the latest activity)" in latest


async def test_a_failed_wx_config_is_marked_with_its_explanation(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await signed_in(client)
    args = {
        "appId": APPID,
        "verifyAppId": APPID,
        "verifySignType": "sha1",
        "verifyTimestamp": "1700000000",
        "verifyNonceStr": "n",
        "verifySignature": "0" * 40,
        "verifyJsApiList": ["chooseWXPay"],
    }
    body = {"page_id": "p1", "href": PAGE, "name": "preVerifyJSAPI", "args": args}
    assert (await client.post("/_sandbox/bridge/invoke", json=body)).status == 200
    html = await page(client, "/_sandbox/flow?user=alice")
    assert rows(html)["config"] == "failed"
    failure_line = html.split('data-testid="flow-failure"')[1].split("</p>")[0]
    assert "wx.config 需要签名" in failure_line
    assert "config:invalid signature" in failure_line or "does not verify" in failure_line


async def test_a_unified_order_wechat_refused_is_the_users_failing_step(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await signed_in(client)
    too_long = order_fields(out_trade_no="F5", openid=ALICE, body="x" * 129)  # body: 128 characters at most
    assert "INVALID_REQUEST" in (await post(client, "/pay/unifiedorder", too_long))[1]
    html = await page(client, "/_sandbox/flow?user=alice")
    assert '<code>F5</code> <span class="err">was never placed' in html
    assert rows(html)["prepay"] == "failed"
    assert "第三步 · 第八步" in html.split('data-testid="flow-failure"')[1].split("</p>")[0]


async def test_an_unknown_order_or_user_is_404(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await page(client, f"/_sandbox/flow?mch_id={MCH_ID}&out_trade_no=nope", 404)
    await page(client, "/_sandbox/flow?user=mallory", 404)


async def test_values_from_clients_are_escaped(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await signed_in(client, state=HOSTILE)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="F3", openid=ALICE, body=HOSTILE))
    html = await page(client, f"/_sandbox/flow?mch_id={MCH_ID}&out_trade_no=F3")
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_the_order_page_links_to_its_flow(aiohttp_client: ClientFactory) -> None:
    client = await console(aiohttp_client)
    await post(client, "/pay/unifiedorder", order_fields(out_trade_no="F4"))
    html = await page(client, f"/_sandbox/orders/{MCH_ID}/F4")
    assert f'href="/_sandbox/flow?mch_id={MCH_ID}&amp;out_trade_no=F4"' in html
