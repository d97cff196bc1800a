"""Where the shop finds WeChat and who it is there: base URLs and credentials, nothing else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """In production the three WeChat bases are the real hosts; against the sandbox they are one origin."""

    api_base: str
    """api.weixin.qq.com: access_token, jsapi_ticket, sns."""
    open_base: str
    """open.weixin.qq.com: the authorize page the user's browser is sent to."""
    pay_base: str
    """api.mch.weixin.qq.com: WeChat Pay API v2."""
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
    """How the shop signs unified orders and paySign: MD5 (wechatpy's default) or HMAC-SHA256."""
