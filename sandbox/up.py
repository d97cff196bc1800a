"""`wechat-sandbox up`: the sandbox and the demo shop side by side, each on its own origin."""

from __future__ import annotations

from dataclasses import replace

from demo_shop.settings import Settings
from mock_wechat.config import WeChatConfig
from mock_wechat.domains import parse_origin


def demo_config(config: WeChatConfig, shop_url: str) -> WeChatConfig:
    """The default merchant, registered for the shop as a real merchant would be: one pay directory,
    notifications to the shop only. So the demo's "wrong pay directory" page is refused as in production."""
    origin = parse_origin(shop_url)
    assert origin is not None
    merchant = config.merchants[0]
    shop_merchant = replace(
        merchant,
        pay_directories=(f"{shop_url}/checkout/",),
        notify_hosts=(origin.host_port,),
        trust_loopback=False,
    )
    return replace(config, merchants=(shop_merchant, *config.merchants[1:]))


def shop_settings(config: WeChatConfig, sandbox_url: str, shop_url: str) -> Settings:
    """The shop talks to the sandbox exactly as it would to WeChat: base URLs and credentials."""
    merchant = config.merchants[0]
    appid = merchant.appids[0] if merchant.appids else config.accounts[0].appid
    account = config.account(appid) or config.accounts[0]
    return Settings(
        api_base=sandbox_url,
        open_base=sandbox_url,
        pay_base=sandbox_url,
        appid=account.appid,
        secret=account.secret,
        mch_id=merchant.mch_id,
        mch_key=merchant.key,
        public_url=shop_url,
        bridge_url=sandbox_url,
        jssdk_url=f"{sandbox_url}/open/js/jweixin-1.6.0.js",
    )
