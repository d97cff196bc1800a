"""Mutual TLS on `/secapi/…`: what the journal says of the client certificate a merchant presented."""

from __future__ import annotations

import ssl

from mock_wechat.pay.mutual_tls import secapi_note
from tests.conftest import v3_material

MINE, OTHER = "1900000109", "1900000110"
CERTIFICATES = {MINE: v3_material(MINE).certificate, OTHER: v3_material(OTHER).certificate}


def der(mch_id: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(CERTIFICATES[mch_id])


def test_the_merchants_own_certificate_says_nothing() -> None:
    assert secapi_note(True, der(MINE), MINE, CERTIFICATES) is None


def test_plain_http_says_nothing() -> None:
    assert secapi_note(False, None, MINE, CERTIFICATES) is None


def test_no_certificate_is_told_with_where_to_get_one() -> None:
    assert secapi_note(True, None, MINE, CERTIFICATES) == (
        "mutual TLS: the client presented no certificate; WeChat refuses /secapi/… at the TLS handshake without the "
        "merchant's API certificate (apiclient_cert.pem of 1900000109, from the console or "
        "/_sandbox/api/merchants/1900000109/keys/certificate.pem, with apiclient_key.pem)"
    )


def test_another_merchants_certificate_is_named() -> None:
    assert secapi_note(True, der(OTHER), MINE, CERTIFICATES) == (
        "mutual TLS: the client certificate is merchant 1900000110's, not 1900000109's; WeChat refuses the call "
        "(use apiclient_cert.pem of 1900000109)"
    )


def test_a_certificate_of_no_merchant_is_told() -> None:
    assert secapi_note(True, der(OTHER), MINE, {MINE: CERTIFICATES[MINE]}) == (
        "mutual TLS: the client certificate is no merchant's of this sandbox, not 1900000109's; WeChat refuses the "
        "call (use apiclient_cert.pem of 1900000109)"
    )
