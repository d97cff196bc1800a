"""Every signature WeChat computes or checks (JS-SDK SHA1 now; pay signatures with the pay surfaces)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


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
