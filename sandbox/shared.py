"""What every process on one store shares besides records: the run-time settings and the clock offset, in meta.

A change is written to the store (so it also survives a restart) and announced; a process that hears the
announcement (another replica on the same PostgreSQL) reads it back. A store only one process uses hears nothing."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from enum import StrEnum
from typing import Any

from aiohttp import web

from mock_wechat.app import reconfigure
from mock_wechat.config import ResponseSigning
from mock_wechat.keys import PAY, STORE
from mock_wechat.store import Store
from sandbox.keys import ORIGINAL_CONFIG, SANDBOX_CLOCK

SETTINGS = "settings"
"""Meta: the run-time changes, `{"accounts": {appid: {field: value}}, "merchants": {mch_id: {…}}}`."""
CLOCK_OFFSET = "clock_offset"
MAX_OFFSET = 100 * 365 * 86_400
"""A hundred years ahead in all: every date the sandbox writes keeps four digits (reset goes back)."""
SETTINGS_CHANGED, CLOCK_CHANGED, RESET, CHANGED = "settings", "clock", "reset", "changed"
"""What a process announces after changing the shared world (`changed`: anything, for open pages to look again)."""
ACCOUNT_FIELDS = {"name": str, "oauth_domains": list, "js_domains": list, "trust_loopback": bool, "unionid": bool}
MERCHANT_FIELDS = {
    "name": str,
    "appids": list,
    "pay_directories": list,
    "notify_hosts": list,
    "h5_domains": list,
    "native_callback_url": str,
    "trust_loopback": bool,
    "response_signing": ResponseSigning,
}


FIELDS = {"accounts": ACCOUNT_FIELDS, "merchants": MERCHANT_FIELDS}


def field_changes(body: dict[str, Any], allowed: dict[str, type], domains: tuple[str, ...]) -> dict[str, Any] | str:
    """Validated field changes; setting domains without `trust_loopback` turns WeChat's real rules on."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return f"unknown fields {unknown}; allowed: {sorted(allowed)}"
    changes: dict[str, Any] = {}
    for name, value in body.items():
        kind = allowed[name]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"{name} must be a list of strings"
            value = tuple(value)
        elif issubclass(kind, StrEnum):
            values = [member.value for member in kind]
            if not isinstance(value, str) or value not in values:
                return f"{name} must be one of {values}"
            value = kind(value)
        elif not isinstance(value, kind):
            return f"{name} must be {kind.__name__}"
        changes[name] = value
    if any(d in body for d in domains) and "trust_loopback" not in body:
        changes["trust_loopback"] = False
    return changes


def saved_settings(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """The run-time changes kept in the store (none when nothing was changed, or what is kept is unreadable)."""
    try:
        found = json.loads(store.meta_get(SETTINGS) or "{}")
    except ValueError:
        found = {}
    found = found if isinstance(found, dict) else {}
    return {section: dict(found.get(section) or {}) for section in FIELDS}


def save_changes(app: web.Application, section: str, key: str, changes: dict[str, Any]) -> None:
    """Add validated changes of one account (`accounts`, appid) or merchant (`merchants`, mch_id), apply them here
    and tell the other processes."""
    store = app[STORE]
    with store.transaction():
        saved = saved_settings(store)
        saved[section][key] = {**saved[section].get(key, {}), **_plain(changes)}
        store.meta_set(SETTINGS, json.dumps(saved, ensure_ascii=False))
        store.announce(SETTINGS_CHANGED)
    apply_settings(app)


def replace_settings(app: web.Application, settings: dict[str, dict[str, dict[str, Any]]]) -> None:
    """All run-time changes at once (a scenario's), applied here and announced."""
    store = app[STORE]
    with store.transaction():
        store.meta_set(SETTINGS, json.dumps({s: settings.get(s, {}) for s in FIELDS}, ensure_ascii=False))
        store.announce(SETTINGS_CHANGED)
    apply_settings(app)


def apply_settings(app: web.Application) -> None:
    """The configuration in force: the one the sandbox started with, with the store's run-time changes on top."""
    config = app[ORIGINAL_CONFIG]
    saved = saved_settings(app[STORE])
    accounts = tuple(replace(a, **_typed(saved["accounts"].get(a.appid), "accounts")) for a in config.accounts)
    merchants = tuple(replace(m, **_typed(saved["merchants"].get(m.mch_id), "merchants")) for m in config.merchants)
    reconfigure(app, replace(config, accounts=accounts, merchants=merchants))


def _typed(changes: Any, section: str) -> dict[str, Any]:
    """Kept changes read back with the control API's own checks (a damaged entry is ignored, not half-applied)."""
    if not isinstance(changes, dict):
        return {}
    typed = field_changes(changes, FIELDS[section], ())
    return typed if isinstance(typed, dict) else {}


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else (str(v) if isinstance(v, str) else v) for k, v in changes.items()}


def saved_offset(store: Store) -> float:
    """The clock offset kept in the store (0 when it is not a sane number)."""
    try:
        offset = float(store.meta_get(CLOCK_OFFSET) or 0.0)
    except ValueError:
        return 0.0
    return offset if math.isfinite(offset) and 0 <= offset <= MAX_OFFSET else 0.0


def advance_clock(app: web.Application, seconds: float) -> float:
    """Move the shared clock on by `seconds` (read and written in one transaction, so two processes advancing at
    once add up); the new offset."""
    store = app[STORE]
    with store.transaction():
        offset = saved_offset(store) + seconds
        store.meta_set(CLOCK_OFFSET, repr(offset))
        store.announce(CLOCK_CHANGED)
    follow_clock(app)
    return offset


def follow_clock(app: web.Application) -> None:
    """This process's clock takes the shared offset; notifications that fell due go out."""
    app[SANDBOX_CLOCK].offset = saved_offset(app[STORE])
    app[PAY].book.wake()


def heard(app: web.Application, topic: str) -> None:
    """Another process changed the shared world: read back what it changed."""
    if topic in (SETTINGS_CHANGED, RESET):
        apply_settings(app)
    if topic in (CLOCK_CHANGED, RESET):
        follow_clock(app)
