"""The shop's own API v3 signing code against PROTOCOL.md's known-answer vectors (V5, §6.3, V6 and the 32-byte one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_shop import signing_v3

V5_KEY = (Path(__file__).parent.parent / "vectors" / "wechatpy_apiclient_key.pem").read_text()
V5_TIMESTAMP, V5_NONCE = "1651854037", "1E3A8D73B5A4AEE787C0F68B5DAB8520"
V5_SIGNATURE = (
    "c4VewIfiOrSXkYtGqoZFzzjOr3LMhFFJRD5l18glbIUyXEF1wcG1euB4w5QdBlhgytM+28W7wmwqWTA8RsQWTBXR0YEXC6Mtd5xplSXlXghv7ORl0a2"
    "TRVQSuf/vhKOdXc54Ima3wqj8AOkMeaiswp8fdnwd6yq1s0bx6uchP9Q6PO0INGnpdH8NeKP21dlefeOc4H7OvnqHEyj/BsvdE1/DYUIFkw1q5fIAfx"
    "cUoqeXThtIL6ajLZgaaQJgYhPV7Cd6UMf5gY3yxKYWIWWHALtdWrn+pCcIPKrop/keqHE9wJPYtAP3uJ8UKohiHDft01X5ex0Es5Z12+lR9VLyEQ=="
)
PAY_SIGN = (
    "tQVXPvvcR6GmHIPQ7D9SmAXMyx3My05sqa9DUMI2BU1tENpoXvfgTWALP71q3WdO3nJjXnUMqH3/4Lvo3/aTmnxRB5k7BJmRfjaMMgStWIB9/4O4ev5"
    "0t9kotFgrZCZ7Pgj8rTlnYl2kmhOA0pLflz6MYtoMBNcr2piCl0FBcyyE5Xq1GPIm7Nfg7b9pAt5iqlLgyiwj53h2jfWvIuQSnxpiHRVEqpuX+EEHSxB"
    "SqpNwfrzis94QGMO8cKLIjKMuarNkHjBcpbaqOkEMig/SyHH4kRwKuVQlDQgVLH04fxoFpmEBknWCJo4UrnaGxuZGtcfbRQdbsVAstg41Lup1dg=="
)
V6_CIPHERTEXT = (
    "YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/"
    "GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ=="
)
V6_PLAINTEXT = (
    '{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00",'
    '"out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}'
)


def test_a_get_request_message_ends_with_an_empty_body_line() -> None:
    message = signing_v3.request_message("GET", "test", V5_TIMESTAMP, V5_NONCE, "")
    assert message == "GET\ntest\n1651854037\n1E3A8D73B5A4AEE787C0F68B5DAB8520\n\n"


def test_a_request_signature_matches_the_wechatpy_vector() -> None:
    message = signing_v3.request_message("GET", "test", V5_TIMESTAMP, V5_NONCE, "")
    assert signing_v3.sign(signing_v3.load_private_key(V5_KEY), message) == V5_SIGNATURE


def test_the_authorization_header_carries_the_vector_signature_and_the_five_fields() -> None:
    header = signing_v3.authorization(
        "1900000001", "ABC123", signing_v3.load_private_key(V5_KEY), "GET", "test", "",
        timestamp=V5_TIMESTAMP, nonce=V5_NONCE,
    )  # fmt: skip
    assert header == (
        'WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="1E3A8D73B5A4AEE787C0F68B5DAB8520",'
        f'timestamp="1651854037",serial_no="ABC123",signature="{V5_SIGNATURE}"'
    )
    assert signing_v3.parse_authorization(header)["signature"] == V5_SIGNATURE


def test_the_rsa_pay_sign_matches_the_protocol_vector() -> None:
    pay_sign = signing_v3.pay_sign(
        signing_v3.load_private_key(V5_KEY),
        "wx8888888888888888",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "prepay_id=wx201410272009395522657a690389285100",
    )
    assert pay_sign == PAY_SIGN


def test_a_signature_verifies_with_the_public_key() -> None:
    public = signing_v3.load_private_key(V5_KEY).public_key()
    message = signing_v3.request_message("GET", "test", V5_TIMESTAMP, V5_NONCE, "")
    assert signing_v3.verify(public, message, V5_SIGNATURE)


def test_a_signature_of_another_message_does_not_verify() -> None:
    public = signing_v3.load_private_key(V5_KEY).public_key()
    message = signing_v3.request_message("POST", "test", V5_TIMESTAMP, V5_NONCE, "")
    assert not signing_v3.verify(public, message, V5_SIGNATURE)


def test_a_signature_that_is_not_base64_does_not_verify() -> None:
    public = signing_v3.load_private_key(V5_KEY).public_key()
    assert not signing_v3.verify(public, "x\n", "not base64!")


def test_an_answer_message_is_timestamp_nonce_body() -> None:
    assert signing_v3.response_message("1", "n", "") == "1\nn\n\n"


def test_the_wechatpay_go_resource_decrypts() -> None:
    assert signing_v3.decrypt("testMchAPIv3Key0", "Kj7QIyUiYx1q", "payscore", V6_CIPHERTEXT) == V6_PLAINTEXT


def test_a_resource_under_a_32_byte_key_decrypts() -> None:
    opened = signing_v3.decrypt(
        "0123456789abcdef0123456789abcdef",
        "fdasflkja484",
        "transaction",
        "DUcHkaT6Ar5NbFcP4dHc0mQPviqVoryCQYZkx72M9HOV7zfzpxNFhao=",
    )
    assert opened == '{"trade_state":"SUCCESS"}'


def test_a_resource_with_other_associated_data_does_not_decrypt() -> None:
    with pytest.raises(ValueError, match="does not decrypt"):
        signing_v3.decrypt("testMchAPIv3Key0", "Kj7QIyUiYx1q", "transaction", V6_CIPHERTEXT)
