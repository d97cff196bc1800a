"""Where the shop finds WeChat and who it is there (base URLs and credentials), and where it keeps its orders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PayApi = Literal["v2", "v3"]


@dataclass(frozen=True)
class PayV3Keys:
    """What a merchant downloads from the merchant platform (商户平台) to speak WeChat Pay API v3."""

    apiv3_key: str
    """The API v3 key (32 characters): opens the AES-256-GCM `resource` of every notification."""
    serial_no: str
    """The serial of the merchant API certificate (apiclient_cert.pem): `serial_no` in `Authorization`."""
    private_key: str
    """apiclient_key.pem (PEM): signs every request and every paySign. It never leaves the server."""
    public_key_id: str
    """`PUB_KEY_ID_…`: the `Wechatpay-Serial` of answers and notifications signed with WeChat Pay's public key."""
    public_key: str
    """pub_key.pem (PEM): WeChat Pay's public key, which verifies them."""
    platform_serial_no: str = ""
    platform_certificate: str = ""
    """wechatpay_<serial>.pem, for merchants whose answers are still signed with a platform certificate."""


@dataclass(frozen=True)
class Settings:
    """In production the three WeChat bases are the real hosts; against the sandbox they are one origin."""

    api_base: str
    """api.weixin.qq.com: access_token, jsapi_ticket, sns."""
    open_base: str
    """open.weixin.qq.com: the authorize page the user's browser is sent to."""
    pay_base: str
    """api.mch.weixin.qq.com: WeChat Pay, API v2 (/pay/…) and API v3 (/v3/…)."""
    appid: str
    secret: str
    mch_id: str
    mch_key: str
    public_url: str
    """Where browsers reach this shop (redirect_uri and notify_url are built from it)."""
    bridge_url: str = ""
    """Only with the sandbox: where wechat-bridge.js and the JS-SDK are served, so any browser acts as WeChat."""
    jssdk_url: str = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
    sign_type: str = "MD5"
    """API v2 only: how the shop signs unified orders and paySign, MD5 (wechatpy's default) or HMAC-SHA256."""
    pay_api: PayApi = "v2"
    """Which WeChat Pay API the shop speaks: v2 (XML, MD5/HMAC with `mch_key`) or v3 (JSON, RSA with `v3`)."""
    v3: PayV3Keys | None = None
    database: Path | None = None
    """The SQLite file that keeps the shop's orders across restarts; None keeps them in memory only."""
    app_appid: str = ""
    """The shop's mobile app (开放平台移动应用): APP orders are placed with its appid, not the Official Account's."""

    def __post_init__(self) -> None:
        if self.pay_api == "v3" and self.v3 is None:
            raise ValueError("pay_api v3 needs the merchant's API v3 keys (Settings.v3)")
