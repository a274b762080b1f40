"""The usage ledger over real HTTP: after a mixed load through the gateway (official SDKs,
both formats and the Responses API, streamed and not, passed through and translated,
upstream errors, refused keys), its rows are what the clients saw, and /metrics counts
the same requests."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import anthropic
import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.gateway.usage import NO_ROUTE
from cherry_nb.ledger.records import UsageRecord
from cherry_nb.simulator import SimulatorThread

from .conftest import GATEWAY_KEY, SIM_KEY

# Provider ids no other test module uses, so this module's metric series are its own.
OAI, ANT, RESP = "led-openai", "led-anthropic", "led-responses"


@dataclass
class LedgerStack:
    upstream: SimulatorThread
    registry: ProviderRegistry
    server: GatewayServer
    script_key: str  # a named gateway key, "script"

    @property
    def url(self) -> str:
        assert self.server.url is not None
        return self.server.url

    def rows(self, since: float) -> list[UsageRecord]:
        recorder = self.server.recorder
        assert recorder is not None and recorder.ledger is not None
        return recorder.ledger.query(since=since)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        reply = httpx.get(f"{self.url}/metrics", headers={"x-api-key": GATEWAY_KEY})
        assert reply.status_code == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples
        }


@pytest.fixture(scope="module")
def led(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerStack]:
    upstream = SimulatorThread(api_key=SIM_KEY)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("ledger") / "config.json")
    for provider_id, kind in ((OAI, "openai"), (ANT, "anthropic"), (RESP, "openai-response")):
        registry.add(
            id=provider_id,
            name=provider_id,
            type=kind,
            base_url=upstream.base_url(kind),
            api_key=SIM_KEY,
            models=["sim-chat", "sim-reasoner"],
        )
    registry.set_server(api_key=GATEWAY_KEY, upstream_read_timeout=5.0)
    script_key = registry.add_gateway_key("script")
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        yield LedgerStack(upstream, registry, server, script_key)
    finally:
        server.stop()
        upstream.stop()


@dataclass
class Seen:
    """One request as its client saw it: what its ledger row must say."""

    route: str
    client_format: str
    key_name: str | None
    provider: str | None
    model: str | None
    status: int
    error_category: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    stream: bool = False

    @classmethod
    def of(cls, row: UsageRecord) -> Seen:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def _openai_seen(usage: openai.types.CompletionUsage | None, **fields: object) -> Seen:
    """A Chat Completions client's view: its usage counts every prompt token."""
    tokens = {}
    if usage is not None:
        details = usage.prompt_tokens_details
        tokens = {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "cached_tokens": (details.cached_tokens or 0) if details else 0,
        }
    return Seen("/v1/chat/completions", "openai", **tokens, **fields)


def _anthropic_seen(usage: anthropic.types.Usage, **fields: object) -> Seen:
    """A Messages client's view: Anthropic counts cached prompt tokens apart."""
    cached = usage.cache_read_input_tokens or 0
    return Seen(
        "/v1/messages",
        "anthropic",
        input_tokens=usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0),
        output_tokens=usage.output_tokens,
        cached_tokens=cached,
        **fields,
    )


def _responses_seen(usage: openai.types.responses.ResponseUsage, **fields: object) -> Seen:
    return Seen(
        "/v1/responses",
        "responses",
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.input_tokens_details.cached_tokens,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens,
        **fields,
    )


def test_rows_after_a_mixed_load_are_what_the_clients_saw(led: LedgerStack) -> None:
    since = time.time()
    metrics_before = led.metrics()
    seen: list[Seen] = []
    oai = openai.OpenAI(base_url=f"{led.url}/v1", api_key=GATEWAY_KEY, max_retries=0)
    script = openai.OpenAI(base_url=f"{led.url}/v1", api_key=led.script_key, max_retries=0)
    ant = anthropic.Anthropic(base_url=led.url, api_key=led.script_key, max_retries=0)
    hello = [{"role": "user", "content": "hello ledger [[sim:cached=3]]"}]
    default, named = {"key_name": "default"}, {"key_name": "script"}

    # Chat Completions, passed through: whole, streamed with usage, streamed without.
    reply = oai.chat.completions.create(model=f"{OAI}:sim-chat", messages=hello)
    seen.append(_openai_seen(reply.usage, provider=OAI, model="sim-chat", status=200, **default))
    chunks = list(
        script.chat.completions.create(
            model=f"{OAI}:sim-chat",
            messages=hello,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens_details
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens == 3
    seen.append(
        _openai_seen(
            chunks[-1].usage, provider=OAI, model="sim-chat", status=200, stream=True, **named
        )
    )
    chunks = list(oai.chat.completions.create(model=f"{OAI}:sim-chat", messages=hello, stream=True))
    assert all(chunk.usage is None for chunk in chunks)  # not asked for: none recorded either
    seen.append(
        _openai_seen(None, provider=OAI, model="sim-chat", status=200, stream=True, **default)
    )

    # Chat Completions translated to a Messages upstream.
    reply = oai.chat.completions.create(model=f"{ANT}:sim-chat", messages=hello)
    seen.append(_openai_seen(reply.usage, provider=ANT, model="sim-chat", status=200, **default))
    chunks = list(
        oai.chat.completions.create(
            model=f"{ANT}:sim-chat",
            messages=hello,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    seen.append(
        _openai_seen(
            chunks[-1].usage, provider=ANT, model="sim-chat", status=200, stream=True, **default
        )
    )

    # Messages, passed through and translated, whole and streamed.
    for provider in (ANT, OAI):
        message = ant.messages.create(
            model=f"{provider}:sim-chat",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi from claude [[sim:cached=2]]"}],
        )
        seen.append(
            _anthropic_seen(message.usage, provider=provider, model="sim-chat", status=200, **named)
        )
        with ant.messages.stream(
            model=f"{provider}:sim-chat",
            max_tokens=100,
            messages=[{"role": "user", "content": "stream it [[sim:words=12]]"}],
        ) as stream:
            final = stream.get_final_message()
        seen.append(
            _anthropic_seen(
                final.usage, provider=provider, model="sim-chat", status=200, stream=True, **named
            )
        )

    # The Responses API: passed through (with reasoning tokens) and translated.
    response = oai.responses.create(
        model=f"{RESP}:sim-reasoner", input="think [[sim:words=5]]", reasoning={"effort": "low"}
    )
    assert response.usage is not None and response.usage.output_tokens_details.reasoning_tokens
    seen.append(
        _responses_seen(response.usage, provider=RESP, model="sim-reasoner", status=200, **default)
    )
    completed = None
    for event in oai.responses.create(model=f"{RESP}:sim-chat", input="stream", stream=True):
        if event.type == "response.completed":
            completed = event.response
    assert completed is not None and completed.usage is not None
    seen.append(
        _responses_seen(
            completed.usage, provider=RESP, model="sim-chat", status=200, stream=True, **default
        )
    )
    response = oai.responses.create(model=f"{ANT}:sim-chat", input="translated")
    assert response.usage is not None
    seen.append(
        _responses_seen(response.usage, provider=ANT, model="sim-chat", status=200, **default)
    )

    # An upstream's error before the first byte, and one after it (the stream cut off).
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(
            model=f"{OAI}:sim-chat",
            messages=[{"role": "user", "content": "[[sim:fail=429]][[sim:retry_after=3600]]"}],
        )
    seen.append(
        Seen("/v1/chat/completions", "openai", "default", OAI, "sim-chat", 429, "rate_limited")
    )
    started = None
    with pytest.raises(anthropic.APIStatusError, match="incomplete|closed|dropped"):
        with ant.messages.stream(
            model=f"{ANT}:sim-chat",
            max_tokens=100,
            messages=[{"role": "user", "content": "cut [[sim:words=40]][[sim:drop_after=5]]"}],
        ) as stream:
            for event in stream:
                if event.type == "message_start":
                    started = event.message.usage
    assert started is not None  # what was stated before the cut is what was spent
    cut = _anthropic_seen(started, provider=ANT, model="sim-chat", status=502, stream=True, **named)
    cut.error_category = "network"  # the upstream dropped the connection
    seen.append(cut)

    # The gateway's own refusals: keys, an unknown model, a bad body, no such route.
    url = f"{led.url}/v1/chat/completions"
    body = {"model": f"{OAI}:sim-chat", "messages": hello}
    assert httpx.post(url, json=body).status_code == 401
    seen.append(Seen("/v1/chat/completions", "openai", None, None, None, 401, "gateway_key"))
    assert httpx.post(url, json=body, headers={"x-api-key": "cs-sk-wrong"}).status_code == 403
    seen.append(Seen("/v1/chat/completions", "openai", None, None, None, 403, "gateway_key"))
    headers = {"x-api-key": GATEWAY_KEY}
    unknown = httpx.post(url, json={**body, "model": "no-such-model"}, headers=headers)
    assert unknown.status_code == 404  # no provider lists it: the gateway answers
    seen.append(
        Seen("/v1/chat/completions", "openai", "default", None, None, 404, "model_not_found")
    )
    unknown = httpx.post(url, json={**body, "model": f"{OAI}:nope"}, headers=headers)
    assert unknown.status_code == 404  # sent on: the upstream answers
    seen.append(
        Seen("/v1/chat/completions", "openai", "default", OAI, "nope", 404, "model_not_found")
    )
    bad = httpx.post(url, json={**body, "messages": "not a list"}, headers=headers)
    assert bad.status_code == 400
    seen.append(Seen("/v1/chat/completions", "openai", "default", None, None, 400, "bad_request"))
    assert httpx.get(f"{led.url}/v1/nothing", headers=headers).status_code == 404
    seen.append(Seen(NO_ROUTE, "openai", "default", None, None, 404, "bad_request"))
    assert httpx.get(f"{led.url}/v1/models", headers=headers).status_code == 200
    seen.append(Seen("/v1/models", "openai", "default", None, None, 200))
    # Not usage: what monitors and browsers poll.
    assert httpx.get(f"{led.url}/health").status_code == 200
    assert httpx.get(f"{led.url}/api-docs.json").status_code == 200

    rows = led.rows(since)
    assert [Seen.of(row) for row in rows] == seen
    for row, expected in zip(rows, seen, strict=True):
        assert row.duration_ms > 0
        # Time to first byte: for streams that began (the cut one too), within the whole.
        if expected.stream and (expected.status < 400 or expected is cut):
            assert row.ttft_ms is not None and 0 < row.ttft_ms <= row.duration_ms
        else:
            assert row.ttft_ms is None

    # /metrics counted the same requests (it is not recorded itself).
    after = led.metrics()

    def delta(name: str, **labels: str) -> float:
        def total(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
            return sum(
                value
                for (sample, got), value in metrics.items()
                if sample == name and labels.items() <= dict(got).items()
            )

        return total(after) - total(metrics_before)

    for provider in (OAI, ANT, RESP):
        mine = [row for row in rows if row.provider == provider]
        assert delta("cherry_nb_requests_total", provider=provider) == len(mine)
        for kind, field in (("input", "input_tokens"), ("output", "output_tokens")):
            spent = sum(getattr(row, field) for row in mine)
            assert delta("cherry_nb_tokens_total", provider=provider, kind=kind) == spent
    by_class = Counter(f"{row.status // 100}xx" for row in rows)
    for status_class, count in by_class.items():
        assert delta("cherry_nb_requests_total", status_class=status_class) == count
    assert delta("cherry_nb_errors_total", category="gateway_key") == 2
    streamed = sum(1 for row in rows if row.ttft_ms is not None)
    assert delta("cherry_nb_time_to_first_token_seconds_count") == streamed


def test_a_client_that_leaves_mid_stream_is_recorded_as_499(led: LedgerStack) -> None:
    since = time.time()
    body = {
        "model": f"{ANT}:sim-chat",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "slow [[sim:words=50]][[sim:delay=0.2]]"}],
    }
    headers = {"x-api-key": led.script_key}
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", f"{led.url}/v1/messages", json=body, headers=headers) as reply:
            assert reply.status_code == 200
            first = b""
            for chunk in reply.iter_bytes():  # message_start, then leave
                first += chunk
                if b"\n\n" in first:
                    break
    event = json.loads(first.split(b"\n\n")[0].partition(b"data: ")[2])
    assert event["type"] == "message_start"
    started = anthropic.types.Usage.model_validate(event["message"]["usage"])
    # The gateway records it once it notices; wait for that (a bounded wait, not a timing).
    deadline = time.monotonic() + 30
    rows = led.rows(since)
    while not rows and time.monotonic() < deadline:
        time.sleep(0.05)
        rows = led.rows(since)
    left = _anthropic_seen(
        started, key_name="script", provider=ANT, model="sim-chat", status=499, stream=True
    )
    left.error_category = "interrupted"
    assert [Seen.of(row) for row in rows] == [left]
    assert rows[0].ttft_ms is not None


def test_a_client_that_leaves_once_it_has_read_the_end_is_not_interrupted(
    led: LedgerStack,
) -> None:
    # Streaming clients close as soon as they read the last event, which may be before
    # the gateway's end of the chunked body (or the upstream's end of its own) arrives.
    since = time.time()
    body = {
        "model": f"{OAI}:sim-chat",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "short [[sim:words=3]]"}],
    }
    with httpx.Client(timeout=30) as client:
        with client.stream(
            "POST", f"{led.url}/v1/chat/completions", json=body, headers={"x-api-key": GATEWAY_KEY}
        ) as reply:
            read = b""
            for chunk in reply.iter_raw():
                read += chunk
                if b"data: [DONE]" in read:
                    break
    deadline = time.monotonic() + 30
    rows = led.rows(since)
    while not rows and time.monotonic() < deadline:
        time.sleep(0.05)
        rows = led.rows(since)
    assert [(row.status, row.error_category) for row in rows] == [(200, None)]
    assert rows[0].output_tokens == 3
