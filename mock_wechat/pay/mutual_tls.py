"""WeChat's mutual TLS on `/secapi/…`: which merchant's API certificate the client presented, told to the journal."""

from __future__ import annotations

import ssl
from collections.abc import Mapping

from aiohttp import web


def presented(request: web.Request) -> tuple[bool, bytes | None]:
    """(whether the request came over TLS, the client certificate it presented as DER or None)."""
    transport = request.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return False, None
    return True, ssl_object.getpeercert(binary_form=True)


def _der(pem: str) -> bytes | None:
    try:
        return ssl.PEM_cert_to_DER_cert(pem.strip())
    except ValueError:
        return None


def secapi_note(over_tls: bool, certificate: bytes | None, mch_id: str, certificates: Mapping[str, str]) -> str | None:
    """What the journal says of a `/secapi/…` call by `mch_id` with this client certificate (None: all is well).

    `certificates` are the merchants' API certificates (mch_id → PEM). Over plain HTTP nothing can be said:
    mutual TLS needs the TLS listener or the proxy."""
    if not over_tls:
        return None
    own = certificates.get(mch_id, "")
    if certificate is None:
        return (
            f"mutual TLS: the client presented no certificate; WeChat refuses /secapi/… at the TLS handshake without "
            f"the merchant's API certificate (apiclient_cert.pem of {mch_id}, from the console or "
            f"/_sandbox/api/merchants/{mch_id}/keys/certificate.pem, with apiclient_key.pem)"
        )
    if own and _der(own) == certificate:
        return None
    owner = next((m for m, pem in certificates.items() if _der(pem) == certificate), None)
    whose = f"merchant {owner}'s" if owner is not None else "no merchant's of this sandbox"
    return (
        f"mutual TLS: the client certificate is {whose}, not {mch_id}'s; WeChat refuses the call "
        f"(use apiclient_cert.pem of {mch_id})"
    )
