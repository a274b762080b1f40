"""Protocol-neutral simulator logic: what a request asked for, and what to answer.

Each protocol module reduces its request to a `Conversation`; `make_plan`
turns that plus the `Options` (directives in the text, or scripted by a test)
into a `Plan`; the protocol module renders the plan as its own JSON or SSE.
Keeping the decision here means every protocol answers an equivalent request
with the same text, which lets a gateway test compare them directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .._json import compact_json
from .json_fit import fit_schema

__all__ = [
    "DEFAULT_MODELS",
    "Conversation",
    "InvalidRequestError",
    "Options",
    "Plan",
    "lorem_words",
    "make_plan",
    "parse_directives",
    "split_fragments",
]

DEFAULT_MODELS: tuple[str, ...] = ("sim-chat", "sim-fast", "sim-vision", "sim-reasoner")

#: Compact JSON, as the real services send it.
dumps = compact_json

_DIRECTIVE = re.compile(r"\[\[sim:([a-z_]+)(?:=([^\]]*))?\]\]")
_QUOTE_LIMIT = 400
_SYSTEM_WORDS = 8
_FRAGMENT = 8


class InvalidRequestError(Exception):
    """The request breaks its protocol; rendered as that protocol's 400."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(slots=True)
class Options:
    """Misbehaviour asked for by `[[sim:...]]` directives or by `Simulator.script`."""

    fail: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    words: int | None = None
    drop_after: int | None = None
    html: bool = False
    cached: int | None = None  # prompt tokens to report as read from a cache

    def merged(self, over: Options) -> Options:
        """These options with every field `over` sets taking precedence."""
        return replace(
            self,
            fail=over.fail if over.fail is not None else self.fail,
            retry_after=over.retry_after if over.retry_after is not None else self.retry_after,
            delay=over.delay if over.delay is not None else self.delay,
            words=over.words if over.words is not None else self.words,
            drop_after=over.drop_after if over.drop_after is not None else self.drop_after,
            html=over.html or self.html,
            cached=over.cached if over.cached is not None else self.cached,
        )


NO_OPTIONS = Options()


@dataclass(slots=True)
class Conversation:
    """The parts of a chat request the simulator reacts to, whatever its protocol."""

    model: str
    system: str = ""
    message_count: int = 0
    user_text: str = ""
    images: list[str] = field(default_factory=list)
    tool_results: list[tuple[str, str]] = field(default_factory=list)
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tool_mode: str = "auto"  # "auto" | "none" | "required"
    forced_tool: str | None = None
    allowed_tools: list[str] | None = None
    text_chars: int = 0
    max_tokens: int | None = None
    stream: bool = False
    include_usage: bool = False
    #: Structured output asked for: "json_object" (any object) or "json_schema".
    output: str | None = None
    output_schema: dict[str, Any] | None = None
    choices: int = 1  # OpenAI's `n`, Gemini's `candidateCount`
    thinking: bool = False  # the request asks to see the model's reasoning


@dataclass(slots=True)
class Plan:
    """The reply: text chunks, or one tool call whose JSON arguments arrive as fragments."""

    chunks: list[str]
    finish: str  # "stop" | "length" | "tool"
    input_tokens: int
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    cached_tokens: int = 0  # of input_tokens, read from a cache
    reasoning: str | None = None  # thinking text, shown when the request asked for it
    signature: str | None = None  # what a reasoning model signs its reasoning with

    @property
    def text(self) -> str:
        """The reply text, or the tool call's JSON arguments."""
        return "".join(self.chunks)

    @property
    def output_tokens(self) -> int:
        """One token per chunk (a word, or a fragment of the arguments)."""
        return len(self.chunks)


def parse_directives(text: str) -> tuple[str, Options]:
    """Strip `[[sim:key=value]]` directives from `text`; unknown or bad ones are ignored."""
    if "[[sim:" not in text:
        return text, NO_OPTIONS
    opts = Options()
    for key, value in _DIRECTIVE.findall(text):
        try:
            if key == "words":
                opts.words = max(int(value), 0)
            elif key == "delay":
                opts.delay = max(float(value), 0.0)
            elif key == "fail":
                opts.fail = int(value)
            elif key == "retry_after":
                opts.retry_after = max(float(value), 0.0)
            elif key == "drop_after":
                opts.drop_after = max(int(value), 0)
            elif key == "html":
                opts.html = True
            elif key == "cached":
                opts.cached = max(int(value), 0)
        except ValueError:
            continue
    return _DIRECTIVE.sub("", text), opts


def text_tokens(chars: int) -> int:
    """The simulator's token count: one token per four characters, rounded up."""
    return -(-chars // 4)


_LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur "
    "excepteur sint occaecat cupidatat non proident sunt in culpa qui officia deserunt "
    "mollit anim id est laborum"
).split()


def lorem_words(n: int) -> list[str]:
    """`n` deterministic lorem-ipsum words as chunks (each but the last ends with a space)."""
    out: list[str] = []
    size = len(_LOREM)
    capital = True
    for i in range(n):
        word = _LOREM[(i * 7 + i // size) % size]
        if capital:
            word = word.capitalize()
        end = i == n - 1 or i % 11 == 10
        capital = end
        out.append(word + "." if end else word)
    return _spaced(out)


def _spaced(words: list[str]) -> list[str]:
    """Words as stream chunks: each followed by the space that separates it from the next."""
    return [w + " " for w in words[:-1]] + words[-1:]


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _reply_words(conv: Conversation) -> list[str]:
    """The default reply: a short Markdown paragraph describing what arrived."""
    n = conv.message_count
    first = f"**{conv.model}** received {n} message{'' if n == 1 else 's'}"
    if conv.images:
        k = len(conv.images)
        first += f" ({k} image{'' if k == 1 else 's'}: {', '.join(conv.images)})"
    parts = [first + "."]
    if conv.system:
        words = conv.system.split()
        snippet = " ".join(words[:_SYSTEM_WORDS]) + ("…" if len(words) > _SYSTEM_WORDS else "")
        parts.append(f"System: “{snippet}”.")
    quote = _collapse(conv.user_text)
    if len(quote) > _QUOTE_LIMIT:
        quote = quote[:_QUOTE_LIMIT].rstrip() + "…"
    parts.append(f"You said: “{quote}”" if quote else "You sent no text.")
    return " ".join(parts).split(" ")


def _tool_reply_words(results: list[tuple[str, str]]) -> list[str]:
    sentences = [f"Tool {name} returned: {_collapse(text)}" for name, text in results]
    return " ".join(sentences).split(" ")


def _pick_tool(conv: Conversation) -> str | None:
    """The tool to call: the forced one, else the first tool named in the user text."""
    if not conv.tools or conv.tool_results or conv.tool_mode == "none":
        return None
    names = [name for name, _ in conv.tools]
    if conv.allowed_tools is not None:
        names = [n for n in names if n in conv.allowed_tools]
        if not names:
            return None
    if conv.forced_tool is not None:
        return conv.forced_tool if conv.forced_tool in names else None
    text = conv.user_text
    found = [(text.find(n), -len(n), n) for n in names if n and n in text]
    if found:
        return min(found)[2]
    if conv.tool_mode == "required":
        return names[0]
    return None


def split_fragments(text: str, size: int = _FRAGMENT) -> list[str]:
    """Split JSON text into the small pieces real upstreams stream tool arguments in."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def reasons(model: str) -> bool:
    """Reasoning models (`sim-reasoner`) think, sign their thinking, and want the
    signature back on tool-call turns, as Claude and Gemini 3 do."""
    return "reasoner" in model


def signature_for(model: str) -> str:
    """The signature a reasoning model puts on its thinking (checked when replayed)."""
    return f"sim-signature-{model}"


def make_plan(conv: Conversation, opts: Options) -> Plan:
    """Decide the reply. Pure: the same conversation and options give the same plan.

    Structured output (`conv.output`) is JSON fitting the schema (`{}` for any object),
    streamed in fragments like tool arguments."""
    plan = _make_plan(conv, opts)
    if reasons(conv.model):
        plan.signature = signature_for(conv.model)
        if conv.thinking:
            plan.reasoning = f"Reasoning about {conv.message_count} message(s)."
    return plan


def _make_plan(conv: Conversation, opts: Options) -> Plan:
    input_tokens = text_tokens(conv.text_chars)
    cached = min(opts.cached or 0, input_tokens)
    tool = _pick_tool(conv)
    if tool is not None:
        schema = next(s for n, s in conv.tools if n == tool)
        args = fit_schema(schema or {"type": "object"}, all_properties=False)
        if not isinstance(args, dict):
            args = {}
        return Plan(split_fragments(dumps(args)), "tool", input_tokens, tool, args, cached)
    if conv.output is not None:
        value = fit_schema(conv.output_schema) if conv.output_schema else {}
        chunks = split_fragments(dumps(value))
    elif conv.tool_results:
        chunks = _spaced(_tool_reply_words(conv.tool_results))
    elif opts.words is not None:
        chunks = lorem_words(opts.words)
    else:
        chunks = _spaced(_reply_words(conv))
    finish = "stop"
    if conv.max_tokens is not None and 0 < conv.max_tokens < len(chunks):
        chunks = chunks[: conv.max_tokens]
        finish = "length"
    return Plan(chunks, finish, input_tokens, cached_tokens=cached)


def media_type_of_url(url: str) -> str:
    """The media type of a `data:` URL, else a guess from the file name, else `image`."""
    if url.startswith("data:"):
        head = url[5:].split(",", 1)[0]
        return head.split(";", 1)[0] or "image"
    path = url.split("?", 1)[0].lower()
    for ext, mime in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".webp", "image/webp"),
    ):
        if path.endswith(ext):
            return mime
    return "image"
