"""Model groups through a real gateway, with the official SDKs: a member that is down,
failing or rate limited before the first byte hands the request to the next member, in
every client format, streamed or not; the strategies pick the first member to try."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.providers import key_health, transport
from cherry_nb.simulator import SimulatorThread

from .conftest import GATEWAY_KEY

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"


def dead_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SimulatorThread]]:
    upstream = SimulatorThread(api_key=None)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("groups") / "config.json")
    for provider_type in ("openai", "anthropic"):
        registry.add(
            id=f"g-{provider_type}",
            name=f"Group member {provider_type}",
            type=provider_type,
            base_url=upstream.base_url(provider_type),
            api_key="sim-group-key-0123456789",
            models=["sim-chat"],
        )
    registry.add(
        id="cool-anthropic",
        name="Cools down",
        type="anthropic",
        base_url=upstream.base_url("anthropic"),
        api_key="sim-cooling-key-0123456789",
        models=["sim-chat"],
    )
    registry.add(
        id="dead", name="Down", base_url=f"http://127.0.0.1:{dead_port()}/v1", models=["sim-chat"]
    )
    registry.add_group("down-first", ["dead:sim-chat", "g-openai:sim-chat"])
    registry.add_group("flaky", ["g-anthropic:sim-chat", "g-openai:sim-chat"])
    registry.add_group("rr", ["g-openai:sim-chat", "g-anthropic:sim-chat"], strategy="round-robin")
    registry.add_group("lb", ["g-openai:sim-chat", "g-anthropic:sim-chat"], strategy="least-busy")
    registry.add_group("cooling", ["cool-anthropic:sim-chat", "g-openai:sim-chat"])
    # An Anthropic member (no embeddings endpoint) is skipped, a dead one handed over.
    registry.add_group("embed", ["g-anthropic:sim-chat", "dead:sim-embed", "g-openai:sim-embed"])
    registry.set_server(api_key=GATEWAY_KEY)
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        assert server.url is not None
        yield server.url, upstream
    finally:
        server.stop()
        upstream.stop()


_CLIENTS: list[openai.OpenAI | anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def no_backoff(
    monkeypatch: pytest.MonkeyPatch, gateway: tuple[str, SimulatorThread]
) -> Iterator[None]:
    """Backoffs not taken (the gateway's transport runs in this process); no leftovers."""

    async def skipped(seconds: float) -> None:
        return None

    monkeypatch.setattr(transport, "_backoff", skipped)
    key_health.HEALTH.reset()
    gateway[1].clear_script()
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def posts(upstream: SimulatorThread, since: int) -> list[str]:
    """The paths of the chat requests the upstream saw since `since`."""
    return [r.path for r in upstream.requests[since:] if r.method == "POST"]


def openai_client(url: str) -> openai.OpenAI:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=GATEWAY_KEY, max_retries=0)
    _CLIENTS.append(client)
    return client


def anthropic_client(url: str) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=url, api_key=GATEWAY_KEY, max_retries=0)
    _CLIENTS.append(client)
    return client


USER = [{"role": "user", "content": "hello there"}]


def anthropic_text(client: anthropic.Anthropic, model: str, *, stream: bool) -> str:
    """The reply's text, streamed or not."""
    if stream:
        with client.messages.stream(model=model, max_tokens=64, messages=USER) as events:
            return events.get_final_text()
    reply = client.messages.create(model=model, max_tokens=64, messages=USER)
    return "".join(block.text for block in reply.content if block.type == "text")


# ---- a member that is down: served by the next, in every client format -------------------


@pytest.mark.parametrize("stream", [False, True])
def test_openai_client_served_past_a_dead_member(gateway, stream):
    url, upstream = gateway
    since = len(upstream.requests)
    client = openai_client(url)
    if stream:
        chunks = list(
            client.chat.completions.create(model="down-first", messages=USER, stream=True)
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        reply = client.chat.completions.create(model="down-first", messages=USER)
        text = reply.choices[0].message.content or ""
    assert "hello" in text
    assert posts(upstream, since) == [CHAT_PATH]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client_served_past_a_dead_member(gateway, stream):
    url, upstream = gateway
    assert "hello" in anthropic_text(anthropic_client(url), "down-first", stream=stream)


@pytest.mark.parametrize("stream", [False, True])
def test_responses_client_served_past_a_dead_member(gateway, stream):
    url, _ = gateway
    client = openai_client(url)
    if stream:
        events = list(client.responses.create(model="down-first", input="hello there", stream=True))
        done = [e for e in events if e.type == "response.completed"]
        text = done[0].response.output_text
    else:
        text = client.responses.create(model="down-first", input="hello there").output_text
    assert "hello" in text


def test_the_group_in_the_path_ignores_the_body_model(gateway):
    url, upstream = gateway
    client = anthropic_client(f"{url}/down-first")
    reply = client.messages.create(model="anything", max_tokens=64, messages=USER)
    assert reply.content[0].type == "text" and "hello" in reply.content[0].text
    raw = httpx.post(
        f"{url}/flaky/v1/chat/completions",
        headers=AUTH,
        json={"model": "flaky", "messages": USER},
    )
    assert raw.status_code == 200, raw.text


# ---- upstream errors before the first byte ------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", [503, 429])
def test_a_failing_member_hands_over_to_the_next(gateway, stream, status):
    url, upstream = gateway
    since = len(upstream.requests)
    upstream.script(fail=status, retry_after=0, count=1)
    assert "hello" in anthropic_text(anthropic_client(url), "flaky", stream=stream)
    assert posts(upstream, since) == [MESSAGES_PATH, CHAT_PATH]


def test_a_bad_request_does_not_fall_over(gateway):
    url, upstream = gateway
    since = len(upstream.requests)
    upstream.script(fail=400, count=1)
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client(url).messages.create(model="flaky", max_tokens=64, messages=USER)
    assert posts(upstream, since) == [MESSAGES_PATH]  # the next member would refuse it too


def test_when_every_member_fails_the_error_names_them(gateway):
    url, upstream = gateway
    upstream.script(fail=503, count=5)
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client(url).chat.completions.create(model="flaky", messages=USER)
    message = str(caught.value)
    assert "g-anthropic:sim-chat" in message and "flaky" in message


def test_after_the_first_byte_the_stream_ends_with_the_error_event(gateway):
    url, upstream = gateway
    since = len(upstream.requests)
    upstream.script(drop_after=2, count=1)
    with httpx.stream(
        "POST",
        f"{url}/v1/chat/completions",
        headers=AUTH,
        json={"model": "flaky", "messages": USER, "stream": True},
    ) as response:
        assert response.status_code == 200
        body = response.read().decode()
    error_events = [line for line in body.splitlines() if line.startswith('data: {"error"')]
    assert len(error_events) == 1 and '"finish_reason":"stop"' not in body
    assert posts(upstream, since) == [MESSAGES_PATH]  # no second member once bytes were sent


def test_a_member_whose_key_cools_down_is_tried_last(gateway):
    url, upstream = gateway
    client = openai_client(url)
    upstream.script(fail=429, retry_after=30, count=1)
    since = len(upstream.requests)
    client.chat.completions.create(model="cooling", messages=USER)
    assert posts(upstream, since) == [MESSAGES_PATH, CHAT_PATH]
    since = len(upstream.requests)
    client.chat.completions.create(model="cooling", messages=USER)
    assert posts(upstream, since) == [CHAT_PATH]  # its key is cooling: straight to the next


# ---- strategies ---------------------------------------------------------------------------


def test_round_robin_alternates_the_first_member(gateway):
    url, upstream = gateway
    since = len(upstream.requests)
    client = openai_client(url)
    for _ in range(4):
        client.chat.completions.create(model="rr", messages=USER)
    seen = posts(upstream, since)
    assert sorted(seen[:2]) == sorted([CHAT_PATH, MESSAGES_PATH])
    assert seen[2:] == seen[:2]


def test_least_busy_starts_with_the_idle_member(gateway):
    url, upstream = gateway
    client = openai_client(url)
    upstream.script(delay=0.05, words=200, count=1)  # a long stream keeps g-openai busy
    since = len(upstream.requests)
    with client.chat.completions.create(model="lb", messages=USER, stream=True) as busy:
        next(iter(busy))  # the stream has begun: its member counts as busy
        client.chat.completions.create(model="lb", messages=USER)
    assert posts(upstream, since) == [CHAT_PATH, MESSAGES_PATH]


# ---- the model list -----------------------------------------------------------------------


def test_groups_are_listed_as_models(gateway):
    url, _ = gateway
    models = {m.id: m for m in openai_client(url).models.list()}
    group = models["down-first"].model_dump()
    assert group["owned_by"] == "cherry-nb-group"
    assert group["members"] == ["dead:sim-chat", "g-openai:sim-chat"]
    assert group["strategy"] == "fallback"
    assert "g-openai:sim-chat" in models


@pytest.mark.parametrize("path", ["/v1", "/embed/v1"])
def test_embeddings_served_past_a_dead_member(gateway, path):
    from cherry_nb.simulator.embeddings import embedding_vector

    url, _ = gateway
    with openai.OpenAI(base_url=url + path, api_key=GATEWAY_KEY, max_retries=0) as client:
        result = client.embeddings.create(
            model="embed", input=["hello", "world"], encoding_format="float"
        )
    assert [d.index for d in result.data] == [0, 1]
    expected = embedding_vector("sim-embed", "hello")
    assert result.data[0].embedding == pytest.approx(list(expected), rel=1e-6)
