"""Load the sandbox config: defaults, overridden by a TOML file and the command line."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from mock_wechat.config import Account, AccountKind, Merchant, User, WeChatConfig
from sandbox import defaults


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why."""


def _table(raw: dict[str, Any], cls: type[Any], where: str, required: tuple[str, ...]) -> dict[str, Any]:
    names = {f.name for f in fields(cls) if not f.name.startswith("_")}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(names)}")
    missing = [k for k in required if not raw.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {missing}")
    out = dict(raw)
    for key, value in raw.items():
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.{key}: must be a list of strings")
            out[key] = tuple(value)
    return out


def _account(raw: dict[str, Any], where: str) -> Account:
    data = _table(raw, Account, where, ("appid", "secret"))
    data.setdefault("name", data["appid"])
    # Once a file sets domains explicitly, WeChat's real rules apply unless it says otherwise.
    data.setdefault("trust_loopback", "oauth_domains" not in raw and "js_domains" not in raw)
    if "kind" in data:
        try:
            data["kind"] = AccountKind(data["kind"])
        except ValueError:
            raise ConfigError(f"{where}.kind: must be 'official' or 'website'") from None
    try:
        return Account(**data)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _merchant(raw: dict[str, Any], where: str) -> Merchant:
    data = _table(raw, Merchant, where, ("mch_id", "key"))
    data.setdefault("name", data["mch_id"])
    data.setdefault("trust_loopback", "pay_directories" not in raw and "notify_hosts" not in raw)
    return Merchant(**data)


def _user(raw: dict[str, Any], where: str) -> User:
    data = _table(raw, User, where, ("id",))
    data.setdefault("nickname", data["id"])
    if "pin" in data and not (isinstance(data["pin"], str) and len(data["pin"]) == 6 and data["pin"].isdigit()):
        raise ConfigError(f"{where}.pin: must be a string of 6 digits")
    return User(**data)


def load(path: Path | None, *, seed: int | None = None, auto_user: str | None = None) -> WeChatConfig:
    """The config to run: defaults, then `path` (TOML), then the command-line options."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    section = raw.get("sandbox", {})
    seed = seed if seed is not None else section.get("seed")
    auto_user = auto_user or section.get("auto_user")
    accounts = tuple(_account(a, f"accounts[{i}]") for i, a in enumerate(raw.get("accounts", []))) or (
        defaults.default_account(),
    )
    merchants = tuple(_merchant(m, f"merchants[{i}]") for i, m in enumerate(raw.get("merchants", []))) or (
        defaults.default_merchant(),
    )
    users = tuple(_user(u, f"users[{i}]") for i, u in enumerate(raw.get("users", []))) or defaults.generate_users(
        defaults.DEFAULT_USER_IDS, defaults.DEFAULT_SEED if seed is None else seed
    )
    for kind, items in (("appid", [a.appid for a in accounts]), ("user id", [u.id for u in users])):
        dupes = sorted({x for x in items if items.count(x) > 1})
        if dupes:
            raise ConfigError(f"duplicate {kind}: {dupes}")
    if auto_user and auto_user not in {u.id for u in users}:
        raise ConfigError(f"auto_user {auto_user!r} is not a configured user: {[u.id for u in users]}")
    return WeChatConfig(accounts=accounts, users=users, merchants=merchants, auto_user=auto_user, seed=seed)
