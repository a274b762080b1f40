"""Auth, routing and upstream failures: right status, right envelope, never a hang."""

from __future__ import annotations

import json
import socket
import time

import anthropic
import httpx
import openai
import pytest

from .conftest import GATEWAY_KEY, Stack

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
CHAT = {"model": "up-openai:sim-chat", "messages": [{"role": "user", "content": "hi"}]}
MSG = {
    "model": "up-openai:sim-chat",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


def is_openai_error(response: httpx.Response) -> bool:
    body = response.json()
    return set(body) == {"error"} and {"message", "type", "param", "code"} <= set(body["error"])


def is_anthropic_error(response: httpx.Response) -> bool:
    body = response.json()
    return body.get("type") == "error" and {"type", "message"} <= set(body["error"])


@pytest.fixture
def http(stack: Stack):
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        yield client


def test_health_and_index_need_no_auth(http):
    health = http.get("/health").json()
    assert health["status"] == "ok" and health["version"] and health["uptime_seconds"] >= 0
    assert "/v1/chat/completions" in json.dumps(http.get("/").json())


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Basic abc"}, 401),
        ({"authorization": "Bearer"}, 401),
        ({"authorization": "Bearer wrong-key"}, 403),
        ({"x-api-key": "wrong-key"}, 403),
        ({"x-api-key": GATEWAY_KEY}, 200),
        ({"authorization": f"Bearer {GATEWAY_KEY}"}, 200),
        ({"authorization": f"Bearer {GATEWAY_KEY}", "x-api-key": "other"}, 403),
    ],
)
def test_auth_on_both_route_families(http, headers, status):
    openai_side = http.post("/v1/chat/completions", json=CHAT, headers=headers)
    anthropic_side = http.post("/v1/messages", json=MSG, headers=headers)
    assert openai_side.status_code == anthropic_side.status_code == status
    if status != 200:
        assert is_openai_error(openai_side)
        assert is_anthropic_error(anthropic_side)
        assert GATEWAY_KEY not in openai_side.text


def test_doubled_authorization_header_is_refused(stack):
    raw = (
        f"POST /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {GATEWAY_KEY}\r\n"
        f"Authorization: Bearer {GATEWAY_KEY}\r\nConnection: close\r\n\r\n"
    ).encode()
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw.replace(b"POST", b"GET"))
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 401")


def test_sdks_see_auth_errors_as_their_own_types(stack):
    with pytest.raises(openai.PermissionDeniedError):
        openai.OpenAI(base_url=f"{stack.url}/v1", api_key="nope", max_retries=0).models.list()
    with pytest.raises(anthropic.PermissionDeniedError):
        anthropic.Anthropic(base_url=stack.url, api_key="nope", max_retries=0).messages.create(
            model="up-openai:sim-chat", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )


def test_models_list_and_filters(http):
    body = http.get("/v1/models", headers=AUTH).json()
    ids = [m["id"] for m in body["data"]]
    assert "up-gemini:sim-fast" in ids and not any(i.startswith("off:") for i in ids)
    first = body["data"][0]
    assert {"provider", "provider_name", "provider_type", "provider_model_id", "owned_by"} <= set(
        first
    )
    only = http.get("/v1/models", params={"providerType": "anthropic"}, headers=AUTH).json()
    assert {m["provider_type"] for m in only["data"]} == {"anthropic"}
    page = http.get("/v1/models", params={"limit": 2, "offset": 1}, headers=AUTH).json()
    assert [m["id"] for m in page["data"]] == ids[1:3]
    for params in ({"providerType": "cohere"}, {"limit": "0"}, {"offset": "-1"}, {"limit": "x"}):
        bad = http.get("/v1/models", params=params, headers=AUTH)
        assert bad.status_code == 400 and is_openai_error(bad)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
        (b'{"messages": []}', "model"),
        (b'{"model": "up-openai:sim-chat"}', "messages"),
        (b'{"model": 5, "messages": []}', "model"),
    ],
)
def test_malformed_bodies_are_400(http, body, param):
    response = http.post(
        "/v1/chat/completions", content=body, headers={**AUTH, "content-type": "application/json"}
    )
    assert response.status_code == 400 and is_openai_error(response)
    if param:
        assert response.json()["error"]["param"] == param


def test_anthropic_missing_max_tokens_is_400(http):
    body = {k: v for k, v in MSG.items() if k != "max_tokens"}
    response = http.post("/v1/messages", json=body, headers=AUTH)
    assert response.status_code == 400 and is_anthropic_error(response)
    assert "max_tokens" in response.json()["error"]["message"]


def test_unknown_provider_and_model_404_name_what_exists(http):
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "nope:x"}, headers=AUTH)
    assert response.status_code == 404 and "up-openai:sim-chat" in response.text
    response = http.post("/v1/messages", json={**MSG, "model": "up-gemini:gemini-9"}, headers=AUTH)
    assert response.status_code == 404 and is_anthropic_error(response)
    assert "sim-chat" in response.json()["error"]["message"]


def test_disabled_provider_says_so(http):
    response = http.post(
        "/v1/chat/completions", json={**CHAT, "model": "off:sim-chat"}, headers=AUTH
    )
    assert response.status_code == 404 and "disabled" in response.json()["error"]["message"]


def test_bare_model_listed_by_one_provider_goes_there(stack, http):
    stack.registry.add_models("up-anthropic", ["sim-vision"])
    try:
        response = http.post(
            "/v1/chat/completions", json={**CHAT, "model": "sim-vision"}, headers=AUTH
        )
        assert response.status_code == 200
        assert stack.upstream.requests[-1].path == "/v1/messages"  # up-anthropic's upstream
    finally:
        stack.registry.remove_models("up-anthropic", ["sim-vision"])


def test_bare_model_listed_by_several_providers_is_400_naming_them(http):
    # Every upstream of the stack lists sim-fast: the gateway must not pick one silently.
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "sim-fast"}, headers=AUTH)
    assert response.status_code == 400 and is_openai_error(response)
    error = response.json()["error"]
    assert error["param"] == "model"
    for provider_type in ("openai", "anthropic", "gemini", "azure-openai"):
        assert f"up-{provider_type}:sim-fast" in error["message"]
    anthropic_reply = http.post("/v1/messages", json={**MSG, "model": "sim-fast"}, headers=AUTH)
    assert anthropic_reply.status_code == 400 and is_anthropic_error(anthropic_reply)


def test_near_misses_get_a_did_you_mean(http):
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "sim-fsat"}, headers=AUTH)
    assert response.status_code == 404 and "Did you mean" in response.json()["error"]["message"]
    assert "sim-fast" in response.json()["error"]["message"]
    response = http.post(
        "/v1/chat/completions", json={**CHAT, "model": "up-opnai:sim-chat"}, headers=AUTH
    )
    assert response.status_code == 404
    assert "Did you mean 'up-openai'" in response.json()["error"]["message"]


def test_control_characters_in_model_are_400(http):
    response = http.post(
        "/v1/chat/completions", json={**CHAT, "model": "up-openai:sim\r\nX-Evil: 1"}, headers=AUTH
    )
    assert response.status_code == 400 and is_openai_error(response)


def test_upstream_429_is_mapped_with_retry_after(stack, http):
    stack.upstream.script(fail=429, retry_after=90, count=1)
    response = http.post("/v1/messages", json=MSG, headers=AUTH)
    assert response.status_code == 429 and is_anthropic_error(response)
    assert response.headers["retry-after"] == "90"


def test_upstream_500_is_mapped(stack, http):
    stack.upstream.script(fail=500, count=3)
    response = http.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 500 and is_openai_error(response)


def test_upstream_bad_key_is_mapped_and_says_whose_key(stack, http):
    stack.registry.add(
        id="badkey",
        name="Bad key",
        base_url=stack.upstream.base_url("anthropic"),
        type="anthropic",
        api_key="sk-wrong-0123456789abcdef",
        models=["sim-chat"],
    )
    try:
        response = http.post("/v1/messages", json={**MSG, "model": "badkey:sim-chat"}, headers=AUTH)
        assert response.status_code == 401 and is_anthropic_error(response)
        assert "badkey" in response.json()["error"]["message"]
        assert "sk-wrong-0123456789abcdef" not in response.text
    finally:
        stack.registry.delete("badkey")


def test_upstream_timeout_is_504(stack, http):
    stack.upstream.script(delay=4.0, count=1)  # the stack's upstream read timeout is 2 s
    response = http.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert response.status_code == 504 and is_openai_error(response)


def test_unreachable_upstream_is_502(stack, http):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stack.registry.add(id="down", name="Down", base_url=f"http://127.0.0.1:{port}/v1", models=["m"])
    try:
        response = http.post("/v1/chat/completions", json={**CHAT, "model": "down:m"}, headers=AUTH)
        assert response.status_code == 502 and "refused" in response.json()["error"]["message"]
    finally:
        stack.registry.delete("down")


@pytest.mark.parametrize("upstream", ["openai", "anthropic", "gemini"])
@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_drop_mid_stream_ends_with_an_error_event(http, upstream, route):
    text = "go [[sim:words=40]] [[sim:drop_after=5]]"
    if route == "openai":
        body = {
            **CHAT,
            "model": f"up-{upstream}:sim-chat",
            "stream": True,
            "messages": [{"role": "user", "content": text}],
        }
        path = "/v1/chat/completions"
    else:
        body = {
            **MSG,
            "model": f"up-{upstream}:sim-chat",
            "stream": True,
            "messages": [{"role": "user", "content": text}],
        }
        path = "/v1/messages"
    with http.stream("POST", path, json=body, headers=AUTH) as response:
        assert response.status_code == 200
        raw = response.read().decode()
    if route == "openai":
        assert '"error"' in raw and raw.rstrip().endswith("data: [DONE]")
    else:
        assert "event: error" in raw
    assert "dropped" in raw


def test_client_disconnect_cancels_upstream(stack):
    simulator = stack.upstream.simulator
    body = {
        **CHAT,
        "stream": True,
        "messages": [{"role": "user", "content": "[[sim:words=500]] [[sim:delay=0.05]]"}],
    }
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        with client.stream("POST", "/v1/chat/completions", json=body, headers=AUTH) as response:
            lines = response.iter_lines()
            for _ in range(5):
                next(lines)
            assert simulator.active_streams >= 1
    deadline = time.monotonic() + 1.0
    while simulator.active_streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert simulator.active_streams == 0


def test_body_over_limit_is_413(stack, http):
    stack.registry.set_server(max_body_bytes=1000)
    from cherry_nb.gateway.server import GatewayServer

    small = GatewayServer(stack.registry)
    small.start(port=0)
    try:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
        response = httpx.post(f"{small.url}/v1/chat/completions", json=big, headers=AUTH)
        assert response.status_code == 413 and is_openai_error(response)
        response = httpx.post(f"{small.url}/v1/messages", json={**MSG, **big}, headers=AUTH)
        assert response.status_code == 413 and is_anthropic_error(response)
    finally:
        small.stop()
        stack.registry.set_server(max_body_bytes=50 * 1024 * 1024)


def test_unknown_route_and_method(http):
    response = http.get("/v1/nothing", headers=AUTH)
    assert response.status_code == 404 and is_openai_error(response)
    response = http.get("/v1/chat/completions", headers=AUTH)
    assert response.status_code == 405 and is_openai_error(response)


def test_a_bug_mid_stream_ends_it_with_an_error_event_and_a_log_line(
    http, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from cherry_nb.providers.upstream import UpstreamStream

    original = UpstreamStream.chunks

    async def broken(self):
        async for chunk in original(self):
            yield chunk
            raise RuntimeError("a bug in the relay")

    monkeypatch.setattr(UpstreamStream, "chunks", broken)
    body = {**CHAT, "stream": True}
    with caplog.at_level("ERROR", logger="cherry_nb.gateway"):
        with http.stream("POST", "/v1/chat/completions", json=body, headers=AUTH) as response:
            assert response.status_code == 200  # the head went out before the failure
            raw = response.read().decode()
    assert "Internal gateway error." in raw and raw.rstrip().endswith("data: [DONE]")
    assert "Traceback" not in raw
    assert any("a bug in the relay" in r.getMessage() for r in caplog.records)
