"""Key downloads: a merchant's API v3 PEM files and API v3 key, named as WeChat's merchant platform names them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mock_wechat.keys import KEYRING, current_config
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox.control import api_error

routes = web.RouteTableDef()

PEM = "application/x-pem-file"


@dataclass(frozen=True)
class Download:
    """One file: the `MerchantKeys` field it holds, the name it is saved under, its media type."""

    field: str
    filename: str
    content_type: str = PEM
    render: Callable[[MerchantKeys], bytes] | None = None
    """Makes the file from the keys when it is not one field's text (the PKCS#12 bundle)."""

    def saved_as(self, keys: MerchantKeys) -> str:
        return self.filename.format(platform_serial_no=keys.platform_serial_no)

    def body(self, keys: MerchantKeys) -> bytes:
        return self.render(keys) if self.render is not None else str(getattr(keys, self.field)).encode("ascii")


def client_pkcs12(keys: MerchantKeys) -> bytes:
    """`apiclient_cert.p12` as WeChat's merchant platform gives it: the API certificate and its key, the password
    being the mch_id (what WxJava's `keyPath` and Java's `KeyStore.getInstance("PKCS12")` read)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    return pkcs12.serialize_key_and_certificates(
        b"Tenpay Certificate",
        keys.merchant_private_key,
        x509.load_pem_x509_certificate(keys.certificate.encode("ascii")),
        None,
        BestAvailableEncryption(keys.mch_id.encode()),
    )


DOWNLOADS = {
    "private_key.pem": Download("private_key", "apiclient_key.pem"),
    "certificate.pem": Download("certificate", "apiclient_cert.pem"),
    "certificate.p12": Download("certificate", "apiclient_cert.p12", "application/x-pkcs12", client_pkcs12),
    # The name WeChat's certificate downloader gives it; wechatpayv3 reads any *.pem in its cert_dir.
    "platform_certificate.pem": Download("platform_certificate", "wechatpay_{platform_serial_no}.pem"),
    "public_key.pem": Download("public_key", "pub_key.pem"),
    "apiv3_key.txt": Download("apiv3_key", "apiv3_key.txt", "text/plain"),
}
"""`/_sandbox/api/merchants/{mch_id}/keys/{name}`: the URL names follow `GET /_sandbox/api/config`'s fields."""


@routes.get("/_sandbox/api/merchants/{mch_id}/keys/{name}")
async def download_key(request: web.Request) -> web.Response:
    """A key file as an attachment (never cached); the control API's guard keeps other sites' pages out."""
    mch_id, name = request.match_info["mch_id"], request.match_info["name"]
    if current_config(request.app).merchant(mch_id) is None:
        return api_error(404, f"no merchant {mch_id!r}")
    download = DOWNLOADS.get(name)
    if download is None:
        return api_error(404, f"no key file {name!r}; files: {list(DOWNLOADS)}")
    keys = request.app[KEYRING].keys(mch_id)
    return web.Response(
        body=download.body(keys),
        content_type=download.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.saved_as(keys)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
