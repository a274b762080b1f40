"""What the rest of the code base calls on a wire-format package, as Protocols.

A module satisfies a Protocol for a type checker, so the adapters and the gateway's
relay are checked against each format's real signatures instead of `ModuleType`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .neutral import ChatRequest, ChatResponse, StreamEvent
from .sse import SSEEvent


class StreamReader(Protocol):
    """Upstream SSE events in, neutral stream events out."""

    def feed(self, event: SSEEvent) -> list[StreamEvent]: ...

    def close(self) -> list[StreamEvent]: ...


class StreamWriterProtocol(Protocol):
    """Neutral stream events in, a client's SSE bytes out."""

    def write(self, event: StreamEvent) -> bytes: ...

    def error(self, message: str) -> bytes: ...


class UpstreamFormat(Protocol):
    """The converters an adapter needs to talk to an upstream in this format."""

    @property
    def StreamParser(self) -> Callable[..., StreamReader]: ...  # noqa: N802 - the module's class

    def build_request(self, request: ChatRequest) -> dict[str, Any]: ...

    def parse_response(self, body: Mapping[str, Any]) -> ChatResponse: ...

    def parse_error(self, status: int, body: bytes | str) -> tuple[str, str | None]: ...


class ClientFormat(Protocol):
    """The converters the gateway needs to answer a client in this format."""

    @property
    def StreamWriter(self) -> Callable[[], StreamWriterProtocol]: ...  # noqa: N802 - the module's class

    def parse_request(self, body: Mapping[str, Any]) -> ChatRequest: ...

    def build_response(self, response: ChatResponse) -> dict[str, Any]: ...
