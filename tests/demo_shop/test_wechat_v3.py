"""The shop's check of what WeChat Pay signs: answers and notifications verified by Wechatpay-Serial, then opened.

WeChat Pay's side is written here with `cryptography` directly, not with the shop's code or the sandbox's."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from demo_shop.settings import PayV3Keys
from demo_shop.wechat_v3 import NotificationReader, Refused

WECHATPAY_KEY = serialization.load_pem_private_key(
    (Path(__file__).parent.parent / "vectors" / "wechatpy_apiclient_key.pem").read_bytes(), password=None
)
assert isinstance(WECHATPAY_KEY, RSAPrivateKey)
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092024081200000000"
APIV3_KEY = "0123456789abcdef0123456789abcdef"
PLATFORM_SERIAL = 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1


@pytest.fixture(scope="module")
def platform_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def reader(platform_key: RSAPrivateKey) -> NotificationReader:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com sign")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(platform_key.public_key())
        .serial_number(PLATFORM_SERIAL).not_valid_before(now).not_valid_after(now + timedelta(days=365))
        .sign(platform_key, hashes.SHA256())
    )  # fmt: skip
    public = WECHATPAY_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return NotificationReader(
        PayV3Keys(
            apiv3_key=APIV3_KEY,
            serial_no="ABC",
            private_key="",  # the merchant's own key: not needed to read notifications
            public_key_id=PUBLIC_KEY_ID,
            public_key=public.decode(),
            platform_certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        )
    )


RESOURCE = {"mchid": "1900000109", "out_trade_no": "T1", "trade_state": "SUCCESS", "amount": {"total": 1280}}


def envelope(resource: dict[str, Any] = RESOURCE, key: str = APIV3_KEY) -> str:
    sealed = AESGCM(key.encode()).encrypt(b"fdasflkja484", json.dumps(resource).encode(), b"transaction")
    return json.dumps(
        {
            "id": "EV-1",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(sealed).decode(),
                "associated_data": "transaction",
                "nonce": "fdasflkja484",
            },
        }
    )


def signed(
    body: str, *, key: RSAPrivateKey = WECHATPAY_KEY, serial: str = PUBLIC_KEY_ID, at: float | None = None
) -> dict[str, str]:
    timestamp, nonce = str(int(time.time() if at is None else at)), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    message = f"{timestamp}\n{nonce}\n{body}\n".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return {
        "Wechatpay-Serial": serial,
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
    }


def test_a_notification_signed_with_the_wechat_pay_public_key_opens_to_its_resource(reader: NotificationReader) -> None:
    body = envelope()
    note = reader.open(signed(body), body)
    assert (note.id, note.event_type, note.resource) == ("EV-1", "TRANSACTION.SUCCESS", RESOURCE)
    assert note.verified_with == f"WeChat Pay's public key {PUBLIC_KEY_ID}"


def test_a_notification_signed_with_the_platform_certificate_is_verified_with_it(
    reader: NotificationReader, platform_key: RSAPrivateKey
) -> None:
    body = envelope()
    note = reader.open(signed(body, key=platform_key, serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"), body)
    assert note.verified_with == "platform certificate 5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


def test_a_signature_by_another_key_is_refused_401(reader: NotificationReader, platform_key: RSAPrivateKey) -> None:
    body = envelope()
    with pytest.raises(Refused, match="does not verify with WeChat Pay's public key") as refused:
        reader.open(signed(body, key=platform_key), body)
    assert refused.value.status == 401


def test_a_body_changed_after_signing_is_refused(reader: NotificationReader) -> None:
    headers = signed(envelope())
    forged = envelope({**RESOURCE, "amount": {"total": 1}})
    with pytest.raises(Refused, match="does not verify"):
        reader.open(headers, forged)


def test_an_unknown_wechatpay_serial_is_refused(reader: NotificationReader) -> None:
    body = envelope()
    with pytest.raises(Refused, match="Wechatpay-Serial PUB_KEY_ID_0000 names none"):
        reader.open(signed(body, serial="PUB_KEY_ID_0000"), body)


def test_a_signature_older_than_five_minutes_is_refused(reader: NotificationReader) -> None:
    body = envelope()
    with pytest.raises(Refused, match="replay"):
        reader.open(signed(body, at=time.time() - 301), body)


def test_a_notification_without_the_signature_headers_is_refused(reader: NotificationReader) -> None:
    with pytest.raises(Refused, match="missing"):
        reader.open({}, envelope())


def test_a_resource_sealed_with_another_key_is_refused_400(reader: NotificationReader) -> None:
    body = envelope(key="another32characterapiv3keyxxxxxx")
    with pytest.raises(Refused, match="does not decrypt") as refused:
        reader.open(signed(body), body)
    assert refused.value.status == 400
