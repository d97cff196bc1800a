"""Typed app keys of the workbench."""

from __future__ import annotations

from aiohttp import web

from mock_wechat.clock import OffsetClock
from mock_wechat.config import WeChatConfig
from sandbox.journal import Journal

SANDBOX_CLOCK = web.AppKey("sandbox_clock", OffsetClock)
JOURNAL = web.AppKey("journal", Journal)
STARTED = web.AppKey("started", float)
ORIGINAL_CONFIG = web.AppKey("original_config", WeChatConfig)
"""The configuration as started; reset returns to it after run-time changes."""
