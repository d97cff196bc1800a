"""Every signature WeChat computes or checks: JS-SDK SHA1, v2 MD5/HMAC, v3 SHA256-RSA and AEAD_AES_256_GCM."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported where it is used: start-up does not pay for it
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


def jsapi_string_to_sign(jsapi_ticket: str, noncestr: str, timestamp: str | int, url: str) -> str:
    """`jsapi_ticket=…&noncestr=…&timestamp=…&url=…`: field names sorted, raw values, URL without `#`."""
    return f"jsapi_ticket={jsapi_ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url.split('#', 1)[0]}"


def jsapi_signature(jsapi_ticket: str, noncestr: str, timestamp: str | int, url: str) -> str:
    """The `signature` of `wx.config`: lowercase hex SHA1 of the string to sign."""
    return hashlib.sha1(jsapi_string_to_sign(jsapi_ticket, noncestr, timestamp, url).encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


# -- WeChat Pay API v2 (MD5 / HMAC-SHA256 over sorted k=v pairs) -------------------------------------

MD5 = "MD5"
HMAC_SHA256 = "HMAC-SHA256"
SIGN_TYPES = (MD5, HMAC_SHA256)


def v2_string_to_sign(params: Mapping[str, str], key: str) -> str:
    """Non-empty params except `sign`, sorted by name, `k=v` joined by `&`, then `&key=KEY`."""
    pairs = [f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in ("", None)]
    return "&".join([*pairs, f"key={key}"])


def v2_sign(params: Mapping[str, str], key: str, sign_type: str = MD5) -> str:
    """The `sign` of a v2 request, response or notification (uppercase hex)."""
    message = v2_string_to_sign(params, key).encode()
    if sign_type == HMAC_SHA256:
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(message).hexdigest().upper()  # noqa: S324 - WeChat's algorithm


def v2_verify(params: Mapping[str, str], key: str, sign_type: str = MD5) -> bool:
    """Exact comparison: a lowercase hex sign is refused, as verifying SDKs (WxJava) refuse it."""
    return hmac.compare_digest(params.get("sign", ""), v2_sign(params, key, sign_type))


def v2_refund_req_info(plaintext: str, api_key: str) -> str:
    """`req_info` of a v2 refund notification: base64(AES-256-ECB(PKCS7(xml))) keyed by md5(API key) hex."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = hashlib.md5(api_key.encode()).hexdigest().encode()  # noqa: S324 - WeChat's key derivation
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - WeChat's mode
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def v2_refund_req_info_decrypt(req_info: str, api_key: str) -> str:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = hashlib.md5(api_key.encode()).hexdigest().encode()  # noqa: S324 - WeChat's key derivation
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - WeChat's mode
    padded = decryptor.update(base64.b64decode(req_info)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


# -- WeChat Pay API v3 (SHA256-RSA both ways, AEAD_AES_256_GCM resources) ----------------------------

V3_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
"""The `Authorization` scheme of v3 requests and the `Wechatpay-Signature-Type` of its answers."""
AEAD_AES_256_GCM = "AEAD_AES_256_GCM"


def v3_request_message(method: str, url: str, timestamp: str, nonce: str, body: str) -> str:
    """`METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`: the URL is the path with its raw query, the body exact."""
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def v3_response_message(timestamp: str, nonce: str, body: str) -> str:
    """`TIMESTAMP\\nNONCE\\nBODY\\n`: what an answer's or a notification's `Wechatpay-Signature` covers."""
    return f"{timestamp}\n{nonce}\n{body}\n"


def v3_pay_message(appid: str, timestamp: str, nonce: str, package: str) -> str:
    """`appId\\ntimeStamp\\nnonceStr\\npackage\\n`: what a v3 JSAPI `paySign` (signType RSA) covers."""
    return f"{appid}\n{timestamp}\n{nonce}\n{package}\n"


def rsa_sign(private_key: RSAPrivateKey, message: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: every v3 signature, both ways."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key: RSAPublicKey, message: str, signature: str) -> bool:
    """Whether `signature` (base64) is SHA256withRSA of `message` by the key's private half."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def aead_encrypt(apiv3_key: str, nonce: str, associated_data: str, plaintext: str) -> str:
    """AEAD_AES_256_GCM as WeChat uses it: the API v3 key's bytes, the nonce string's bytes, tag appended, base64."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    return base64.b64encode(sealed).decode()


def aead_decrypt(apiv3_key: str, nonce: str, associated_data: str, ciphertext: str) -> str:
    """The inverse of `aead_encrypt`; raises `ValueError` when the key, nonce, data or ciphertext is wrong."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        opened = AESGCM(apiv3_key.encode()).decrypt(
            nonce.encode(), base64.b64decode(ciphertext, validate=True), associated_data.encode()
        )
    except InvalidTag:
        raise ValueError("AEAD_AES_256_GCM: the tag does not verify") from None
    return opened.decode()
