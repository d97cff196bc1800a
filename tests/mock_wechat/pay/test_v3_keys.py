"""API v3 key material: what is generated, how it is checked, and the keyring that stores and keeps it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509.oid import NameOID

from mock_wechat import signing
from mock_wechat.clock import ManualClock
from mock_wechat.config import KeyMaterial, Merchant, ResponseSigning
from mock_wechat.pay import v3_keys
from mock_wechat.pay.v3_keys import MerchantKeyring, MerchantKeys
from mock_wechat.store import SQLiteStore, Store
from sandbox import defaults
from tests.conftest import make_config, v3_material

MCH_ID = defaults.DEFAULT_MCH_ID
SERIAL = re.compile(r"[1-7][0-9A-F]{39}")
"""40 uppercase hex digits; the first byte 0x10-0x7F (no leading zero, under X.509's 160 bits)."""


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def private(pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, RSAPrivateKey)
    return key


def public(pem: str) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, RSAPublicKey)
    return key


def cert_key(pem: str) -> RSAPublicKey:
    key = cert(pem).public_key()
    assert isinstance(key, RSAPublicKey)
    return key


@pytest.fixture(scope="module")
def keys() -> MerchantKeys:
    return MerchantKeys.load(MCH_ID, v3_material())


def lacking_merchant_pair() -> KeyMaterial:
    """The session's material without the merchant's pair: generating the rest is one RSA key, not three."""
    return replace(v3_material(), private_key="", certificate="")


def keyring(
    store: Store, material: KeyMaterial | None = None, signing: ResponseSigning = ResponseSigning.PUBLIC_KEY
) -> MerchantKeyring:
    """A keyring over `store` for the default merchant configured with `material` (default: the merchant pair
    is left to generate)."""
    base = make_config()
    configured = replace(
        base.merchants[0],
        v3_keys=lacking_merchant_pair() if material is None else material,
        response_signing=signing,
    )
    config = replace(base, merchants=(configured,))
    return MerchantKeyring(store, ManualClock(), lambda: config)


# -- generation ---------------------------------------------------------------------------------------------


def test_serial_numbers_are_40_uppercase_hex_digits(keys: MerchantKeys) -> None:
    assert SERIAL.fullmatch(keys.serial_no)
    assert SERIAL.fullmatch(keys.platform_serial_no)


def test_serial_numbers_name_their_certificates_as_sdks_compare_them(keys: MerchantKeys) -> None:
    """wechatpayv3 compares int(serial, 16); wechatpay-go the hex of the serial's bytes."""
    assert int(keys.serial_no, 16) == cert(keys.certificate).serial_number
    assert int(keys.platform_serial_no, 16) == cert(keys.platform_certificate).serial_number


def test_the_merchant_and_the_platform_certificates_have_their_own_serials(keys: MerchantKeys) -> None:
    assert keys.serial_no != keys.platform_serial_no


def test_serial_hex_keeps_a_leading_zero_nibble_as_wechatpay_go_does() -> None:
    assert v3_keys.serial_hex(0x0ABC) == "0ABC"


def test_the_public_key_id_is_pub_key_id_and_28_digits_carrying_the_mch_id(keys: MerchantKeys) -> None:
    assert re.fullmatch(r"PUB_KEY_ID_01" + MCH_ID + r"\d{16}", keys.public_key_id)


def test_a_mch_id_that_is_not_10_digits_still_gets_28_digits() -> None:
    assert re.fullmatch(r"PUB_KEY_ID_\d{28}", v3_keys.new_public_key_id("shop-1"))


def test_the_apiv3_key_is_32_ascii_letters_and_digits(keys: MerchantKeys) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{32}", keys.apiv3_key)


def test_the_private_keys_are_pkcs8_pem_of_rsa_2048() -> None:
    material = v3_material()
    for pem in (material.private_key, material.platform_private_key, material.public_key_private_key):
        assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
        assert private(pem).key_size == 2048


def test_the_three_key_pairs_are_distinct() -> None:
    material = v3_material()
    moduli = {
        private(pem).private_numbers().public_numbers.n
        for pem in (material.private_key, material.platform_private_key, material.public_key_private_key)
    }
    assert len(moduli) == 3


def test_each_certificate_is_its_private_keys() -> None:
    material = v3_material()
    assert v3_keys.pair_problem(material.private_key, material.certificate) is None
    assert v3_keys.pair_problem(material.platform_private_key, material.platform_certificate) is None


def test_the_public_key_is_the_public_half_of_wechat_pays_key(keys: MerchantKeys) -> None:
    assert keys.public_key.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert (
        public(keys.public_key).public_numbers() == private(keys.public_key_private_key).public_key().public_numbers()
    )


def test_the_merchant_certificate_is_issued_to_the_mch_id(keys: MerchantKeys) -> None:
    subject = cert(keys.certificate).subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == MCH_ID


def test_the_platform_certificate_is_tenpays(keys: MerchantKeys) -> None:
    subject = cert(keys.platform_certificate).subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Tenpay.com"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Tenpay.com sign"


def test_certificates_are_valid_for_five_years_from_the_sandbox_clock() -> None:
    made = v3_keys.generate_missing(lacking_merchant_pair(), MCH_ID, 1_700_000_000.75)
    issued = cert(made.certificate)
    assert issued.not_valid_before_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert issued.not_valid_after_utc == datetime(2028, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_generate_missing_makes_only_what_is_missing() -> None:
    made = v3_keys.generate_missing(lacking_merchant_pair(), MCH_ID, 1_700_000_000.0)
    assert (made.private_key != "", made.certificate != "") == (True, True)
    assert replace(made, private_key="", certificate="") == KeyMaterial()


def test_generate_missing_of_complete_material_makes_nothing() -> None:
    assert v3_keys.generate_missing(v3_material(), MCH_ID, 1_700_000_000.0) == KeyMaterial()


def test_overlay_takes_whole_pairs() -> None:
    first = KeyMaterial(private_key="K1", certificate="", platform_private_key="P1", platform_certificate="C1")
    then = KeyMaterial("A2", "K2", "C2", "P2", "PC2", "Q2", "ID2")
    assert v3_keys.overlay(first, then) == KeyMaterial("A2", "K2", "C2", "P1", "C1", "Q2", "ID2")


# -- signing with the loaded keys ----------------------------------------------------------------------------


def test_public_key_mode_signs_with_wechat_pays_public_key_under_its_id(keys: MerchantKeys) -> None:
    signer = keys.signer(ResponseSigning.PUBLIC_KEY)
    message = signing.v3_response_message("1554208460", "nonce", '{"a":1}')
    assert signer.serial == keys.public_key_id
    assert signing.rsa_verify(public(keys.public_key), message, signer.sign(message))


def test_platform_certificate_mode_signs_with_the_platform_key_under_its_serial(keys: MerchantKeys) -> None:
    signer = keys.signer(ResponseSigning.PLATFORM_CERTIFICATE)
    message = signing.v3_response_message("1554208460", "nonce", "")
    assert signer.serial == keys.platform_serial_no
    assert signing.rsa_verify(cert_key(keys.platform_certificate), message, signer.sign(message))


def test_the_merchant_public_key_verifies_what_the_merchant_private_key_signs(keys: MerchantKeys) -> None:
    message = signing.v3_request_message("GET", "/v3/certificates", "1554208460", "nonce", "")
    assert signing.rsa_verify(keys.merchant_public_key, message, signing.rsa_sign(keys.merchant_private_key, message))


def test_key_objects_are_loaded_once(keys: MerchantKeys) -> None:
    assert keys.platform_key is keys.platform_key
    assert keys.merchant_public_key is keys.merchant_public_key


def test_the_platform_validity_is_the_certificates(keys: MerchantKeys) -> None:
    issued = cert(keys.platform_certificate)
    assert keys.platform_validity == (issued.not_valid_before_utc.timestamp(), issued.not_valid_after_utc.timestamp())


def test_reprs_never_show_a_secret(keys: MerchantKeys) -> None:
    merchant = replace(defaults.default_merchant(), v3_keys=v3_material())
    for shown in (repr(keys), repr(merchant), repr(keys.signer(ResponseSigning.PUBLIC_KEY))):
        assert "PRIVATE KEY" not in shown
        assert keys.apiv3_key not in shown


def test_incomplete_material_does_not_load() -> None:
    with pytest.raises(ValueError, match="incomplete API v3 key material for 1900000109"):
        MerchantKeys.load(MCH_ID, lacking_merchant_pair())


# -- checking key material a user brings ---------------------------------------------------------------------


def test_a_key_of_another_certificate_is_named_a_mismatch() -> None:
    material = v3_material()
    assert v3_keys.pair_problem(material.private_key, material.platform_certificate) == (
        "the private key does not match the certificate (their public keys differ)"
    )


def test_a_certificate_is_not_a_private_key() -> None:
    assert v3_keys.private_key_problem(v3_material().certificate) == "not a valid PEM private key"


def test_an_encrypted_private_key_is_refused() -> None:
    encrypted = private(v3_material().private_key).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    assert v3_keys.private_key_problem(encrypted.decode()) == "an encrypted private key; give it without a password"


def test_an_ec_private_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert v3_keys.private_key_problem(pem) == "not an RSA key (API v3 signs with SHA256-RSA)"


def test_a_private_key_is_not_a_certificate() -> None:
    assert v3_keys.certificate_problem(v3_material().private_key) == "not a valid PEM X.509 certificate"


def test_an_ec_certificate_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    issued = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2029, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    pem = issued.public_bytes(serialization.Encoding.PEM).decode()
    assert v3_keys.certificate_problem(pem) == "not an RSA certificate (API v3 signs with SHA256-RSA)"


# -- the keyring -----------------------------------------------------------------------------------------------


def test_configured_material_is_used_as_it_is_and_never_stored(store: SQLiteStore) -> None:
    ring = keyring(store, v3_material())
    assert ring.keys(MCH_ID) == MerchantKeys.load(MCH_ID, v3_material())
    assert ring.saved() == []


def test_what_the_config_lacks_is_generated_and_stored(store: SQLiteStore) -> None:
    keys = keyring(store).keys(MCH_ID)
    assert v3_keys.pair_problem(keys.private_key, keys.certificate) is None
    [record] = keyring(store).saved()
    assert (record.mch_id, record.private_key, record.certificate) == (MCH_ID, keys.private_key, keys.certificate)
    assert replace(record.material(), private_key="", certificate="") == KeyMaterial()


def test_the_keys_are_loaded_once_per_keyring(store: SQLiteStore) -> None:
    ring = keyring(store)
    assert ring.keys(MCH_ID) is ring.keys(MCH_ID)


def test_a_restart_on_the_same_sqlite_file_keeps_the_keys(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "state.sqlite3")
    made = keyring(first).keys(MCH_ID)
    first.close()
    again = SQLiteStore(tmp_path / "state.sqlite3")
    assert keyring(again).keys(MCH_ID) == made
    again.close()


def test_configured_pairs_win_over_stored_ones(store: SQLiteStore) -> None:
    keyring(store).keys(MCH_ID)  # the merchant pair generated and stored
    assert keyring(store, v3_material()).keys(MCH_ID) == MerchantKeys.load(MCH_ID, v3_material())


def test_a_config_change_is_seen_at_once(store: SQLiteStore) -> None:
    config = replace(make_config(), merchants=(replace(make_config().merchants[0], v3_keys=v3_material()),))
    current = [config]
    ring = MerchantKeyring(store, ManualClock(), lambda: current[0])
    before = ring.keys(MCH_ID)
    merchant = replace(config.merchants[0], v3_keys=replace(v3_material(), apiv3_key="B" * 32))
    current[0] = replace(config, merchants=(merchant,))
    assert (before.apiv3_key, ring.keys(MCH_ID).apiv3_key) == (v3_material().apiv3_key, "B" * 32)


def test_the_response_signer_follows_the_merchants_setting(store: SQLiteStore) -> None:
    ring = keyring(store, v3_material(), ResponseSigning.PLATFORM_CERTIFICATE)
    assert ring.response_signer(MCH_ID).serial == ring.keys(MCH_ID).platform_serial_no


def test_the_default_response_signer_is_the_wechat_pay_public_key(store: SQLiteStore) -> None:
    ring = keyring(store, v3_material())
    assert ring.response_signer(MCH_ID).serial == ring.keys(MCH_ID).public_key_id


def test_an_unknown_merchant_has_no_keys(store: SQLiteStore) -> None:
    with pytest.raises(KeyError, match="no merchant '1900000000'"):
        keyring(store, v3_material()).keys("1900000000")


async def test_warm_generates_and_stores_what_is_missing(store: SQLiteStore) -> None:
    ring = keyring(store)
    await ring.warm()
    [record] = ring.saved()
    assert v3_keys.pair_problem(record.private_key, record.certificate) is None


async def test_two_replicas_warming_at_once_end_up_with_the_same_keys(store: SQLiteStore) -> None:
    first, second = keyring(store), keyring(store)
    await asyncio.gather(first.warm(), second.warm())
    assert first.keys(MCH_ID) == second.keys(MCH_ID)
    assert len(first.saved()) == 1


def test_saved_keys_can_be_restored_after_a_clear(store: SQLiteStore) -> None:
    ring = keyring(store)
    made = ring.keys(MCH_ID)
    saved = ring.saved()
    store.clear()
    ring.restore(saved)
    assert keyring(store).keys(MCH_ID) == made


def test_merchant_config_has_no_key_material_by_default() -> None:
    assert Merchant(mch_id=MCH_ID, key="k" * 32, name="n").v3_keys == KeyMaterial()
