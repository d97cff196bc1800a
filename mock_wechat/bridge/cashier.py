"""The H5 cashier (MWEB) behind `mweb_url` / `h5_url`: what WeChat checks before a browser outside WeChat pays.

The texts are WeChat Pay's own (its H5 FAQ): no Referer → 商家参数格式有误; a Referer outside the H5 pay domains
→ 商家存在未配置的参数; past the link's 5 minutes → 支付请求已失效; a browser whose IP is not the order's
spbill_create_ip → 网络环境未能通过安全验证; inside WeChat → 请在微信外打开订单. `redirect_url` (URL-encoded, where
the browser goes after paying) must lie under an H5 pay domain too: the seed's note 7.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mock_wechat import errors
from mock_wechat.config import Merchant
from mock_wechat.domains import h5_allowed, is_loopback, looks_double_encoded, parse_origin
from mock_wechat.pay.links import MWEB_TTL
from mock_wechat.pay.orders import Order, TradeState, TradeType


@dataclass(frozen=True)
class Visit:
    """A browser arriving at the cashier: the link's parameters and what its request says about it."""

    prepay_id: str
    package: str
    redirect_url: str
    referer: str
    user_agent: str
    remote: str


def check(visit: Visit, order: Order | None, merchant: Merchant | None, now: float) -> Order:
    """The order this visit may pay, or WeChat's error page (each with the sandbox's reason)."""
    if "micromessenger" in visit.user_agent.lower():
        raise errors.MwebInsideWeChat(
            "H5 pay (MWEB) is for browsers outside WeChat; inside WeChat pay with JSAPI (getBrandWCPayRequest)"
        )
    if order is None or merchant is None or order.trade_type != TradeType.MWEB:
        what = "no order" if order is None else f"a {order.trade_type} order ({order.out_trade_no})"
        raise errors.MwebParamsWrong(
            f"prepay_id {visit.prepay_id!r} is {what}: the cashier opens the mweb_url (v3: h5_url) of an MWEB order"
        )
    check_referer(visit.referer, merchant)
    check_expiry(visit.package, order, now)
    if order.trade_state in (TradeState.SUCCESS, TradeState.REFUND):
        raise errors.MwebOrderPaid(f"order {order.out_trade_no} is already {order.trade_state}")
    if order.trade_state in (TradeState.CLOSED, TradeState.REVOKED):
        raise errors.MwebOrderClosed(f"order {order.out_trade_no} is {order.trade_state}")
    if visit.redirect_url:
        check_redirect_url(visit.redirect_url, merchant)
    check_ip(visit.remote, order)
    return order


def check_referer(referer: str, merchant: Merchant) -> None:
    """The page that sent the browser here (its `Referer`) must be under one of the merchant's H5 pay domains."""
    if not referer:
        raise errors.MwebParamsWrong(
            "the request has no Referer: WeChat needs the page the browser came from, so the mweb_url must be "
            "followed from the merchant's page (a link, a redirect after a click), not typed in or opened blank"
        )
    origin = parse_origin(referer)
    if origin is None or not h5_allowed(origin, merchant.h5_domains, merchant.trust_loopback):
        domains = ", ".join(merchant.h5_domains) or "(none)"
        raise errors.MwebDomainUnconfigured(
            f"the Referer {referer} is not under an H5 pay domain (H5支付域名; the setting h5_domains) of merchant "
            f"{merchant.mch_id}: {domains}{'; loopback trusted' if merchant.trust_loopback else ''}"
        )


def check_expiry(package: str, order: Order, now: float) -> None:
    """The link was given less than 5 minutes ago (the sandbox's `package` is the second it was given)."""
    if not (package.isascii() and package.isdigit()) or len(package) > 12:
        raise errors.MwebParamsWrong(f"package {package[:40]!r} is not the one unifiedorder gave with this link")
    issued = int(package)
    if issued < int(order.created_at) or issued > now:
        raise errors.MwebParamsWrong(f"package {package} is not the one unifiedorder gave with this link")
    if now - issued > MWEB_TTL:
        raise errors.MwebExpired(
            f"this mweb_url was given {int(now - issued)} s ago; it is valid for {MWEB_TTL} s (5 minutes): call "
            "unifiedorder again (the same parameters) for a new one"
        )


def check_redirect_url(redirect_url: str, merchant: Merchant) -> None:
    """Where the browser goes after paying: an absolute URL under an H5 pay domain (the seed's note 7)."""
    origin = parse_origin(redirect_url)
    if origin is not None and h5_allowed(origin, merchant.h5_domains, merchant.trust_loopback):
        return
    domains = ", ".join(merchant.h5_domains) or "(none)"
    why = (
        "it is not an absolute http(s) URL"
        if origin is None
        else f"its host {origin.host_port} is not under an H5 pay domain (h5_domains) of merchant {merchant.mch_id}: "
        f"{domains}{'; loopback trusted' if merchant.trust_loopback else ''}"
    )
    hint = " It looks URL-encoded twice: encode it once." if looks_double_encoded(redirect_url) else ""
    raise errors.MwebRedirectUrl(
        f"redirect_url {redirect_url!r}: {why}. Append it to the mweb_url as &redirect_url= followed by the "
        f"URL-encoded address of a page of the shop.{hint}"
    )


def check_ip(remote: str, order: Order) -> None:
    """The browser's IP is the one the order was placed for (loopback addresses count as one)."""
    placed = order.spbill_create_ip
    if not placed or not remote or _same_ip(remote, placed):
        return
    field = "scene_info.payer_client_ip" if order.api == "v3" else "spbill_create_ip"
    raise errors.MwebNetworkCheck(
        f"this browser's IP is {remote}, but the order was placed with {field} {placed}: pass the payer's own IP "
        "(the browser's, as the shop's server sees it), not the server's"
    )


def _same_ip(one: str, other: str) -> bool:
    if is_loopback(one) and is_loopback(other):
        return True
    try:
        return ipaddress.ip_address(one) == ipaddress.ip_address(other)
    except ValueError:
        return one == other
