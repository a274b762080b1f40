"""The pooled upstream client: httpx's AsyncClient, with plain-http requests handed
straight to the lean transport.

httpx's `AsyncClient.send` wraps every request in machinery a gateway does not use —
auth flows, redirect handling (off), cookie jars, event hooks, timing wrappers — at
about a tenth of the gateway's CPU per request (bench/README.md). For `http://`
upstreams served by `PlainHTTPTransport`, `open` skips it; https and proxied requests
keep httpx's whole path. Skipping the cookie jar is also what a gateway wants: a
`Set-Cookie` from an upstream must not ride along on another client's request.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from .plain_http import PlainHTTPTransport

_httpx_log = logging.getLogger("httpx")  # its own logger: the same line, the same redaction


class UpstreamClient(httpx.AsyncClient):
    """An AsyncClient whose `open` sends a built request and returns the open response."""

    def __init__(self, *, plain: PlainHTTPTransport | None = None, **kwargs: Any) -> None:
        mounts = {"http://": plain} if plain is not None else None
        super().__init__(mounts=mounts, **kwargs)
        self._plain = plain
        #: What `build_request` would merge in: the default headers and the timeouts.
        self.default_headers = {k.lower(): v for k, v in self.headers.items()}
        self._timeouts = self.timeout.as_dict()

    def request_for(
        self, method: str, url: httpx.URL, content: bytes | None, headers: dict[str, str]
    ) -> httpx.Request:
        """`build_request`'s result for a request with no params, cookies or auth
        (`headers` lower-cased, overriding the defaults), built without the merging."""
        return httpx.Request(
            method,
            url,
            content=content,
            headers={**self.default_headers, **headers},
            extensions={"timeout": self._timeouts},  # a dict per request: httpx's may add keys
        )

    async def open(self, request: httpx.Request) -> httpx.Response:
        """`send(request, stream=True)`, straight to the plain-http transport when it
        serves the URL."""
        if self._plain is None or request.url.scheme != "http":
            return await self.send(request, stream=True)
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        try:
            response = await self._plain.handle_async_request(request)
        except httpx.RequestError as exc:
            try:
                exc.request  # noqa: B018 - set by httpx's send; set it the same way here
            except RuntimeError:
                exc.request = request
            raise
        response.request = request
        _httpx_log.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
        return response
