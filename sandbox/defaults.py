"""Zero-config defaults: one Official Account, one merchant and a few generated users."""

from __future__ import annotations

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
    """Users with Chinese nicknames and places, the same ones for the same seed."""
    from faker import Faker  # imported here: only zero-config start-ups pay for it

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
    return generate_users((user_id,), seed)[0]
