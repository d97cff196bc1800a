"""The shop's own API v3 signing code: SHA256-RSA requests and paySign, signature checks, AEAD_AES_256_GCM."""

from __future__ import annotations

import base64
import secrets
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
"""The `Authorization` scheme of requests, and the `Wechatpay-Signature-Type` of answers and notifications."""


def load_private_key(pem: str) -> RSAPrivateKey:
    """apiclient_key.pem, the merchant's API private key."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the API private key must be an RSA key")
    return key


def load_public_key(pem: str) -> RSAPublicKey:
    """pub_key.pem, WeChat Pay's public key (`-----BEGIN PUBLIC KEY-----`)."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("WeChat Pay's public key must be an RSA key")
    return key


def certificate_key(pem: str) -> RSAPublicKey:
    """The public key of a platform certificate (wechatpay_<serial>.pem)."""
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the platform certificate must hold an RSA key")
    return key


def certificate_serial(pem: str) -> str:
    """A certificate's serial as `Wechatpay-Serial` writes it: uppercase hex."""
    serial = x509.load_pem_x509_certificate(pem.encode()).serial_number
    return serial.to_bytes((serial.bit_length() + 7) // 8 or 1, "big").hex().upper()


# -- the messages each signature covers: lines, each ending with \n --------------------------------------------


def request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    """What a request's signature covers. `url` is the path with its query (`/v3/…?mchid=…`); `body` the exact
    text sent, "" for a GET."""
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp: str, nonce: str, body: str) -> str:
    """What `Wechatpay-Signature` covers, on answers and notifications alike: the exact body received."""
    return f"{timestamp}\n{nonce}\n{body}\n"


def pay_message(appid: str, timestamp: str, nonce: str, package: str) -> str:
    """What a JSAPI paySign (signType RSA) covers: four lines, `package` is `prepay_id=…`."""
    return f"{appid}\n{timestamp}\n{nonce}\n{package}\n"


# -- SHA256withRSA ---------------------------------------------------------------------------------------------


def sign(private_key: RSAPrivateKey, message: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: requests and paySign."""
    return base64.b64encode(private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key: RSAPublicKey, message: str, signature: str) -> bool:
    """Whether `signature` (base64) is SHA256withRSA of `message` by the key's private half."""
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def authorization(
    mchid: str,
    serial_no: str,
    private_key: RSAPrivateKey,
    method: str,
    url: str,
    body: str,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    """The `Authorization` header of one request: a fresh timestamp and nonce, signed with the API private key."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(16).upper()
    signature = sign(private_key, request_message(method, url, timestamp, nonce, body))
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",timestamp="{timestamp}",'
        f'serial_no="{serial_no}",signature="{signature}"'
    )


def parse_authorization(header: str) -> dict[str, str]:
    """The `k="v"` pairs of an `Authorization` header (for the training panel)."""
    _, _, pairs = header.partition(" ")
    found: dict[str, str] = {}
    for pair in pairs.split(","):
        name, _, value = pair.partition("=")
        found[name.strip()] = value.strip().strip('"')
    return found


def pay_sign(private_key: RSAPrivateKey, appid: str, timestamp: str, nonce: str, package: str) -> str:
    """The JSAPI paySign of an API v3 order: computed anew, never an answer's own signature."""
    return sign(private_key, pay_message(appid, timestamp, nonce, package))


# -- AEAD_AES_256_GCM ------------------------------------------------------------------------------------------


def decrypt(apiv3_key: str, nonce: str, associated_data: str, ciphertext: str) -> str:
    """A notification's `resource` (or a downloaded certificate): the key's and the nonce's bytes as they are,
    the 16-byte tag at the end of the base64 ciphertext. ValueError when it does not open."""
    try:
        opened = AESGCM(apiv3_key.encode()).decrypt(
            nonce.encode(), base64.b64decode(ciphertext, validate=True), associated_data.encode()
        )
    except InvalidTag:
        raise ValueError("the resource does not decrypt with the API v3 key (tag mismatch)") from None
    return opened.decode()
