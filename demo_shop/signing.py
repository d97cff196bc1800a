"""The shop's own signing code (it never borrows the sandbox's): v2 sign, paySign, JS-SDK SHA1, req_info."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def pay_sign(params: Mapping[str, str], key: str, sign_type: str = "MD5") -> str:
    """WeChat Pay v2: non-empty params except `sign`, sorted, `k=v&…&key=KEY`, MD5 or HMAC-SHA256, uppercase."""
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    message = f"{text}&key={key}".encode()
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(message).hexdigest().upper()  # noqa: S324 - WeChat Pay's algorithm


def verify(params: Mapping[str, str], key: str) -> bool:
    """A notification's `sign`: MD5 unless it is 64 hex characters (HMAC-SHA256 orders get no sign_type)."""
    sign = params.get("sign", "")
    sign_type = params.get("sign_type") or ("HMAC-SHA256" if len(sign) == 64 else "MD5")
    return hmac.compare_digest(sign, pay_sign(params, key, sign_type))


def jsapi_signature(ticket: str, noncestr: str, timestamp: int, url: str, *, keep_fragment: bool = False) -> str:
    """Seed step 2: `wx.config`'s signature, over the page URL without its `#fragment`.

    `keep_fragment` is only for the /broken "hash" page, which repeats the mistake on purpose."""
    signed = url if keep_fragment else url.split("#", 1)[0]
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={signed}"
    return hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324 - the JS-SDK's algorithm


def decrypt_req_info(req_info: str, key: str) -> str:
    """A refund notification's `req_info`: AES-256-ECB under the lowercase hex md5 of the API key."""
    secret = hashlib.md5(key.encode()).hexdigest().encode()  # noqa: S324 - WeChat Pay's key derivation
    decryptor = Cipher(algorithms.AES(secret), modes.ECB()).decryptor()  # noqa: S305 - WeChat Pay's mode
    padded = decryptor.update(base64.b64decode(req_info)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()
