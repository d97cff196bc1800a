"""Typed keys of the shop's app."""

from __future__ import annotations

import jinja2
from aiohttp import web

from demo_shop.pay_api import PayClient
from demo_shop.settings import Settings
from demo_shop.state import ShopState
from demo_shop.wechat import WeChat
from demo_shop.wechat_v3 import NotificationReader

SETTINGS = web.AppKey("settings", Settings)
STATE = web.AppKey("state", ShopState)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
WECHAT = web.AppKey("wechat", WeChat)
PAY = web.AppKey[PayClient]("pay")
"""WeChat Pay, in the API the settings name: `WECHAT` itself for v2, a `WeChatPayV3` for v3."""
NOTIFICATIONS_V3 = web.AppKey("notifications_v3", NotificationReader)
"""API v3 only: verifies and decrypts what WeChat Pay POSTs to /notify/v3/…"""
