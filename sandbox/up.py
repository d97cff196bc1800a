"""`wechat-sandbox up`: the sandbox and the demo shop side by side, each on its own origin."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aiohttp import web

from demo_shop.settings import PayApi, PayV3Keys, Settings
from mock_wechat.config import Account, AccountKind, WeChatConfig
from mock_wechat.domains import parse_origin
from mock_wechat.keys import KEYRING
from mock_wechat.pay.v3_keys import MerchantKeys

SHOP_APIS: tuple[PayApi, ...] = ("v2", "v3")
"""`--shop-api`: the WeChat Pay API the demo shop speaks."""
SHOP_DATABASE = "demo_shop.sqlite3"
"""The demo shop's orders, beside the sandbox's state in the data dir."""


DEMO_APP_APPID = "wx5a4db0c0ffee00a1"
"""The shop's mobile app (开放平台移动应用), bound to its merchant: the appid of its APP pay orders."""


def demo_config(config: WeChatConfig, shop_url: str) -> WeChatConfig:
    """The default merchant, registered for the shop as a real merchant would be: one pay directory, the shop's
    origin as its H5 pay domain, its scan-pay callback URL, notifications to the shop only, and the shop's app.
    So the demo's "wrong pay directory" and "wrong redirect_url" pages are refused as in production."""
    origin = parse_origin(shop_url)
    assert origin is not None
    merchant = config.merchants[0]
    app = Account(appid=DEMO_APP_APPID, secret="app-" + merchant.key[:28], name="沙箱小店 App", kind=AccountKind.APP)
    accounts = config.accounts if config.account(app.appid) else (*config.accounts, app)
    shop_merchant = replace(
        merchant,
        appids=(*merchant.appids, app.appid) if app.appid not in merchant.appids else merchant.appids,
        pay_directories=(f"{shop_url}/checkout/",),
        notify_hosts=(origin.host_port,),
        h5_domains=(origin.host_port,),
        native_callback_url=f"{shop_url}/native/callback",
        trust_loopback=False,
    )
    return replace(config, accounts=accounts, merchants=(shop_merchant, *config.merchants[1:]))


async def shop_keys(sandbox: web.Application, config: WeChatConfig) -> MerchantKeys:
    """The shop's merchant's API v3 material, made in a worker thread if the sandbox has none yet."""
    keyring = sandbox[KEYRING]
    await keyring.warm()
    return keyring.keys(config.merchants[0].mch_id)


def v3_keys(keys: MerchantKeys) -> PayV3Keys:
    """What a merchant downloads for API v3 (the console's key files): never WeChat Pay's private halves."""
    return PayV3Keys(
        apiv3_key=keys.apiv3_key,
        serial_no=keys.serial_no,
        private_key=keys.private_key,
        public_key_id=keys.public_key_id,
        public_key=keys.public_key,
        platform_serial_no=keys.platform_serial_no,
        platform_certificate=keys.platform_certificate,
    )


def shop_settings(
    config: WeChatConfig,
    sandbox_url: str,
    shop_url: str,
    *,
    pay_api: PayApi = "v2",
    keys: MerchantKeys | None = None,
    data_dir: Path | None = None,
) -> Settings:
    """The shop talks to the sandbox exactly as it would to WeChat: base URLs and credentials (for API v3, the
    merchant's v3 keys). It keeps its orders in the sandbox's `data_dir`, or in memory when there is none."""
    if pay_api == "v3" and keys is None:
        raise ValueError("the shop speaks API v3 with its merchant's API v3 keys: pass keys")
    merchant = config.merchants[0]
    appid = merchant.appids[0] if merchant.appids else config.accounts[0].appid
    account = config.account(appid) or config.accounts[0]
    app_appid = next((a.appid for a in config.accounts if a.kind == AccountKind.APP and a.appid in merchant.appids), "")
    return Settings(
        app_appid=app_appid,
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
        pay_api=pay_api,
        v3=v3_keys(keys) if pay_api == "v3" and keys is not None else None,
        database=None if data_dir is None else data_dir / SHOP_DATABASE,
    )
