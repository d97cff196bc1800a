"""Scenarios: the sandbox's whole world as one versioned JSON document, to hand to a colleague and load again."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiohttp import web

from mock_wechat.account.oauth import Consent, OAuthCode, RefreshToken, WebToken
from mock_wechat.account.service import History
from mock_wechat.account.tokens import AccessToken, Ticket
from mock_wechat.bridge.jsapi import Page
from mock_wechat.bridge.paysheet import Sheet
from mock_wechat.config import User
from mock_wechat.keys import PAY, STORE, current_config
from mock_wechat.pay.notifications import Notification
from mock_wechat.pay.orders import Order
from mock_wechat.pay.refunds import Refund
from mock_wechat.pay.v3_keys import KIND as V3_KEYS
from mock_wechat.store import Pointer, Record
from sandbox import shared
from sandbox.control import reset_state
from sandbox.keys import SANDBOX_CLOCK
from sandbox.shared import ACCOUNT_FIELDS, CLOCK_OFFSET, MERCHANT_FIELDS, field_changes

FORMAT = "wechat-sandbox-state"
VERSION = 1
"""Bumped whenever a record's fields change; an older sandbox refuses a newer document by this number."""
KINDS: dict[str, type[Any]] = {
    "user": User,
    "consent": Consent,
    "history": History,
    "access_token": AccessToken,
    "ticket": Ticket,
    "oauth_code": OAuthCode,
    "web_token": WebToken,
    "refresh_token": RefreshToken,
    "pointer": Pointer,
    "order": Order,
    "refund": Refund,
    "pay_index": Pointer,
    "notification": Notification,
    "notification_due": Pointer,
    "bridge_page": Page,
    "bridge_sheet": Sheet,
}
"""What a document carries, by store kind. The merchants' API v3 keys never travel: they are secrets, and the
sandbox that imports keeps its own (so the key files its developers downloaded stay valid)."""


class ScenarioError(Exception):
    """A document that cannot be imported; the message names what is wrong in it."""


def export_state(app: web.Application) -> dict[str, Any]:
    """Users, consents, tokens, orders, refunds, notifications with their attempts, the clock offset and the
    run-time configuration (the domain and pay settings the control API can change)."""
    config = current_config(app)
    records = [r for r in app[STORE].records() if r.kind != V3_KEYS]
    unknown = sorted({r.kind for r in records} - set(KINDS))
    if unknown:  # a kind added without being listed here would be lost silently
        raise ScenarioError(f"the store holds records this version cannot export: {unknown}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": app[SANDBOX_CLOCK].now(),
        "clock_offset": app[SANDBOX_CLOCK].offset,
        "config": {
            "accounts": {a.appid: _settings(a, ACCOUNT_FIELDS) for a in config.accounts},
            "merchants": {m.mch_id: _settings(m, MERCHANT_FIELDS) for m in config.merchants},
        },
        "records": [dataclasses.asdict(r) for r in records],
    }


def _settings(item: Any, allowed: dict[str, type]) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in allowed}
    return {
        k: list(v) if isinstance(v, tuple) else (str(v) if isinstance(v, StrEnum) else v) for k, v in values.items()
    }


def import_state(app: web.Application, document: Any) -> dict[str, int]:
    """Replace the world with the document's (after checking all of it): counts of what was loaded, by kind."""
    records, offset, settings = _checked(app, document)
    reset_state(app)
    shared.replace_settings(app, settings)
    store = app[STORE]
    with store.transaction():
        for seeded in store.records():  # the configured users reset_state put back: the document's replace them
            if seeded.kind in KINDS:
                store.delete(seeded.kind, seeded.key)
        for record in records:
            store.put(record.kind, record.key, record.owner, record.data, record.expires_at)
        store.meta_set(CLOCK_OFFSET, repr(offset))
        store.announce(shared.CLOCK_CHANGED)
    app[SANDBOX_CLOCK].offset = offset
    app[PAY].book.wake()  # notifications that are due go out now
    counts: dict[str, int] = {}
    for record in records:
        counts[record.kind] = counts.get(record.kind, 0) + 1
    return counts


def _checked(app: web.Application, document: Any) -> tuple[list[Record], float, dict[str, dict[str, dict[str, Any]]]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ScenarioError(f'not a wechat-sandbox state document (no "format": "{FORMAT}")')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ScenarioError('"version" must be a whole number')
    if version > VERSION:
        raise ScenarioError(
            f"this state was exported by a newer wechat-sandbox (format version {version}); this one reads version "
            f"{VERSION} and older: upgrade wechat-sandbox to import it"
        )
    offset = document.get("clock_offset", 0.0)
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not 0 <= offset <= 10**10:
        raise ScenarioError('"clock_offset" must be a number of seconds from 0')
    raw = document.get("records", [])
    if not isinstance(raw, list):
        raise ScenarioError('"records" must be a list')
    records = [_record(n, item) for n, item in enumerate(raw)]
    return records, float(offset), _config(app, document.get("config", {}))


def _record(n: int, item: Any) -> Record:
    where = f"records[{n}]"
    if not isinstance(item, dict) or set(item) != {"kind", "key", "owner", "expires_at", "data"}:
        raise ScenarioError(f"{where}: must have exactly kind, key, owner, expires_at and data")
    kind, data = item["kind"], item["data"]
    if kind not in KINDS:
        raise ScenarioError(f"{where}: unknown kind {kind!r}; kinds: {sorted(KINDS)}")
    if not all(isinstance(item[name], str) for name in ("key", "owner")) or not isinstance(data, dict):
        raise ScenarioError(f"{where}: key and owner must be strings and data an object")
    expires = item["expires_at"]
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
        raise ScenarioError(f"{where}: expires_at must be a number or null")
    try:
        KINDS[kind](**data)
    except TypeError as exc:
        raise ScenarioError(f"{where}: not a {kind} of this version: {exc}") from None
    return Record(kind, item["key"], item["owner"], None if expires is None else float(expires), data)


def _config(app: web.Application, raw: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The document's run-time settings, for the accounts and merchants this sandbox has (others are refused)."""
    if not isinstance(raw, dict):
        raise ScenarioError('"config" must be an object')
    config = current_config(app)
    known = {"accounts": {a.appid for a in config.accounts}, "merchants": {m.mch_id for m in config.merchants}}
    allowed = {"accounts": ACCOUNT_FIELDS, "merchants": MERCHANT_FIELDS}
    settings: dict[str, dict[str, dict[str, Any]]] = {"accounts": {}, "merchants": {}}
    for group in ("accounts", "merchants"):
        entries = raw.get(group, {})
        if not isinstance(entries, dict):
            raise ScenarioError(f"config.{group} must be an object")
        for ident, fields in entries.items():
            if ident not in known[group]:
                raise ScenarioError(
                    f"config.{group}: {ident!r} is not configured in this sandbox ({sorted(known[group])}); "
                    "start it with the same config file as the one that exported"
                )
            if not isinstance(fields, dict):
                raise ScenarioError(f"config.{group}.{ident} must be an object")
            changes = field_changes(
                {**fields, "trust_loopback": fields.get("trust_loopback", True)}, allowed[group], ()
            )
            if isinstance(changes, str):
                raise ScenarioError(f"config.{group}.{ident}: {changes}")
            settings[group][ident] = changes
    return settings


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write the document so a reader never sees half of it (a temporary file renamed over the target)."""
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    fd, temp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
