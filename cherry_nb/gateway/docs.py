"""The API docs: Swagger UI served by the gateway itself, so they work offline.

`docs_blueprint` serves

- `GET /api-docs`: the Swagger UI page; every script, style and image it loads comes
  from this server (no CDN, no external URL) and its Content-Security-Policy forbids
  anything else;
- `GET /api-docs/static/<file>`: Swagger UI's JS/CSS/PNG files from the
  swagger-ui-bundle package, and only those (a fixed list; no path reaches the disk);
- `GET /api-docs.json` (`openapi_json_url`): the OpenAPI 3.1 document from `get_openapi`;
- `GET /api-docs/openapi-3.0.json`: the same document as OpenAPI 3.0, which is what the
  bundled Swagger UI (version 4) can render;
- `GET /api-docs/swagger-init.js`: the page's start-up script.

None of them needs the gateway key: `DOCS_PATHS` lists them exactly, and the gate lets
those paths, and no others under `/api-docs/`, through unauthenticated.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from quart import Blueprint, Response, abort, send_from_directory

from .openapi_downgrade import openapi_30

__all__ = ["SWAGGER_UI_DIR", "SWAGGER_UI_VERSION", "docs_blueprint"]

SWAGGER_UI_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_UI_VERSION = SWAGGER_UI_DIR.name.removeprefix("swagger-ui-")
"""e.g. "4.15.5"; added to asset URLs so a new swagger-ui-bundle busts browser caches."""

_MIME_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
    ".png": "image/png",
}
# The sample initializer points at the public petstore; the page uses its own.
_EXCLUDED = frozenset({"swagger-initializer.js"})
_ASSETS: dict[str, str] = {
    path.name: _MIME_TYPES[path.suffix]
    for path in sorted(SWAGGER_UI_DIR.iterdir())
    if path.is_file() and path.suffix in _MIME_TYPES and path.name not in _EXCLUDED
}
"""The files /api-docs/static/ serves: name -> Content-Type. Anything else is a 404."""
#: Every path the docs blueprint serves (at its default JSON URL): the gate lets exactly
#: these through without the gateway key.
DOCS_PATHS = frozenset(
    {
        "/api-docs",
        "/api-docs.json",
        "/api-docs/openapi-3.0.json",
        "/api-docs/swagger-init.js",
        *(f"/api-docs/static/{name}" for name in _ASSETS),
    }
)

_ASSET_MAX_AGE = 365 * 24 * 3600
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" type="text/css" href="{css}">
<link rel="icon" type="image/png" href="{icon}" sizes="32x32">
</head>
<body>
<noscript><p>The API docs need JavaScript. The OpenAPI document is at
<a href="{spec}">{spec}</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="{bundle}" charset="utf-8"></script>
<script src="{preset}" charset="utf-8"></script>
<script src="{init}" charset="utf-8"></script>
</body>
</html>
"""
_INIT = """\
window.addEventListener("load", function () {
  var options = %s;
  options.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];
  options.plugins = [SwaggerUIBundle.plugins.DownloadUrl];
  window.ui = SwaggerUIBundle(options);
});
"""
_INIT_OPTIONS: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "deepLinking": True,
    "validatorUrl": None,  # the default sends the spec's URL to validator.swagger.io
    "displayRequestDuration": True,
    "layout": "StandaloneLayout",
}


def docs_blueprint(
    *,
    get_openapi: Callable[[], dict[str, Any]] | None = None,
    openapi_json_url: str = "/api-docs.json",
    title: str = "cherry-nb gateway API",
) -> Blueprint:
    """A blueprint serving the API docs page, its assets and the OpenAPI document.

    `get_openapi` returns the OpenAPI 3.1 document (default: `build_openapi` for this
    package's version); it is called per request, and its JSON (3.1 and 3.0) is
    re-encoded only when it returns a different object, so pass a cached builder
    such as `lambda: build_openapi(version=...)`.
    """
    if get_openapi is None:
        from .._version import __version__

        def get_openapi() -> dict[str, Any]:
            from .openapi import build_openapi  # its pydantic schemas: at the first request

            return build_openapi(version=__version__)

    docs = Blueprint("api_docs", __name__)
    encoded: dict[str, Any] = {}  # {"doc": the document, "3.1": bytes, "3.0": bytes}
    encoding = threading.Lock()  # document_json runs in worker threads

    def document_json(flavour: str) -> bytes:
        with encoding:
            doc = get_openapi()
            if encoded.get("doc") is not doc:
                encoded.clear()
                encoded["doc"] = doc
            if flavour not in encoded:
                # The page's copy names its server relatively: ".." from
                # .../api-docs/openapi-3.0.json is the gateway's root, proxied or not.
                payload = (
                    doc if flavour == "3.1" else {**openapi_30(doc), "servers": [{"url": ".."}]}
                )
                encoded[flavour] = json.dumps(payload, ensure_ascii=False).encode()
            data: bytes = encoded[flavour]
            return data

    async def document_reply(flavour: str) -> Response:
        # The gateway builds its document at the first request for it (~0.1 s of
        # pydantic): in a thread, so the event loop keeps serving streams meanwhile.
        return json_response(await asyncio.to_thread(document_json, flavour))

    def json_response(data: bytes) -> Response:
        return Response(
            data,
            content_type="application/json",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    # Every URL in the page is relative, so it also works behind a path prefix
    # (jupyter-server-proxy's /user/NAME/proxy/PORT/ under Binder and JupyterHub).
    def asset_url(name: str) -> str:
        return f"api-docs/static/{name}?v={SWAGGER_UI_VERSION}"

    @docs.get("/api-docs")
    async def page() -> Response:
        values = {
            "title": title,
            "css": asset_url("swagger-ui.css"),
            "icon": asset_url("favicon-32x32.png"),
            "spec": openapi_json_url.lstrip("/"),
            "bundle": asset_url("swagger-ui-bundle.js"),
            "preset": asset_url("swagger-ui-standalone-preset.js"),
            "init": f"api-docs/swagger-init.js?v={SWAGGER_UI_VERSION}",
        }
        body = _PAGE.format(**{key: html.escape(value) for key, value in values.items()})
        return Response(body, content_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    @docs.get("/api-docs/swagger-init.js")
    async def init_script() -> Response:
        options = dict(_INIT_OPTIONS, url="api-docs/openapi-3.0.json")  # relative to the page
        script = _INIT % json.dumps(options)
        return Response(
            script,
            content_type=_MIME_TYPES[".js"],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    @docs.get("/api-docs/static/<path:filename>")
    async def asset(filename: str) -> Response:
        mimetype = _ASSETS.get(filename)
        if mimetype is None:
            abort(404)
        response = await send_from_directory(
            SWAGGER_UI_DIR, filename, mimetype=mimetype, cache_timeout=_ASSET_MAX_AGE
        )
        response.cache_control.immutable = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @docs.get(openapi_json_url)
    async def openapi_json() -> Response:
        return await document_reply("3.1")

    @docs.get("/api-docs/openapi-3.0.json")
    async def openapi_30_json() -> Response:
        return await document_reply("3.0")

    return docs
