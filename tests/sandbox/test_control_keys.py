"""Key downloads: each API v3 file of a merchant, named as WeChat names it, never cached or journaled."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults
from tests.conftest import ClientFactory, make_config, v3_material

Client = TestClient[web.Request, web.Application]

MCH_ID = defaults.DEFAULT_MCH_ID
KEYS = f"/_sandbox/api/merchants/{MCH_ID}/keys"


@pytest.fixture
async def api(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(sandbox.create_app(make_config()))


def expected_files() -> list[tuple[str, str, str, str]]:
    """(URL name, saved as, media type, text) for each download."""
    keys = MerchantKeys.load(MCH_ID, v3_material())
    pem = "application/x-pem-file"
    return [
        ("private_key.pem", "apiclient_key.pem", pem, keys.private_key),
        ("certificate.pem", "apiclient_cert.pem", pem, keys.certificate),
        ("platform_certificate.pem", f"wechatpay_{keys.platform_serial_no}.pem", pem, keys.platform_certificate),
        ("public_key.pem", "pub_key.pem", pem, keys.public_key),
        ("apiv3_key.txt", "apiv3_key.txt", "text/plain", keys.apiv3_key),
    ]


@pytest.mark.parametrize(("name", "saved_as", "media_type", "text"), expected_files())
async def test_each_file_downloads_under_wechats_name(
    api: Client, name: str, saved_as: str, media_type: str, text: str
) -> None:
    resp = await api.get(f"{KEYS}/{name}")
    assert resp.status == 200
    assert resp.content_type == media_type
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{saved_as}"'
    assert await resp.text() == text


async def test_the_pkcs12_bundle_holds_the_certificate_and_key_under_the_mch_id(api: Client) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    resp = await api.get(f"{KEYS}/certificate.p12")
    assert resp.content_type == "application/x-pkcs12"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="apiclient_cert.p12"'
    bundle = pkcs12.load_pkcs12(await resp.read(), MCH_ID.encode())
    keys = MerchantKeys.load(MCH_ID, v3_material())
    assert bundle.cert is not None
    assert bundle.cert.certificate == x509.load_pem_x509_certificate(keys.certificate.encode())
    assert bundle.key is not None
    assert bundle.key.public_key() == keys.merchant_private_key.public_key()


async def test_downloads_are_never_cached(api: Client) -> None:
    resp = await api.get(f"{KEYS}/private_key.pem")
    assert (resp.headers["Cache-Control"], resp.headers["X-Content-Type-Options"]) == ("no-store", "nosniff")


async def test_an_unknown_file_is_404_listing_the_files(api: Client) -> None:
    resp = await api.get(f"{KEYS}/id_rsa")
    assert resp.status == 404
    assert await resp.json() == {
        "error": "no key file 'id_rsa'; files: ['private_key.pem', 'certificate.pem', 'certificate.p12', "
        "'platform_certificate.pem', 'public_key.pem', 'apiv3_key.txt']"
    }


async def test_an_unknown_merchant_is_404(api: Client) -> None:
    resp = await api.get("/_sandbox/api/merchants/1900000000/keys/private_key.pem")
    assert resp.status == 404
    assert await resp.json() == {"error": "no merchant '1900000000'"}


async def test_downloads_leave_no_secret_in_the_journal(api: Client) -> None:
    for name, *_ in expected_files():
        await api.get(f"{KEYS}/{name}")
    await api.get("/_sandbox/api/config")
    entries = (await (await api.get("/_sandbox/api/journal")).json())["entries"]
    assert entries == []


async def test_a_rebinding_host_name_cannot_read_a_key(api: Client) -> None:
    resp = await api.get(f"{KEYS}/private_key.pem", headers={"Host": "evil.invalid:8600"})
    assert resp.status == 403
    assert await resp.json() == {
        "error": "Host 'evil.invalid:8600' is neither this machine nor a configured name (a DNS-rebinding page?); "
        "to serve it under that name, add it to [sandbox] allowed_hosts in the config file"
    }
