"""Typed app keys of the workbench."""

from __future__ import annotations

from aiohttp import web

from mock_wechat.clock import OffsetClock
from mock_wechat.config import WeChatConfig
from sandbox.journal import Journal
from sandbox.tls import ServerTLS

SANDBOX_CLOCK = web.AppKey("sandbox_clock", OffsetClock)
JOURNAL = web.AppKey("journal", Journal)
STARTED = web.AppKey("started", float)
ORIGINAL_CONFIG = web.AppKey("original_config", WeChatConfig)
"""The configuration as started; reset returns to it after run-time changes."""
TLS = web.AppKey("tls", ServerTLS)
"""The local CA and the TLS server context (the TLS listener, the proxy's tunnels), made on first use."""
