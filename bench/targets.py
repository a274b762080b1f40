"""What each server under test is asked: the same chat, in each wire format it serves.

Kinds of request:
- `openai`: an OpenAI-format client, to an OpenAI-type upstream (passthrough);
- `anthropic`: an Anthropic-format client, to an Anthropic-type upstream (passthrough);
- `translated`: an Anthropic-format client, to an OpenAI-type upstream;
- `openai_to_anthropic`: an OpenAI-format client, to an Anthropic-type upstream.
Direct-to-simulator serves the first two; it has nothing to translate. The floor
serves non-streaming `openai` requests only.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadgen import Workload
from procs import GATEWAY_KEY, LITELLM_KEY, Server

KINDS = ("openai", "anthropic", "translated", "openai_to_anthropic")
DONE = {
    "openai": b"[DONE]",
    "anthropic": b"message_stop",
    "translated": b"message_stop",
    "openai_to_anthropic": b"[DONE]",
}
#: The direct stream each kind is compared with: the upstream's own format.
UPSTREAM = {
    "openai": "openai",
    "anthropic": "anthropic",
    "translated": "openai",
    "openai_to_anthropic": "anthropic",
}
PROMPT = "Hello there"


@dataclass(frozen=True)
class Route:
    path: str
    model: str
    headers: tuple[tuple[str, str], ...]


@dataclass
class Target:
    """A server under test and the route of each kind of request it serves."""

    name: str
    server: Server
    routes: dict[str, Route]
    gateway: bool = False  # a cherry_nb gateway (memory and startup are measured for it)
    streams: bool = True  # measured in the streaming phases too
    requests: int = 0  # sent so far, for the record

    def work(
        self, kind: str, *, stream: bool = False, words: int | None = None, pace: float = 0.0
    ) -> Workload:
        """The request of `kind`; `words` chunks long, and `pace` seconds between chunks
        (the simulator's directives), if given."""
        route = self.routes[kind]
        text = PROMPT if words is None else f"[[sim:words={words}]] {PROMPT}"
        if pace:
            text = f"[[sim:delay={pace}]] {text}"
        body: dict[str, object] = {"model": route.model}
        if DONE[kind] == b"message_stop":  # an Anthropic-format client
            body["max_tokens"] = 4096
        body["messages"] = [{"role": "user", "content": text}]
        if stream:
            body["stream"] = True
        return Workload(
            self.server.port,
            route.path,
            route.headers,
            body,
            DONE[kind] if stream else b"",
        )


_ANTHROPIC_VERSION = ("anthropic-version", "2023-06-01")


def direct(server: Server) -> Target:
    openai = (("Authorization", "Bearer sk-sim"),)
    anthropic = (("x-api-key", "sk-sim"), _ANTHROPIC_VERSION)
    return Target(
        "direct",
        server,
        {
            "openai": Route("/v1/chat/completions", "sim-chat", openai),
            "anthropic": Route("/v1/messages", "sim-chat", anthropic),
        },
    )


def floor(server: Server, name: str = "floor") -> Target:
    openai = (("Authorization", "Bearer sk-floor"),)
    route = Route("/v1/chat/completions", "sim-chat", openai)
    return Target(name, server, {"openai": route}, streams=False)


def relay_floor(server: Server) -> Target:
    """`bench/relay_floor.py`: OpenAI requests as the simulator takes them, relayed."""
    openai = (("Authorization", "Bearer sk-sim"),)
    route = Route("/v1/chat/completions", "sim-chat", openai)
    return Target("relay floor", server, {"openai": route})


def gateway(name: str, server: Server, *, streams: bool = True) -> Target:
    openai = (("Authorization", f"Bearer {GATEWAY_KEY}"),)
    anthropic = (("x-api-key", GATEWAY_KEY), _ANTHROPIC_VERSION)  # as Claude Code sends it
    return Target(
        name,
        server,
        {
            "openai": Route("/v1/chat/completions", "sim:sim-chat", openai),
            "anthropic": Route("/v1/messages", "sima:sim-chat", anthropic),
            "translated": Route("/v1/messages", "sim:sim-chat", anthropic),
            "openai_to_anthropic": Route("/v1/chat/completions", "sima:sim-chat", openai),
        },
        gateway=True,
        streams=streams,
    )


def litellm(server: Server) -> Target:
    auth = (("Authorization", f"Bearer {LITELLM_KEY}"),)
    anthropic = (*auth, _ANTHROPIC_VERSION)
    return Target(
        "LiteLLM",
        server,
        {
            "openai": Route("/v1/chat/completions", "sim-chat", auth),
            "anthropic": Route("/v1/messages", "sim-anthropic", anthropic),
            "translated": Route("/v1/messages", "sim-chat", anthropic),
            "openai_to_anthropic": Route("/v1/chat/completions", "sim-anthropic", auth),
        },
    )
