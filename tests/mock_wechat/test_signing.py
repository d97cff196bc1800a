"""Known-answer vectors for every signature: JS-SDK SHA1, v2 MD5/HMAC, v3 SHA256-RSA and AEAD (PROTOCOL.md §8)."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from mock_wechat import signing


def test_jsapi_signature_matches_official_vector() -> None:
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    got = signing.jsapi_signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value")
    assert got == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_jsapi_signature_matches_wechatpy_example() -> None:
    got = signing.jsapi_signature("TICKET", "noncexyz", "1700000000", "http://localhost/page")
    assert got == "a7b904774d61210385dbfedabc5e4aca45e43450"


def test_jsapi_signature_ignores_fragment() -> None:
    with_hash = signing.jsapi_signature("T", "n", 1, "http://localhost/page?x=1#/route")
    assert with_hash == signing.jsapi_signature("T", "n", 1, "http://localhost/page?x=1")


def test_jsapi_string_to_sign_sorts_fields() -> None:
    assert (
        signing.jsapi_string_to_sign("T", "n", 1, "http://a/") == "jsapi_ticket=T&noncestr=n&timestamp=1&url=http://a/"
    )


OFFICIAL_KEY = "192006250b4c09247ec02edce69f6a2d"
OFFICIAL_PARAMS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "10000100",
    "device_info": "1000",
    "body": "test",
    "nonce_str": "ibuaiVcKdpRxkhJA",
}


def test_v2_md5_matches_official_vector() -> None:
    assert signing.v2_sign(OFFICIAL_PARAMS, OFFICIAL_KEY, signing.MD5) == "9A0A8659F005D6984697E2CA0A9CF3B7"


def test_v2_hmac_matches_official_vector() -> None:
    expected = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    assert signing.v2_sign(OFFICIAL_PARAMS, OFFICIAL_KEY, signing.HMAC_SHA256) == expected


def test_v2_signs_match_wechatpy_vectors() -> None:
    params = {"test1": "test1", "test2": "test2"}
    assert signing.v2_sign(params, OFFICIAL_KEY) == "1E3A8D73B5A4AEE787C0F68B5DAB8520"
    expected = "EDAC6D70D2FDF5A2382F8204FC96A1918017E46ACC5297F565ED1A7610ACF659"
    assert signing.v2_sign(params, OFFICIAL_KEY, signing.HMAC_SHA256) == expected


def test_v2_string_to_sign_skips_empty_values_and_sign() -> None:
    params = {"b": "2", "a": "1", "empty": "", "sign": "X"}
    assert signing.v2_string_to_sign(params, "K") == "a=1&b=2&key=K"


def test_v2_pay_sign_matches_jsapi_vector() -> None:
    params = {
        "appId": "wx2421b1c4370ec43b",
        "timeStamp": "1395712654",
        "nonceStr": "e61463f8efa94090b1f366cccfbbb444",
        "package": "prepay_id=wx201410272009395522657a690389285100",
        "signType": "MD5",
    }
    assert signing.v2_sign(params, OFFICIAL_KEY) == "05F30DD446ED1AFB88D72F6A0F93BAE7"
    hmac_params = {**params, "signType": "HMAC-SHA256"}
    expected = "D3C8EC2BB7A501F85B7FE93E298F4CD23C7E8D90F37DF45D716DF18AE7B65F72"
    assert signing.v2_sign(hmac_params, OFFICIAL_KEY, signing.HMAC_SHA256) == expected


def test_v2_verify_accepts_the_official_sign() -> None:
    assert signing.v2_verify({**OFFICIAL_PARAMS, "sign": "9A0A8659F005D6984697E2CA0A9CF3B7"}, OFFICIAL_KEY)


def test_v2_verify_refuses_lowercase_sign() -> None:
    assert not signing.v2_verify({**OFFICIAL_PARAMS, "sign": "9a0a8659f005d6984697e2ca0a9cf3b7"}, OFFICIAL_KEY)


# -- API v3 (PROTOCOL.md §7.1, §7.10, §8 V5/V6) ---------------------------------------------------------------

V5_KEY = Path(__file__).parent.parent / "vectors" / "wechatpy_apiclient_key.pem"
V5_MESSAGE = "GET\ntest\n1651854037\n1E3A8D73B5A4AEE787C0F68B5DAB8520\n\n"
V5_SIGNATURE = (
    "c4VewIfiOrSXkYtGqoZFzzjOr3LMhFFJRD5l18glbIUyXEF1wcG1euB4w5QdBlhgytM+28W7wmwqWTA8RsQWTBXR0YEXC6Mtd5xplSXlXghv7ORl0a2"
    "TRVQSuf/vhKOdXc54Ima3wqj8AOkMeaiswp8fdnwd6yq1s0bx6uchP9Q6PO0INGnpdH8NeKP21dlefeOc4H7OvnqHEyj/BsvdE1/DYUIFkw1q5fIAfx"
    "cUoqeXThtIL6ajLZgaaQJgYhPV7Cd6UMf5gY3yxKYWIWWHALtdWrn+pCcIPKrop/keqHE9wJPYtAP3uJ8UKohiHDft01X5ex0Es5Z12+lR9VLyEQ=="
)
V6_CIPHERTEXT = (
    "YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/"
    "GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ=="
)
V6_PLAINTEXT = (
    '{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00",'
    '"out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}'
)


def v5_key() -> RSAPrivateKey:
    key = serialization.load_pem_private_key(V5_KEY.read_bytes(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def test_v3_request_message_ends_with_an_empty_body_line() -> None:
    message = signing.v3_request_message("GET", "test", "1651854037", "1E3A8D73B5A4AEE787C0F68B5DAB8520", "")
    assert message == V5_MESSAGE


def test_v3_rsa_signature_matches_the_wechatpy_vector() -> None:
    assert signing.rsa_sign(v5_key(), V5_MESSAGE) == V5_SIGNATURE


def test_v3_rsa_signature_verifies_with_the_public_key() -> None:
    assert signing.rsa_verify(v5_key().public_key(), V5_MESSAGE, V5_SIGNATURE)


def test_v3_rsa_signature_of_another_message_does_not_verify() -> None:
    assert not signing.rsa_verify(v5_key().public_key(), V5_MESSAGE.replace("GET", "POST"), V5_SIGNATURE)


def test_v3_rsa_signature_that_is_not_base64_does_not_verify() -> None:
    assert not signing.rsa_verify(v5_key().public_key(), V5_MESSAGE, "not base64!")


def test_aead_decrypts_the_wechatpay_go_vector() -> None:
    assert signing.aead_decrypt("testMchAPIv3Key0", "Kj7QIyUiYx1q", "payscore", V6_CIPHERTEXT) == V6_PLAINTEXT


def test_aead_encrypts_the_32_byte_key_vector() -> None:
    sealed = signing.aead_encrypt(
        "0123456789abcdef0123456789abcdef", "fdasflkja484", "transaction", '{"trade_state":"SUCCESS"}'
    )
    assert sealed == "DUcHkaT6Ar5NbFcP4dHc0mQPviqVoryCQYZkx72M9HOV7zfzpxNFhao="


def test_aead_with_other_associated_data_does_not_open() -> None:
    with pytest.raises(ValueError, match="tag"):
        signing.aead_decrypt("testMchAPIv3Key0", "Kj7QIyUiYx1q", "transaction", V6_CIPHERTEXT)


def test_v3_pay_message_is_four_lines() -> None:
    assert signing.v3_pay_message("wx1", "1", "n", "prepay_id=p") == "wx1\n1\nn\nprepay_id=p\n"
