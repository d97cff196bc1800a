"""The local CA's certificate, for clients to trust: `GET /_sandbox/api/ca.pem`."""

from __future__ import annotations

from aiohttp import web

from sandbox.control import api_error
from sandbox.keys import TLS
from sandbox.tls import CAError

routes = web.RouteTableDef()


@routes.get("/_sandbox/api/ca.pem")
async def ca_certificate(request: web.Request) -> web.Response:
    """The CA certificate (made if missing): trusting it trusts the sandbox under every name it serves."""
    try:
        ca = request.app[TLS].ca
    except CAError as exc:
        return api_error(500, str(exc))
    return web.Response(
        body=ca.certificate_pem,
        content_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="wechat-sandbox-ca.pem"', "Cache-Control": "no-store"},
    )
