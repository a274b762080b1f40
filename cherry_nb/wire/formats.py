"""Wire formats as objects: one per format, gathering its package's converters, looked up
once by name (`wire_format("anthropic")`).

A format package (`cherry_nb.wire.openai`, ...) keeps its module interface —
`parse_request`, `build_request`, `parse_response`, `build_response`, `StreamParser`,
`StreamWriter`, `build_error`, `parse_error` — and `WireFormat.of` gathers it, so the
adapters and the gateway hold one value per format and compare formats by identity, not
by string. Adding a format is one entry in `_FORMATS`.

`parse_request` is the one validator of a client's body, for translated and passthrough
requests alike (`check_request`): it refuses what the format itself forbids (a missing
`model`, a string where a number belongs), naming the field, and raises
`UntranslatableError` for what is valid but cannot be expressed in another format, which
is refused only when translating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from .._exceptions import UntranslatableError
from . import anthropic, gemini, openai, responses
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


def _no_options(body: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _openai_writer_options(body: Mapping[str, Any]) -> dict[str, Any]:
    """Usage rides in a last chunk only when the client asked (`stream_options`)."""
    options = body.get("stream_options")
    return {"include_usage": isinstance(options, Mapping) and bool(options.get("include_usage"))}


@dataclass(frozen=True, slots=True)
class WireFormat:
    """One wire format: its name and its package's converters."""

    name: str
    parse_request: Callable[..., ChatRequest]
    build_request: Callable[[ChatRequest], dict[str, Any]]
    parse_response: Callable[[Mapping[str, Any]], ChatResponse]
    build_response: Callable[[ChatResponse], dict[str, Any]]
    StreamParser: Callable[..., StreamReader]  # noqa: N815 - the package's class
    StreamWriter: Callable[..., StreamWriterProtocol]  # noqa: N815 - the package's class
    build_error: Callable[..., dict[str, Any]]
    parse_error: Callable[[int, bytes | str], tuple[str, str | None]]
    #: The StreamWriter's keyword arguments for a client's request body.
    writer_options: Callable[[Mapping[str, Any]], dict[str, Any]] = _no_options

    @classmethod
    def of(cls, name: str, package: ModuleType, **extra: Any) -> WireFormat:
        """The format whose converters are `package`'s module-level names."""
        return cls(
            name=name,
            parse_request=package.parse_request,
            build_request=package.build_request,
            parse_response=package.parse_response,
            build_response=package.build_response,
            StreamParser=package.StreamParser,
            StreamWriter=package.StreamWriter,
            build_error=package.build_error,
            parse_error=package.parse_error,
            **extra,
        )

    def check_request(self, body: Mapping[str, Any]) -> CheckedRequest:
        """THE validation of a client's body, before the upstream is known.

        A body the format forbids raises WireFormatError (`param` names the field); one
        that only another format cannot express is held until `CheckedRequest.to_translate`.
        """
        try:
            return CheckedRequest(self, self.parse_request(body), None)
        except UntranslatableError as error:
            return CheckedRequest(self, None, error)

    def stream_writer(self, body: Mapping[str, Any]) -> StreamWriterProtocol:
        """A writer of this format's stream, as the client's request asked for it."""
        return self.StreamWriter(**self.writer_options(body))

    def __repr__(self) -> str:
        return f"<wire format {self.name}>"


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A validated client body: its format, and its neutral request or why another format
    cannot carry it."""

    wire: WireFormat
    request: ChatRequest | None
    untranslatable: UntranslatableError | None

    def to_translate(self) -> ChatRequest:
        """The neutral request, for a translated call; raises the UntranslatableError
        when it has none. A passthrough call sends the body as it is and never asks."""
        if self.request is None:
            assert self.untranslatable is not None
            raise self.untranslatable
        return self.request


_FORMATS: dict[str, WireFormat] = {
    f.name: f
    for f in (
        WireFormat.of("openai", openai, writer_options=_openai_writer_options),
        WireFormat.of("anthropic", anthropic),
        WireFormat.of("gemini", gemini),
        WireFormat.of("responses", responses),
    )
}

OPENAI = _FORMATS["openai"]
ANTHROPIC = _FORMATS["anthropic"]
GEMINI = _FORMATS["gemini"]
RESPONSES = _FORMATS["responses"]


def wire_format(name: str) -> WireFormat:
    """The format called `name`; KeyError names the known ones."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise KeyError(f"No wire format {name!r}; known: {', '.join(_FORMATS)}.") from None


def wire_formats() -> tuple[WireFormat, ...]:
    """Every registered format."""
    return tuple(_FORMATS.values())
