"""Known-answer vectors for the JS-SDK signature (PROTOCOL.md §4.1, CLIENTS.md A.2)."""

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
