"""Browser files: `/_sandbox/static/…` and the JS-SDK path pages use on res.wx.qq.com (`/open/js/…`)."""

from __future__ import annotations

import importlib.util
import mimetypes
from pathlib import Path

from aiohttp import web

from mock_wechat.keys import current_config

ASSET_SUFFIXES = (".js", ".css", ".html", ".svg")
JWEIXIN_VERSIONS = ("1.0.0", "1.2.0", "1.3.2", "1.4.0", "1.5.0", "1.6.0")
"""The res.wx.qq.com/open/js/jweixin-*.js files pages load; all answered with static/jweixin-sandbox.js, or with
the config's JS-SDK file (`[sandbox] jssdk_file`) when it names one."""


def static_root() -> Path:
    """Where `static/` is: the repository's folder, or the `wechat_sandbox_static` package of a wheel."""
    spec = importlib.util.find_spec("wechat_sandbox_static")
    if spec is None or spec.origin is None:
        raise RuntimeError("wechat_sandbox_static is not installed: pip install -e .")
    return Path(spec.origin).parent


def load_assets(root: Path | None = None) -> dict[str, tuple[bytes, str]]:
    """Read every asset once at start-up: name → (bytes, content type)."""
    root = root if root is not None else static_root()
    assets = {}
    for path in sorted(root.iterdir()):
        if path.is_file() and path.suffix in ASSET_SUFFIXES:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            assets[path.name] = (path.read_bytes(), kind)
    return assets


def jssdk_script(source: str) -> bytes:
    """A configured JS-SDK as res.wx.qq.com serves it: a plain <script> that defines `wx` and `jWeixin`.

    npm's `weixin-js-sdk` is CommonJS (`module.exports = …`), which a <script> cannot run: it gets a `module`
    of its own in a function scope (no global `module` leaks into the page) and hands its export to `window`,
    as the real file does. Any other file (a saved `jweixin-1.6.0.js`) is served as it is."""
    if "module.exports" not in source:
        return source.encode()
    return (
        "/* wechat-sandbox: the configured CommonJS JS-SDK, wrapped to run as res.wx.qq.com's plain script */\n"
        "(function () {\nvar module = { exports: {} };\nvar exports = module.exports;\n"
        f"{source}\n;window.wx = window.jWeixin = module.exports;\n}})();\n"
    ).encode()


def add_routes(app: web.Application) -> None:
    assets = load_assets()
    source = current_config(app).jssdk_source
    sandbox_jweixin = assets["jweixin-sandbox.js"]
    jweixin_file = (jssdk_script(source), sandbox_jweixin[1]) if source else sandbox_jweixin

    def serve(file: tuple[bytes, str]) -> web.Response:
        body, kind = file
        return web.Response(
            body=body,
            content_type=kind,
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
        )

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in assets:
            raise web.HTTPNotFound()
        return serve(assets[name])

    async def jweixin(request: web.Request) -> web.Response:
        return serve(jweixin_file)

    app.router.add_get("/_sandbox/static/{name}", static)
    for version in JWEIXIN_VERSIONS:
        app.router.add_get(f"/open/js/jweixin-{version}.js", jweixin)
