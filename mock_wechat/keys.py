"""Typed keys for what the app and each request carry (no string keys, no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from mock_wechat.account.service import AccountService
from mock_wechat.bridge.service import BridgeService
from mock_wechat.clock import Clock
from mock_wechat.config import WeChatConfig
from mock_wechat.errors import Comparison
from mock_wechat.ids import Ids
from mock_wechat.pay.delivery import Deliverer
from mock_wechat.pay.service import PayService
from mock_wechat.pay.v2_dialect import Signer
from mock_wechat.pay.v3_keys import MerchantKeyring
from mock_wechat.store import Store


@dataclass
class Exchange:
    """One emulated call as the journal sees it: what came in, what went out, and why."""

    time: float
    method: str
    path: str
    query: dict[str, str]
    status: int
    rid: str
    wire_code: int | str | None = None
    error: str | None = None
    diagnostic: str = ""
    notes: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    fields: dict[str, str] = field(default_factory=dict)
    """The fields of the request body, as parsed (v2 XML; v3 JSON flattened, `amount.total`)."""
    comparison: Comparison | None = None
    """A signature near miss: what the sandbox signed beside what the client's signature matches."""
    answer: str = ""
    """The answer's body as sent (the first ANSWER_KEPT characters of text; a page or binary body described)."""


Observer = Callable[[Exchange], None]

STORE = web.AppKey("store", Store)
CLOCK = web.AppKey("clock", Clock)
IDS = web.AppKey("ids", Ids)
ACCOUNTS = web.AppKey("accounts", AccountService)
PAY = web.AppKey("pay", PayService)
DELIVERER = web.AppKey("deliverer", Deliverer)
BRIDGE = web.AppKey("bridge", BridgeService)
KEYRING = web.AppKey("keyring", MerchantKeyring)
"""Each merchant's API v3 keys: `app[KEYRING].keys(mch_id)`, `app[KEYRING].response_signer(mch_id)`."""
TEMPLATES = web.AppKey("templates", jinja2.Environment)
OBSERVERS = web.AppKey("observers", list[Observer])

RID = web.RequestKey("rid", str)
BODY_FIELDS = web.RequestKey("body_fields", dict[str, str])
"""The request body's fields as the journal records them: v2's XML fields, v3's JSON flattened (`amount.total`)."""
V2_SIGNER = web.RequestKey("v2_signer", Signer)
V3_MERCHANT = web.RequestKey("v3_merchant", str)
COMPARISON = web.RequestKey("comparison", Comparison)
"""A signature near miss found while answering without an error (the bridge's wx.config), for the journal."""
"""The mch_id whose signature an API v3 request carried: its answers, errors included, are signed for it."""
NOTES = web.RequestKey("notes", list[str])


def current_config(app: web.Application) -> WeChatConfig:
    """The configuration in force (run-time changes included): the services own it, handlers ask them."""
    return app[ACCOUNTS].config
