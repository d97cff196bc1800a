"""API v3 key material per merchant: generated once with `cryptography`, kept in the store, loaded once."""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from mock_wechat.clock import Clock
from mock_wechat.config import KeyMaterial, Merchant, ResponseSigning, WeChatConfig
from mock_wechat.signing import rsa_sign
from mock_wechat.store import Store, Table

if TYPE_CHECKING:  # cryptography is imported where it is used: start-up does not pay for it
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

KIND = "v3_keys"
RSA_BITS = 2048
VALID_YEARS = 5
APIV3_KEY_LENGTH = 32
PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"
PAIRS = (
    ("private_key", "certificate"),
    ("platform_private_key", "platform_certificate"),
    ("public_key_private_key", "public_key_id"),
)
"""The fields that are made, configured and stored together: a private key with its certificate or id."""


# -- generation (CPU only: ~30-100 ms a key pair, so never at import, per request or per test app) ----------


def new_apiv3_key() -> str:
    """32 ASCII letters and digits: AES-256-GCM uses the string's bytes as they are."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(APIV3_KEY_LENGTH))


def new_serial() -> int:
    """20 random bytes, the first one 0x10-0x7F: 40 hex digits with no leading zero, under X.509's 160 bits."""
    raw = bytearray(secrets.token_bytes(20))
    raw[0] = 0x10 + raw[0] % 0x70
    return int.from_bytes(raw, "big")


def serial_hex(serial: int) -> str:
    """`Wechatpay-Serial` / `serial_no`: the uppercase hex of the serial's bytes (wechatpay-go's `%X`)."""
    return serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big").hex().upper()


def new_public_key_id(mch_id: str) -> str:
    """`PUB_KEY_ID_` and 28 digits; like WeChat's, they carry a 10-digit mch_id after `01`."""
    middle = mch_id if len(mch_id) == 10 and mch_id.isascii() and mch_id.isdigit() else _digits(10)
    return f"{PUBLIC_KEY_ID_PREFIX}01{middle}{_digits(16)}"


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _new_private_key() -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _private_pem(key: RSAPrivateKey) -> str:
    """PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as `apiclient_key.pem` is."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode("ascii")


def _public_pem(key: RSAPublicKey) -> str:
    """SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), as `pub_key.pem` is."""
    from cryptography.hazmat.primitives import serialization

    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def _years_later(start: datetime, years: int) -> datetime:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def _certificate(key: RSAPrivateKey, subject: list[tuple[str, str]], now: float) -> str:
    """A self-signed certificate of `key` valid from `now` (whole seconds) for VALID_YEARS years, PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    oids = {"C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "L": NameOID.LOCALITY_NAME}
    oids |= {"O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME}
    name = x509.Name([x509.NameAttribute(oids[k], v) for k, v in subject])
    start = datetime.fromtimestamp(int(now), UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(start)
        .not_valid_after(_years_later(start, VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def merchant_subject(mch_id: str) -> list[tuple[str, str]]:
    """A merchant API certificate's subject: CN is the mch_id, as in `apiclient_cert.pem`."""
    return [("C", "CN"), ("L", "ShenZhen"), ("O", "微信商户系统"), ("OU", "财付通商户系统"), ("CN", mch_id)]


PLATFORM_SUBJECT = [
    ("C", "CN"),
    ("ST", "Guangdong"),
    ("L", "Shenzhen"),
    ("O", "Tenpay.com"),
    ("OU", "Tenpay.com CA Center"),
    ("CN", "Tenpay.com sign"),
]


def generate_missing(have: KeyMaterial, mch_id: str, now: float) -> KeyMaterial:
    """Only what `have` lacks, freshly made: the API v3 key and whole pairs (a key with its certificate or id)."""
    made: dict[str, str] = {}
    if not have.apiv3_key:
        made["apiv3_key"] = new_apiv3_key()
    if not (have.private_key and have.certificate):
        key = _new_private_key()
        made["private_key"] = _private_pem(key)
        made["certificate"] = _certificate(key, merchant_subject(mch_id), now)
    if not (have.platform_private_key and have.platform_certificate):
        key = _new_private_key()
        made["platform_private_key"] = _private_pem(key)
        made["platform_certificate"] = _certificate(key, PLATFORM_SUBJECT, now)
    if not (have.public_key_private_key and have.public_key_id):
        made["public_key_private_key"] = _private_pem(_new_private_key())
        made["public_key_id"] = new_public_key_id(mch_id)
    return KeyMaterial(**made)


def generate(mch_id: str, now: float) -> KeyMaterial:
    """A complete set for one merchant: the API v3 key and three RSA-2048 key pairs."""
    return generate_missing(KeyMaterial(), mch_id, now)


def overlay(first: KeyMaterial, then: KeyMaterial) -> KeyMaterial:
    """Each pair from `first` when it has it, else from `then` (pairs never mix halves of two sets)."""
    chosen = {"apiv3_key": first.apiv3_key or then.apiv3_key}
    for pair in PAIRS:
        source = first if all(getattr(first, name) for name in pair) else then
        chosen |= {name: getattr(source, name) for name in pair}
    return KeyMaterial(**chosen)


def complete(material: KeyMaterial) -> bool:
    return all(getattr(material, f.name) for f in fields(KeyMaterial))


# -- checks of key material a user brings (config files): problems as data ------------------------------------


def private_key_problem(pem: str) -> str | None:
    """What keeps `pem` from being an unencrypted PEM RSA private key, or None."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    try:
        key = serialization.load_pem_private_key(pem.encode(), None)
    except TypeError:
        return "an encrypted private key; give it without a password"
    except ValueError:
        return "not a valid PEM private key"
    if not isinstance(key, RSAPrivateKey):
        return "not an RSA key (API v3 signs with SHA256-RSA)"
    return None


def certificate_problem(pem: str) -> str | None:
    """What keeps `pem` from being a PEM X.509 certificate with an RSA key, or None."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    try:
        cert = _load_certificate(pem)
    except ValueError:
        return "not a valid PEM X.509 certificate"
    if not isinstance(cert.public_key(), RSAPublicKey):
        return "not an RSA certificate (API v3 signs with SHA256-RSA)"
    return None


def pair_problem(private_pem: str, certificate_pem: str) -> str | None:
    """Whether the private key is the certificate's (checked once, when the config is loaded)."""
    problem = private_key_problem(private_pem) or certificate_problem(certificate_pem)
    if problem is not None:
        return problem
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    key = _load_private(private_pem).public_key()
    cert_key = _load_certificate(certificate_pem).public_key()
    if not isinstance(cert_key, RSAPublicKey) or key.public_numbers() != cert_key.public_numbers():
        return "the private key does not match the certificate (their public keys differ)"
    return None


def _load_private(pem: str) -> RSAPrivateKey:
    """The key of `pem`, already checked (made here, or by `private_key_problem`): RSA's own check costs ~30 ms."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    key = serialization.load_pem_private_key(pem.encode(), None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("not an RSA key (API v3 signs with SHA256-RSA)")
    return key


def _load_certificate(pem: str) -> x509.Certificate:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.encode())


# -- the loaded view ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseSigner:
    """The key that signs a merchant's v3 answers and notifications, and the `Wechatpay-Serial` naming it."""

    serial: str
    key: RSAPrivateKey = field(repr=False)

    def sign(self, message: str) -> str:
        """`Wechatpay-Signature` of `signing.v3_response_message(...)`."""
        return rsa_sign(self.key, message)


@dataclass(frozen=True)
class MerchantKeys:
    """One merchant's complete API v3 material: text as the control API lists it; key objects loaded once."""

    mch_id: str
    apiv3_key: str = field(repr=False)
    serial_no: str
    """The merchant API certificate's serial: what the merchant's `Authorization` carries."""
    private_key: str = field(repr=False)
    certificate: str = field(repr=False)
    platform_serial_no: str
    platform_certificate: str = field(repr=False)
    public_key_id: str
    public_key: str = field(repr=False)
    platform_private_key: str = field(repr=False)
    public_key_private_key: str = field(repr=False)

    @classmethod
    def load(cls, mch_id: str, material: KeyMaterial) -> MerchantKeys:
        """From complete material (keys already checked: generated here, or checked when the config loaded)."""
        if not complete(material):
            raise ValueError(f"incomplete API v3 key material for {mch_id}")
        return cls(
            mch_id=mch_id,
            apiv3_key=material.apiv3_key,
            serial_no=serial_hex(_load_certificate(material.certificate).serial_number),
            private_key=material.private_key,
            certificate=material.certificate,
            platform_serial_no=serial_hex(_load_certificate(material.platform_certificate).serial_number),
            platform_certificate=material.platform_certificate,
            public_key_id=material.public_key_id,
            public_key=_public_pem(_load_private(material.public_key_private_key).public_key()),
            platform_private_key=material.platform_private_key,
            public_key_private_key=material.public_key_private_key,
        )

    @cached_property
    def merchant_public_key(self) -> RSAPublicKey:
        """Verifies the merchant's requests (`Authorization: WECHATPAY2-SHA256-RSA2048 …`)."""
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

        key = _load_certificate(self.certificate).public_key()
        if not isinstance(key, RSAPublicKey):  # checked when the material was made or configured
            raise ValueError(f"{self.mch_id}: the merchant certificate has no RSA key")
        return key

    @cached_property
    def merchant_private_key(self) -> RSAPrivateKey:
        """The merchant's own key: WeChat never holds it; tests and examples sign requests with it."""
        return _load_private(self.private_key)

    @cached_property
    def platform_key(self) -> RSAPrivateKey:
        return _load_private(self.platform_private_key)

    @cached_property
    def public_key_key(self) -> RSAPrivateKey:
        """The private half of the WeChat Pay public key."""
        return _load_private(self.public_key_private_key)

    @cached_property
    def platform_cert(self) -> x509.Certificate:
        return _load_certificate(self.platform_certificate)

    @property
    def platform_validity(self) -> tuple[float, float]:
        """The platform certificate's `effective_time` and `expire_time`, epoch seconds."""
        cert = self.platform_cert
        return cert.not_valid_before_utc.timestamp(), cert.not_valid_after_utc.timestamp()

    def signer(self, mode: ResponseSigning) -> ResponseSigner:
        """The WeChat Pay public key (`PUB_KEY_ID_…`) or the platform certificate (its serial)."""
        if mode is ResponseSigning.PLATFORM_CERTIFICATE:
            return ResponseSigner(self.platform_serial_no, self.platform_key)
        return ResponseSigner(self.public_key_id, self.public_key_key)


# -- the keyring: one per app, over the store ------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKeys(KeyMaterial):
    """What the store keeps for a merchant: the generated material (configured parts are never copied in)."""

    mch_id: str = ""

    def material(self) -> KeyMaterial:
        return KeyMaterial(**_as_dict(self))


class MerchantKeyring:
    """Each merchant's API v3 keys: configured pairs win; the rest is generated on first use and stored.

    The store is the truth, so a restart (SQLite) or another replica (a shared store) signs with the same keys;
    generation happens outside the write transaction and the first set written wins. Reset keeps the keys
    (`saved()` / `restore()`): regenerating them would invalidate every key file a developer downloaded."""

    def __init__(self, store: Store, clock: Clock, config: Callable[[], WeChatConfig]) -> None:
        self._store = store
        self._table = Table(store, StoredKeys, KIND)
        self._clock = clock
        self._config = config
        self._loaded: dict[str, tuple[KeyMaterial, MerchantKeys]] = {}

    def merchant(self, mch_id: str) -> Merchant:
        merchant = self._config().merchant(mch_id)
        if merchant is None:
            raise KeyError(f"no merchant {mch_id!r}")
        return merchant

    def keys(self, mch_id: str) -> MerchantKeys:
        """The merchant's keys (KeyError for an unknown mch_id); the first call may generate (~0.1-0.3 s)."""
        merchant = self.merchant(mch_id)
        cached = self._loaded.get(mch_id)
        if cached is not None and cached[0] == merchant.v3_keys:
            return cached[1]
        material = overlay(merchant.v3_keys, self._stored(mch_id))
        if not complete(material):
            made = generate_missing(material, mch_id, self._valid_from())
            material = overlay(merchant.v3_keys, self._save(mch_id, made))
        keys = MerchantKeys.load(mch_id, material)
        self._loaded[mch_id] = (merchant.v3_keys, keys)
        return keys

    def _valid_from(self) -> float:
        """Certificates start at the earlier of the sandbox's time and the machine's: clients check them against
        the machine's clock (wechatpayv3 drops a certificate not yet valid), the sandbox against its own."""
        return min(self._clock.now(), self._clock.wall())

    def response_signer(self, mch_id: str) -> ResponseSigner:
        """What signs this merchant's answers now: its `response_signing` setting picks the key."""
        return self.keys(mch_id).signer(self.merchant(mch_id).response_signing)

    def certificates(self) -> dict[str, str]:
        """mch_id → the merchant API certificate (PEM) of every merchant that has one yet; nothing is generated."""
        found = {}
        for merchant in self._config().merchants:
            cached = self._loaded.get(merchant.mch_id)
            if cached is not None and cached[0] == merchant.v3_keys:
                found[merchant.mch_id] = cached[1].certificate
                continue
            material = overlay(merchant.v3_keys, self._stored(merchant.mch_id))
            if material.certificate:
                found[merchant.mch_id] = material.certificate
        return found

    async def warm(self) -> None:
        """Generate what any merchant lacks in a worker thread (cryptography releases the GIL), then store it."""
        for merchant in self._config().merchants:
            material = overlay(merchant.v3_keys, self._stored(merchant.mch_id))
            if not complete(material):
                made = await asyncio.to_thread(generate_missing, material, merchant.mch_id, self._valid_from())
                self._save(merchant.mch_id, made)

    def saved(self) -> list[StoredKeys]:
        """Everything generated so far (for reset to put back)."""
        return self._table.query()

    def restore(self, saved: list[StoredKeys]) -> None:
        for record in saved:
            self._table.put(record.mch_id, record.mch_id, record)

    def _stored(self, mch_id: str) -> KeyMaterial:
        record = self._table.get(mch_id)
        return KeyMaterial() if record is None else record.material()

    def _save(self, mch_id: str, made: KeyMaterial) -> KeyMaterial:
        """Add `made` to what is stored, keeping what another writer stored meanwhile; the stored result."""
        with self._store.transaction():
            merged = overlay(self._stored(mch_id), made)
            self._table.put(mch_id, mch_id, StoredKeys(**_as_dict(merged), mch_id=mch_id))
        return merged


def _as_dict(material: KeyMaterial) -> dict[str, str]:
    return {f.name: getattr(material, f.name) for f in fields(KeyMaterial)}
