"""What the emulated WeChat knows before the first request: accounts, merchants, users."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_SINGLE_PAYMENT_LIMIT = 100_000_000
"""¥1,000,000 in fen: a sandbox default (WeChat sets each merchant's own); at most 2147483647, WeChat's Int."""


class ResponseSigning(StrEnum):
    """Which WeChat Pay key signs a merchant's v3 answers and notifications (`Wechatpay-Serial` names it)."""

    PUBLIC_KEY = "public_key"
    """The WeChat Pay public key (`PUB_KEY_ID_…`): what WeChat gives new merchants."""
    PLATFORM_CERTIFICATE = "platform_certificate"
    """The platform certificate (its serial), as downloaded from `/v3/certificates`."""


@dataclass(frozen=True)
class KeyMaterial:
    """A merchant's API v3 secrets as PEM text and ids; an empty field is generated on first use and stored.

    Fields go in pairs (a private key with its certificate or id): a config sets both or neither."""

    apiv3_key: str = ""
    """32 ASCII characters: the AES-256-GCM key of notifications and `/v3/certificates`."""
    private_key: str = ""
    """The merchant's API private key (`apiclient_key.pem`): signs the merchant's requests."""
    certificate: str = ""
    """The merchant's API certificate (`apiclient_cert.pem`): its serial is `serial_no`."""
    platform_private_key: str = ""
    """WeChat Pay's private half of the platform certificate (only the sandbox holds it)."""
    platform_certificate: str = ""
    public_key_private_key: str = ""
    """WeChat Pay's private half of the WeChat Pay public key (only the sandbox holds it)."""
    public_key_id: str = ""
    """`PUB_KEY_ID_` and 28 digits."""


class AccountKind(StrEnum):
    """Official Account (公众号), an open-platform website app (网站应用) or mobile app (移动应用: APP pay)."""

    OFFICIAL = "official"
    WEBSITE = "website"
    APP = "app"


@dataclass(frozen=True)
class Account:
    """An Official Account: one appid + secret and its domain settings."""

    appid: str
    secret: str
    name: str
    oauth_domains: tuple[str, ...] = ()
    js_domains: tuple[str, ...] = ()
    trust_loopback: bool = True
    """Every loopback origin (127.0.0.1, localhost, ::1, any port) counts as configured."""
    unionid: bool = True
    """Bound to an open-platform account, so replies carry `unionid`."""
    banned: bool = False
    kind: AccountKind = AccountKind.OFFICIAL


@dataclass(frozen=True)
class Merchant:
    """A WeChat Pay merchant (商户号) and the appids bound to it."""

    mch_id: str
    key: str
    name: str
    appids: tuple[str, ...] = ()
    pay_directories: tuple[str, ...] = ()
    notify_hosts: tuple[str, ...] = ()
    h5_domains: tuple[str, ...] = ()
    """H5 pay domains (H5支付域名): pages that may send a browser to `mweb_url`, and where `redirect_url` may lead;
    `host` or `host:port`, subdomains included."""
    native_callback_url: str = ""
    """The scan-pay callback URL (扫码支付回调URL): WeChat POSTs there when a mode 1 code is scanned."""
    trust_loopback: bool = True
    single_payment_limit: int = DEFAULT_SINGLE_PAYMENT_LIMIT
    """The most one payment may be, in fen (单笔支付限额): unifiedorder refuses a larger total_fee."""
    response_signing: ResponseSigning = ResponseSigning.PUBLIC_KEY
    v3_keys: KeyMaterial = field(default=KeyMaterial(), repr=False)
    """API v3 key material the config fixes (own key files); the rest comes from the store's keyring."""


@dataclass(frozen=True)
class User:
    """A WeChat user: the person holding the phone."""

    id: str
    nickname: str
    sex: int = 0
    province: str = ""
    city: str = ""
    country: str = ""
    balance: int = 1_000_000
    """Wallet balance in fen (default ¥10,000)."""
    pin: str = "123456"
    snapshot: bool = False
    """A 朋友圈快照页 virtual user (`is_snapshotuser: 1`)."""


@dataclass(frozen=True)
class WeChatConfig:
    """Everything configured; state that changes lives in the store."""

    accounts: tuple[Account, ...]
    users: tuple[User, ...]
    merchants: tuple[Merchant, ...] = ()
    auto_user: str | None = None
    seed: int | None = None
    allowed_hosts: tuple[str, ...] = ()
    """Host names the sandbox answers under besides IP literals, localhost and WeChat's hosts (a container name)."""
    jssdk_source: str = field(default="", repr=False)
    """The JS-SDK that res.wx.qq.com's `/open/js/jweixin-*.js` answers with: the text of the config file's
    `jssdk_file` (npm `weixin-js-sdk` or a saved `jweixin-1.6.0.js`), read once at load. Empty: the sandbox's own."""
    _by_appid: dict[str, Account] = field(init=False, repr=False, compare=False)
    _by_mch_id: dict[str, Merchant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_appid", {a.appid: a for a in self.accounts})
        object.__setattr__(self, "_by_mch_id", {m.mch_id: m for m in self.merchants})

    def merchant(self, mch_id: str) -> Merchant | None:
        return self._by_mch_id.get(mch_id)

    @property
    def by_appid(self) -> Mapping[str, Account]:
        return self._by_appid

    def account(self, appid: str) -> Account | None:
        return self._by_appid.get(appid)
