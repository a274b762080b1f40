"""An open upstream reply, as a relay sees it: no httpx beyond this module's walls.

The adapter opens the request (retries, key rotation, error statuses) and hands back an
`UpstreamStream`: the status, the content type, the headers, the body as raw chunks and
`aclose`. Transport failures while the body is read arrive as cherry_nb errors, already
mapped with the provider's name and address, so a relay only ever catches CherryError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import httpx

from .._exceptions import CherryError

ErrorMapper = Callable[[httpx.HTTPError], CherryError]


class UpstreamStream:
    """One open upstream reply; read `chunks()` or `read()` once, then it is closed."""

    __slots__ = ("_response", "_map_error", "status", "content_type", "headers")

    def __init__(self, response: httpx.Response, map_error: ErrorMapper) -> None:
        self._response = response
        self._map_error = map_error
        self.status: int = response.status_code
        self.content_type: str = response.headers.get("content-type", "")
        self.headers: Mapping[str, str] = response.headers

    @property
    def media_type(self) -> str:
        """The content type without parameters, lowercased ("" when none was sent)."""
        return self.content_type.partition(";")[0].strip().lower()

    @property
    def is_event_stream(self) -> bool:
        """Server-sent events, or no content type at all (some servers send none)."""
        return self.media_type in ("text/event-stream", "")

    @property
    def is_json(self) -> bool:
        media = self.media_type
        return media == "application/json" or media.endswith("+json")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive, undecoded; closes the reply at the end."""
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise self._map_error(exc) from exc
        finally:
            await self._response.aclose()

    async def read(self) -> bytes:
        """The whole (decoded) body; closes the reply."""
        try:
            return await self._response.aread()
        except httpx.HTTPError as exc:
            raise self._map_error(exc) from exc
        finally:
            await self._response.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()
