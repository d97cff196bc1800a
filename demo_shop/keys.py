"""Typed keys of the shop's app."""

from __future__ import annotations

import jinja2
from aiohttp import web

from demo_shop.settings import Settings
from demo_shop.state import ShopState
from demo_shop.wechat import WeChat

SETTINGS = web.AppKey("settings", Settings)
STATE = web.AppKey("state", ShopState)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
WECHAT = web.AppKey("wechat", WeChat)
