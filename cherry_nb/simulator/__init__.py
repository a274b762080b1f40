"""An offline LLM provider on 127.0.0.1: the demo upstream, the test double, the benchmark target.

One HTTP/1.1 server answers the OpenAI, Anthropic, Gemini and Azure OpenAI
routes with each service's real JSON and SSE, so the official SDKs work
against it unchanged. Replies are deterministic Markdown describing what
arrived, and embeddings are deterministic unit vectors (`embedding_vector`);
`[[sim:...]]` directives in the user text (or `Simulator.script`)
provoke delays, long replies, error statuses, dropped streams and HTML pages.

    async with Simulator() as sim:
        client = openai.AsyncOpenAI(base_url=sim.base_url("openai"), api_key="k")

    with SimulatorThread() as sim:   # sync callers: notebooks, the CLI
        print(sim.url)
"""

from __future__ import annotations

from .embeddings import EMBEDDING_MODELS, embedding_vector
from .plan import DEFAULT_MODELS
from .runner import SimulatorThread, serve
from .server import PROVIDER_TYPES, RecordedRequest, Simulator

__all__ = [
    "DEFAULT_MODELS",
    "EMBEDDING_MODELS",
    "PROVIDER_TYPES",
    "RecordedRequest",
    "Simulator",
    "SimulatorThread",
    "embedding_vector",
    "serve",
]
