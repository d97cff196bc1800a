"""Load the sandbox config: defaults, overridden by a TOML file and the command line."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from mock_wechat.config import Account, AccountKind, KeyMaterial, Merchant, ResponseSigning, User, WeChatConfig
from mock_wechat.domains import callback_url_problem
from mock_wechat.pay import v3_keys
from mock_wechat.pay.orders import MAX_FEN
from sandbox import defaults, storage


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why."""


TOP_LEVEL = ("sandbox", "accounts", "merchants", "users")
SANDBOX_KEYS = ("seed", "auto_user", "allowed_hosts", "jssdk_file", "store")
NOT_IN_FILES = ("v3_keys",)
"""Dataclass fields a config file does not name directly (their own keys below fill them)."""
KEY_FILES = {
    "private_key_file": "private_key",
    "certificate_file": "certificate",
    "platform_private_key_file": "platform_private_key",
    "platform_certificate_file": "platform_certificate",
    "public_key_private_key_file": "public_key_private_key",
}
"""A merchant's own API v3 key files (PEM; relative to the config file) and the material each one fills."""
KEY_TEXT = ("apiv3_key", "public_key_id")


def _check_type(value: Any, hint: Any, where: str) -> None:
    """A value of the config file against its dataclass field: str, int, bool or a list of strings."""
    if hint is bool:
        ok, wanted = isinstance(value, bool), "true or false"
    elif hint is int:
        ok, wanted = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(hint, type) and issubclass(hint, str):
        ok, wanted = isinstance(value, str), "a string"
    else:  # tuple[str, ...]
        ok, wanted = isinstance(value, list) and all(isinstance(v, str) for v in value), "a list of strings"
    if not ok:
        raise ConfigError(f"{where}: must be {wanted}, got {value!r}")


def _table(
    raw: dict[str, Any], cls: type[Any], where: str, required: tuple[str, ...], extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The dataclass fields of a `[[table]]`, checked; `extra` keys are allowed too, and left to the caller."""
    names = {f.name for f in fields(cls) if not f.name.startswith("_") and f.name not in NOT_IN_FILES}
    unknown = sorted(set(raw) - names - set(extra))
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(names | set(extra))}")
    missing = [k for k in required if not raw.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {missing}")
    hints = get_type_hints(cls)
    out = {k: v for k, v in raw.items() if k not in extra}
    for key, value in out.items():
        _check_type(value, hints[key], f"{where}.{key}")
        if isinstance(value, list):
            out[key] = tuple(value)
    return out


def _tables(raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """`[[name]]`: an array of tables (absent means none)."""
    items = raw.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{name}: must be an array of tables ([[{name}]])")
    return items


def _sandbox_section(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise ConfigError(f"unknown top-level keys {unknown}; allowed: {list(TOP_LEVEL)}")
    section = raw.get("sandbox", {})
    if not isinstance(section, dict):
        raise ConfigError("sandbox: must be a table ([sandbox])")
    unknown = sorted(set(section) - set(SANDBOX_KEYS))
    if unknown:
        raise ConfigError(f"sandbox: unknown keys {unknown}; allowed: {list(SANDBOX_KEYS)}")
    if "seed" in section:
        _check_type(section["seed"], int, "sandbox.seed")
    if "auto_user" in section:
        _check_type(section["auto_user"], str, "sandbox.auto_user")
    if "allowed_hosts" in section:
        _check_type(section["allowed_hosts"], tuple[str, ...], "sandbox.allowed_hosts")
    if "jssdk_file" in section:
        _check_type(section["jssdk_file"], str, "sandbox.jssdk_file")
    if "store" in section:
        problem = storage.url_problem(section["store"])
        if problem is not None:
            raise ConfigError(f"sandbox.store: {problem}")
    return section


def _account(raw: dict[str, Any], where: str) -> Account:
    data = _table(raw, Account, where, ("appid", "secret"))
    data.setdefault("name", data["appid"])
    # Once a file sets domains explicitly, WeChat's real rules apply unless it says otherwise.
    data.setdefault("trust_loopback", "oauth_domains" not in raw and "js_domains" not in raw)
    if "kind" in data:
        try:
            data["kind"] = AccountKind(data["kind"])
        except ValueError:
            raise ConfigError(f"{where}.kind: must be 'official', 'website' or 'app'") from None
    try:
        return Account(**data)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _merchant(raw: dict[str, Any], where: str, base: Path) -> Merchant:
    data = _table(raw, Merchant, where, ("mch_id", "key"), extra=(*KEY_FILES, *KEY_TEXT))
    data.setdefault("name", data["mch_id"])
    data.setdefault("trust_loopback", not {"pay_directories", "notify_hosts", "h5_domains"} & set(raw))
    problem = callback_url_problem(data["native_callback_url"]) if data.get("native_callback_url") else None
    if problem is not None:
        raise ConfigError(f"{where}.native_callback_url: {problem}")
    limit = data.get("single_payment_limit", 1)
    if not 1 <= limit <= MAX_FEN:
        raise ConfigError(f"{where}.single_payment_limit: must be 1 to {MAX_FEN} fen (WeChat's Int), got {limit}")
    if "response_signing" in data:
        try:
            data["response_signing"] = ResponseSigning(data["response_signing"])
        except ValueError:
            raise ConfigError(f"{where}.response_signing: must be 'public_key' or 'platform_certificate'") from None
    data["v3_keys"] = _key_material({k: raw[k] for k in (*KEY_FILES, *KEY_TEXT) if k in raw}, where, base)
    return Merchant(**data)


def _key_material(own: dict[str, Any], where: str, base: Path) -> KeyMaterial:
    """The merchant's own API v3 key material: files read (relative to the config file) and checked in pairs."""
    for name, value in own.items():
        _check_type(value, str, f"{where}.{name}")
    apiv3_key = own.get("apiv3_key", "")
    if "apiv3_key" in own and not (len(apiv3_key) == v3_keys.APIV3_KEY_LENGTH and apiv3_key.isascii()):
        raise ConfigError(f"{where}.apiv3_key: must be 32 ASCII characters (AES-256-GCM uses its bytes)")
    key_id = own.get("public_key_id", "")
    if "public_key_id" in own and not _is_public_key_id(key_id):
        raise ConfigError(f"{where}.public_key_id: must be PUB_KEY_ID_ and letters or digits, got {key_id!r}")
    text = {field: _read_pem(base, own[name], f"{where}.{name}") for name, field in KEY_FILES.items() if name in own}
    files = {field: name for name, field in KEY_FILES.items()}
    for private, public in v3_keys.PAIRS:
        given = [n for n in (private, public) if n in text or (n == "public_key_id" and key_id)]
        named = [files.get(n, n) for n in (private, public)]
        if len(given) == 1:
            raise ConfigError(f"{where}: {named[0]} and {named[1]} go together (give both or neither)")
        if not given:
            continue
        if public == "public_key_id":
            problem = v3_keys.private_key_problem(text[private])
        else:
            problem = v3_keys.pair_problem(text[private], text[public])
        if problem is not None:
            raise ConfigError(f"{where}: {named[0]} {own[named[0]]!r} / {named[1]} {own[named[1]]!r}: {problem}")
    return KeyMaterial(apiv3_key=apiv3_key, public_key_id=key_id, **text)


def _is_public_key_id(value: str) -> bool:
    rest = value.removeprefix(v3_keys.PUBLIC_KEY_ID_PREFIX)
    return rest != value and 0 < len(rest) <= 64 and rest.isascii() and rest.isalnum()


def _read_pem(base: Path, name: str, where: str) -> str:
    path = base / Path(name).expanduser()
    try:
        return path.read_text(encoding="ascii")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {path} is not a PEM file (PEM is ASCII text)") from None


def _read_jssdk(base: Path, name: str) -> str:
    """`[sandbox] jssdk_file`: the JS-SDK to serve at res.wx.qq.com's paths, read once (relative to the config)."""
    where = "sandbox.jssdk_file"
    path = base / Path(name).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {path} is not UTF-8 text (the JS-SDK is a JavaScript file)") from None
    if not text.strip():
        raise ConfigError(f"{where}: {path} is empty")
    return text


def _user(raw: dict[str, Any], where: str) -> User:
    data = _table(raw, User, where, ("id",))
    data.setdefault("nickname", data["id"])
    if "pin" in data and not (isinstance(data["pin"], str) and len(data["pin"]) == 6 and data["pin"].isdigit()):
        raise ConfigError(f"{where}.pin: must be a string of 6 digits")
    return User(**data)


def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (TOML files are UTF-8): {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def store_url(path: Path | None) -> str | None:
    """`[sandbox] store`: the PostgreSQL database the file names (None when it names none)."""
    found = _sandbox_section(_read(path)).get("store")
    return None if found is None else str(found)


def load(path: Path | None, *, seed: int | None = None, auto_user: str | None = None) -> WeChatConfig:
    """The config to run: defaults, then `path` (TOML), then the command-line options."""
    raw = _read(path)
    base = Path.cwd() if path is None else path.parent
    section = _sandbox_section(raw)
    seed = seed if seed is not None else section.get("seed")
    auto_user = auto_user or section.get("auto_user")
    accounts = tuple(_account(a, f"accounts[{i}]") for i, a in enumerate(_tables(raw, "accounts"))) or (
        defaults.default_account(),
    )
    merchants = tuple(_merchant(m, f"merchants[{i}]", base) for i, m in enumerate(_tables(raw, "merchants"))) or (
        defaults.default_merchant(),
    )
    users = tuple(_user(u, f"users[{i}]") for i, u in enumerate(_tables(raw, "users"))) or defaults.generate_users(
        defaults.DEFAULT_USER_IDS, defaults.DEFAULT_SEED if seed is None else seed
    )
    for kind, items in (("appid", [a.appid for a in accounts]), ("user id", [u.id for u in users])):
        dupes = sorted({x for x in items if items.count(x) > 1})
        if dupes:
            raise ConfigError(f"duplicate {kind}: {dupes}")
    if auto_user and auto_user not in {u.id for u in users}:
        raise ConfigError(f"auto_user {auto_user!r} is not a configured user: {[u.id for u in users]}")
    return WeChatConfig(
        accounts=accounts,
        users=users,
        merchants=merchants,
        auto_user=auto_user,
        seed=seed,
        allowed_hosts=tuple(section.get("allowed_hosts", ())),
        jssdk_source=_read_jssdk(base, section["jssdk_file"]) if "jssdk_file" in section else "",
    )
