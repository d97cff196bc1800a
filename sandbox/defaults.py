"""Zero-config defaults: one Official Account, one merchant and a few generated users."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
from pathlib import Path

from mock_wechat.config import Account, Merchant, User

DEFAULT_APPID = "wx5a4db0c0ffee0001"
DEFAULT_SECRET = "5ec0f1a2b3c4d5e6f708192a3b4c5d6e"
DEFAULT_MCH_ID = "1900000109"
DEFAULT_MCH_KEY = "sandboxkeysandboxkeysandboxkey01"
DEFAULT_USER_IDS = ("alice", "bob", "carol")
DEFAULT_SEED = 0


def default_account() -> Account:
    return Account(
        appid=DEFAULT_APPID,
        secret=DEFAULT_SECRET,
        name="沙箱小店 Sandbox Shop",
        oauth_domains=("127.0.0.1", "localhost"),
        js_domains=("127.0.0.1", "localhost"),
    )


def default_merchant() -> Merchant:
    return Merchant(
        mch_id=DEFAULT_MCH_ID,
        key=DEFAULT_MCH_KEY,
        name="沙箱小店 Sandbox Shop",
        appids=(DEFAULT_APPID,),
        pay_directories=("http://127.0.0.1/", "http://localhost/"),
    )


def generate_users(ids: tuple[str, ...], seed: int) -> tuple[User, ...]:
    """Users with Chinese nicknames and places, the same ones for the same seed. What Faker made is kept in the
    user's cache directory, keyed by the seed, the ids and the installed Faker: importing and starting Faker is
    ~90 ms, a third of a zero-config start-up."""
    path = _cache_path(ids, seed)
    if path is not None:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            kept = json.loads(path.read_text(encoding="utf-8"))
            return tuple(User(id=i, country="中国", **{f: kept[i][f] for f in _MADE}) for i in ids)
    users = _faker_users(ids, seed)
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            made = {u.id: {f: getattr(u, f) for f in _MADE} for u in users}
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(made, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, path)
    return users


_MADE = ("nickname", "sex", "province", "city")
"""What Faker makes of a user (and the cache keeps)."""


def _cache_path(ids: tuple[str, ...], seed: int) -> Path | None:
    """The cache file for these users, or None when Faker is not installed."""
    from sandbox.tls import cache_dir

    spec = importlib.util.find_spec("faker")
    if spec is None or spec.origin is None:
        return None
    try:
        installed = os.stat(spec.origin)
    except OSError:
        return None
    key = json.dumps([spec.origin, installed.st_mtime_ns, installed.st_size, seed, list(ids)])
    return cache_dir() / "users" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def _faker_users(ids: tuple[str, ...], seed: int) -> tuple[User, ...]:
    from faker import Faker  # imported here: only zero-config start-ups with nothing cached pay for it

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    users = []
    for user_id in ids:
        users.append(
            User(
                id=user_id,
                nickname=fake.name(),
                sex=fake.random_element((1, 2)),
                province=fake.province(),
                city=fake.city_name(),
                country="中国",
            )
        )
    return tuple(users)


def generated_user(user_id: str, seed: int) -> User:
    """One more user for `POST /_sandbox/api/users` when the caller gives no profile."""
    return _faker_users((user_id,), seed)[0]
