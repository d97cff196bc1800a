"""What the payer's WeChat does with a scanned code: find its order (mode 2), or ask the merchant for one (mode 1)."""

from __future__ import annotations

import aiohttp

from mock_wechat import errors
from mock_wechat.bridge import scan
from mock_wechat.bridge.paysheet import SheetRefused
from mock_wechat.bridge.service import BridgeService
from mock_wechat.domains import allowed, parse_origin
from mock_wechat.ids import openid_for
from mock_wechat.pay import v2_xml
from mock_wechat.pay.orders import Order

CALLBACK_TIMEOUT = 5.0
"""How long WeChat waits for the scan-pay callback's answer (as for notifications, UNCONFIRMED for this one)."""


async def order_of_scan(bridge: BridgeService, text: str, user_id: str, notes: list[str]) -> Order:
    """The order a scanned code pays; `notes` gets what happened on the way (the callback's exchange)."""
    code = scan.read(text)
    if isinstance(code, scan.ModeTwo):
        order = scan.find_mode_two(bridge.pay.by_pr(code.pr), code)
        notes.append(f"scanned mode 2 code pr={code.pr}: order {order.out_trade_no} of {order.mch_id}")
        return order
    merchant = scan.check_mode_one(bridge.config, code)
    url = scan.callback_url(merchant)
    origin = parse_origin(url)
    if origin is None or not allowed(origin, merchant.notify_hosts, merchant.trust_loopback):
        hosts = ", ".join(merchant.notify_hosts) or "(none)"
        raise SheetRefused(
            scan.BUSY,
            diagnostics=[
                f"the scan-pay callback URL {url} (native_callback_url) is on a host outside merchant "
                f"{merchant.mch_id}'s notify allowlist ({hosts}): the sandbox never calls other hosts"
            ],
        )
    if bridge.accounts.user(user_id) is None:
        raise SheetRefused("用户不存在", diagnostics=[f"user {user_id!r} is not a sandbox user"])
    openid = openid_for(code.fields["appid"], user_id)
    body = v2_xml.render(scan.callback_request(code, merchant, openid, bridge.ids.nonce()))
    notes.append(f"scanned mode 1 code for product {code.product_id!r}: POST {url} (openid {openid})")
    status, answer_text = await _post(url, body)
    notes.append(f"the scan-pay callback answered HTTP {status}: {answer_text[:500]}")
    if status != 200:
        raise SheetRefused(scan.BUSY, diagnostics=[f"the scan-pay callback {url} answered HTTP {status}, not 200"])
    try:
        answer = v2_xml.parse(answer_text.encode())
    except errors.PayV2Error as exc:
        raise SheetRefused(
            scan.BUSY, diagnostics=[f"the scan-pay callback {url} answered no readable <xml>: {exc.diagnostic}"]
        ) from None
    prepay_id = scan.read_callback_answer(answer, merchant, url)
    order = scan.check_callback_order(bridge.pay.by_prepay_id(prepay_id), code, prepay_id)
    notes.append(f"the callback placed order {order.out_trade_no} ({prepay_id})")
    return order


async def _post(url: str, body: str) -> tuple[int, str]:
    """POST the callback's XML; the status and text of the answer, or the refusal when there is none."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT)) as http,
            http.post(url, data=body.encode(), headers={"Content-Type": "text/xml"}, allow_redirects=False) as resp,
        ):
            return resp.status, (await resp.read()).decode("utf-8", "replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SheetRefused(
            scan.BUSY, diagnostics=[f"the scan-pay callback {url} could not be reached: {type(exc).__name__} {exc}"]
        ) from None
