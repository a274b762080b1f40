"""Hostile input: each gets the right 4xx in the route's envelope, and the server lives on.

Raw sockets are used where an HTTP client would normalise the request away (doubled
headers, encoded slashes, NUL bytes, oversized declarations, dot segments).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway import chat_routes
from cherry_nb.gateway.server import GatewayServer

from .conftest import (
    AUTH,
    GATEWAY_KEY,
    TIMEOUT,
    Stack,
    chat_body,
    envelope_ok,
    is_anthropic_error,
    is_openai_error,
    messages_body,
    raw_exchange,
    raw_request,
)

JSON = {**AUTH, "content-type": "application/json"}
# Every route that takes a body, with a valid body for it.
BODY_ROUTES = {
    "/v1/chat/completions": chat_body(),
    "/v1/messages": messages_body(),
    "/up-anthropic/v1/messages": messages_body("sim-chat"),
    "/v1/messages/count_tokens": messages_body(),
    "/up-anthropic/v1/messages/count_tokens": messages_body("sim-chat"),
    "/v1/embeddings": {"model": "up-gemini:sim-embed", "input": ["x", "y"]},
    "/up-openai/v1/embeddings": {"model": "sim-embed", "input": "x"},
}


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=TIMEOUT) as client:
        yield client


def assert_refused(response: httpx.Response, path: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert envelope_ok(path, response.json()), response.text


def assert_alive(stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/health", timeout=TIMEOUT).status_code == 200


def with_field(body: dict, raw_field: str) -> bytes:
    """`body` as JSON with `raw_field` (raw JSON text, e.g. '"x": NaN') added at the end."""
    return json.dumps(body)[:-1].encode() + b", " + raw_field.encode() + b"}"


# ---- malformed JSON ------------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "open brace": b"{",
    "cut": b'{"model": "up-openai:sim-chat", "messages": [',
    "single quotes": b"{'model': 'x'}",
    "trailing comma": b'{"model": "x",}',
    "bare word": b"nul",
    "NaN": b"NaN",
    "two documents": b"{}{}",
    "array": b"[1, 2]",
    "string": b'"model"',
    "number": b"42",
    "null": b"null",
    "utf-16": '{"model": "x"}'.encode("utf-16"),
    "utf-32": '{"model": "x"}'.encode("utf-32"),
}


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_json_is_400(http, path, name):
    assert_refused(http.post(path, content=MALFORMED[name], headers=JSON), path)


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_utf8_byte_order_mark_is_tolerated(http, path):
    body = b"\xef\xbb\xbf" + json.dumps(BODY_ROUTES[path]).encode()
    assert http.post(path, content=body, headers=JSON).status_code == 200


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_python_accepts_are_400_not_forwarded(stack: Stack, http, path, constant):
    sent = len(stack.upstream.requests)
    field = '"temperature"' if "count_tokens" not in path else '"metadata"'
    value = constant if field == '"temperature"' else f'{{"x": {constant}}}'
    response = http.post(
        path, content=with_field(BODY_ROUTES[path], f"{field}: {value}"), headers=JSON
    )
    assert_refused(response, path)
    assert constant.lstrip("-") in response.json()["error"]["message"]
    assert len(stack.upstream.requests) == sent, "a body that is not JSON went upstream"


# ---- wrong types ---------------------------------------------------------------------

OPENAI_WRONG = [
    ({"model": 5}, "model"),
    ({"model": ""}, "model"),
    ({"messages": {}}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": [1]}, "messages.0"),
    ({"messages": [{"role": 7, "content": "x"}]}, "messages.0.role"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
    ({"messages": [{"role": "user", "content": [{"type": {}}]}]}, "messages.0.content.0.type"),
    ({"stream": "true"}, "stream"),
    ({"max_tokens": "10"}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": True}, "max_tokens"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": 99}, "temperature"),
    ({"tools": {}}, "tools"),
    ({"tools": [{"type": {}}]}, "tools.0.type"),
    ({"tools": [{"type": ["function"]}]}, "tools.0.type"),
    ({"tool_choice": 5}, "tool_choice"),
    ({"stop": 5}, "stop"),
    ({"stream_options": []}, "stream_options"),
]


@pytest.mark.parametrize(("patch", "param"), OPENAI_WRONG, ids=[p for _, p in OPENAI_WRONG])
def test_wrong_types_on_chat_completions_name_the_field(http, patch, param):
    response = http.post("/v1/chat/completions", json={**chat_body(), **patch}, headers=AUTH)
    assert_refused(response, "/v1/chat/completions")
    assert response.json()["error"]["param"] == param


ANTHROPIC_WRONG = [
    ({"max_tokens": "10"}, "max_tokens"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"system": 5}, "system"),
    ({"system": [{"type": {}}]}, "system.0.type"),
    ({"messages": [{"role": "user", "content": [{"type": 5}]}]}, "messages.0.content.0.type"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
    ({"tools": [{"type": {}, "name": "t"}]}, "tools.0.type"),
    ({"tools": [{"name": "t", "input_schema": "x"}]}, "tools.0.input_schema"),
    ({"tool_choice": "auto"}, "tool_choice"),
    ({"metadata": "x"}, "metadata"),
    ({"thinking": 5}, "thinking"),
    ({"stream": 1}, "stream"),
]


@pytest.mark.parametrize(("patch", "param"), ANTHROPIC_WRONG, ids=[p for _, p in ANTHROPIC_WRONG])
@pytest.mark.parametrize("path", ["/v1/messages", "/up-anthropic/v1/messages/count_tokens"])
def test_wrong_types_on_messages_routes_name_the_field(http, path, patch, param):
    body = {**BODY_ROUTES[path], **patch}
    response = http.post(path, json=body, headers=AUTH)
    assert_refused(response, path)
    assert response.json()["error"]["message"].startswith(f"{param}: ")


# ---- huge bodies ----------------------------------------------------------------------

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    """A second gateway over the same upstreams with a 64 KiB body limit."""
    path = tmp_path_factory.mktemp("small") / "config.json"
    path.write_text(stack.registry.path.read_text())
    registry = ProviderRegistry(path)
    registry.set_server(max_body_bytes=LIMIT)
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        yield server
    finally:
        server.stop()


# count_tokens is a Quart route: the gate limits bodies for every route alike.
LIMITED_ROUTES = ["/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"]


@pytest.mark.parametrize("path", LIMITED_ROUTES)
def test_declared_huge_body_is_413_without_reading_it(small: GatewayServer, path):
    assert small.port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {GATEWAY_KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{"
    ).encode()
    raw = raw_exchange(small.port, head, timeout=5)  # answered and closed, not read
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]
    body = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert envelope_ok(path, body)


@pytest.mark.parametrize("path", LIMITED_ROUTES)
def test_chunked_body_over_the_limit_is_413(small: GatewayServer, path):
    assert small.port is not None
    chunk = b"x" * 16384
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {GATEWAY_KEY}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    raw = raw_exchange(small.port, head + chunks, timeout=5)
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]


def test_unauthenticated_huge_body_is_401_without_reading_it(small: GatewayServer):
    assert small.port is not None
    head = (
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n{"
    )
    raw = raw_exchange(small.port, head, timeout=5)
    assert raw.startswith(b"HTTP/1.1 401 "), raw[:200]


def test_body_just_under_the_limit_is_served(small: GatewayServer):
    body = chat_body(text="y" * (LIMIT - 200))
    assert len(json.dumps(body)) < LIMIT
    response = httpx.post(
        f"{small.url}/v1/chat/completions", json=body, headers=AUTH, timeout=TIMEOUT
    )
    assert response.status_code == 200


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_large_body_within_the_default_limit_is_served(http, upstream):
    text = "lorem ipsum " * 500_000  # 6 MB of prompt, translated or passed through
    response = http.post(
        "/v1/chat/completions", json=chat_body(f"up-{upstream}:sim-chat", text), headers=AUTH
    )
    assert response.status_code == 200


def test_huge_header_is_refused_and_the_server_lives_on(stack: Stack):
    raw = raw_exchange(
        stack.port,
        b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 4"), raw[:100]  # 431 from Hypercorn, before the app
    assert_alive(stack)


# ---- deep nesting ---------------------------------------------------------------------


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_100000_nested_arrays_are_400(stack: Stack, http, path):
    body = b"[" * 100_000 + b"]" * 100_000
    assert_refused(http.post(path, content=body, headers=JSON), path)
    nested = with_field(BODY_ROUTES[path], '"metadata": ' + "[" * 100_000 + "]" * 100_000)
    assert_refused(http.post(path, content=nested, headers=JSON), path)
    objects = with_field(
        BODY_ROUTES[path], '"metadata": ' + '{"a":' * 100_000 + "1" + "}" * 100_000
    )
    assert_refused(http.post(path, content=objects, headers=JSON), path)
    assert_alive(stack)


@pytest.mark.parametrize("depth", [300, 600, 900, 950, 1000, 2000])
@pytest.mark.parametrize("upstream", ["openai", "anthropic", "gemini"])
def test_nesting_near_the_recursion_limit_is_served_or_400_never_500(stack, http, upstream, depth):
    model = f"up-{upstream}:sim-chat"
    schema = '{"type":"object","properties":{"a":' * depth + '{"type":"string"}' + "}}" * depth
    tools = f'"tools": [{{"name": "t", "input_schema": {schema}}}]'
    for path, body in [
        ("/v1/messages", with_field(messages_body(model), tools)),
        (
            "/v1/chat/completions",
            with_field(chat_body(model), '"metadata": {"x": ' + "[" * depth + "]" * depth + "}"),
        ),
    ]:
        response = http.post(path, content=body, headers=JSON)
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert envelope_ok(path, response.json())
    assert_alive(stack)


# ---- unknown fields, parameters and headers -------------------------------------------


@pytest.mark.parametrize("upstream", ["openai", "anthropic", "gemini", "azure-openai"])
def test_unknown_fields_parameters_and_headers_never_break_a_request(http, upstream):
    model = f"up-{upstream}:sim-chat"
    headers = {**AUTH, "x-unknown": "1", "anthropic-beta": "future-2099-01-01", "openai-beta": "x"}
    chat = chat_body(model, future_option={"a": [1]}, x_vendor=True)
    chat["messages"] = [
        {"role": "system", "content": "s", "x_extra": 1},
        {"role": "user", "content": [{"type": "text", "text": "hi", "x": 1}], "x": {}},
    ]
    response = http.post("/v1/chat/completions?future=1", json=chat, headers=headers)
    assert response.status_code == 200, response.text
    message = messages_body(model, context_management={"x": 1}, container="c")
    message["messages"] = [
        {"role": "user", "content": [{"type": "text", "text": "hi", "x": 1}], "x": 2}
    ]
    message["tools"] = [{"name": "t", "input_schema": {"type": "object"}, "x_hint": 1}]
    response = http.post("/v1/messages?beta=true&future=1", json=message, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("upstream", ["openai", "anthropic", "gemini"])
def test_unknown_part_types_pass_through_or_are_handled_without_a_500(http, upstream):
    model = f"up-{upstream}:sim-chat"
    part = {"type": "hologram", "hologram": {"id": "h1"}}
    for path, body, same_format in [
        ("/v1/chat/completions", chat_body(model), upstream == "openai"),
        ("/v1/messages", messages_body(model), upstream == "anthropic"),
    ]:
        body["messages"] = [{"role": "user", "content": [{"type": "text", "text": "hi"}, part]}]
        response = http.post(path, json=body, headers=AUTH)
        if same_format:
            assert response.status_code == 200, response.text
            continue
        # Translated: the OpenAI reader refuses a part it cannot translate (naming it), the
        # Anthropic reader drops it; either way not a 500.
        if response.status_code != 200:
            assert_refused(response, path)
            assert "hologram" in response.json()["error"]["message"]


# ---- invalid Unicode --------------------------------------------------------------------

BAD_UNICODE = {
    "invalid byte": b'"\xff"',
    "overlong slash": b'"\xc0\xaf"',
    "encoded surrogate": b'"\xed\xa0\x80"',
    "lone high surrogate escape": b'"\\ud800"',
    "lone low surrogate escape": b'"\\udc00x"',
    "swapped pair": b'"\\udc00\\ud800"',
}


@pytest.mark.parametrize("upstream", ["openai", "anthropic", "gemini"])
@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize("name", BAD_UNICODE)
def test_invalid_unicode_is_400(stack: Stack, http, route, upstream, name):
    sent = len(stack.upstream.requests)
    body = chat_body(f"up-{upstream}:sim-chat", "PLACEHOLDER")
    if route == "/v1/messages":
        body = messages_body(f"up-{upstream}:sim-chat", "PLACEHOLDER")
    raw = json.dumps(body).encode().replace(b'"PLACEHOLDER"', BAD_UNICODE[name])
    assert_refused(http.post(route, content=raw, headers=JSON), route)
    assert len(stack.upstream.requests) == sent


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_escaped_surrogate_pairs_are_fine(http, upstream):
    raw = json.dumps(
        chat_body(f"up-{upstream}:sim-chat", "smile 😀 \\ud800 literal"), ensure_ascii=True
    )
    response = http.post("/v1/chat/completions", content=raw.encode(), headers=JSON)
    assert response.status_code == 200, response.text


# ---- model ids --------------------------------------------------------------------------

CONTROL = ["\r\nX-Evil: 1", "\n", "\x00", "\x1b[31m", "\x7f", "\t"]


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("control", CONTROL, ids=repr)
def test_control_characters_in_model_are_400(stack: Stack, http, path, control):
    sent = len(stack.upstream.requests)
    body = dict(BODY_ROUTES[path])
    body["model"] = body["model"].replace("sim-", f"sim{control}", 1)
    assert_refused(http.post(path, json=body, headers=AUTH), path)
    assert len(stack.upstream.requests) == sent


TRAVERSALS = [
    "../../v1/models?x=",
    "sim-chat?alt=json#",
    "sim-chat/../../v1/files",
    "..",
    ".",
    "%2e%2e",
    "a\\b",
]


@pytest.mark.parametrize("upstream", ["gemini", "azure-openai"])
@pytest.mark.parametrize("model", TRAVERSALS)
def test_model_ids_cannot_rewrite_the_upstream_url(stack: Stack, http, upstream, model):
    sent = len(stack.upstream.requests)
    for path, body in [
        ("/v1/chat/completions", chat_body(f"up-{upstream}:{model}")),
        ("/v1/messages", messages_body(f"up-{upstream}:{model}", stream=True)),
        (f"/up-{upstream}/v1/messages", messages_body(model)),
        ("/v1/embeddings", {"model": f"up-{upstream}:{model}", "input": "x"}),
        (f"/up-{upstream}/v1/embeddings", {"model": model, "input": "x"}),
    ]:
        response = http.post(path, json=body, headers=AUTH)
        assert_refused(response, path)
        if "/messages" not in path:
            assert response.json()["error"]["param"] == "model"
    assert len(stack.upstream.requests) == sent, "a request went to a rewritten upstream URL"


def test_model_ids_with_slashes_still_reach_upstreams_that_take_them_in_the_body(http):
    response = http.post(
        "/v1/chat/completions", json=chat_body("up-openai:org/model-x"), headers=AUTH
    )
    assert response.status_code == 404  # the upstream's answer: the id reached it, intact
    assert "org/model-x" in response.json()["error"]["message"]


# ---- path tricks ------------------------------------------------------------------------

BODY = json.dumps(messages_body("sim-chat")).encode()
PATHS = [  # (request target, status)
    ("/up-openai/v1/messages", 200),
    ("/up%2Dopenai/v1/messages", 200),  # an encoded ordinary character is that character
    ("/up-openai/../v1/messages", 404),
    ("/../up-openai/v1/messages", 404),
    ("/up-openai/./v1/messages", 404),
    ("/%2e%2e/v1/messages", 404),
    ("/./v1/messages", 404),
    ("/up-openai%2Fx/v1/messages", 404),
    ("/up-openai%2fv1/messages", 200),  # decoded, this is /up-openai/v1/messages
    ("/x%2F..%2Fup-openai/v1/messages", 404),
    ("/up-openai%00/v1/messages", 404),
    ("/%00/v1/messages", 404),
    ("/v1/messages%00", 404),
    ("/up-openai%0d%0aX-Evil:%201/v1/messages", 404),
    ("/up-openai%c0%af/v1/messages", 404),
    ("/up-openai%ff/v1/messages", 404),
    ("/UP-OPENAI/v1/messages", 404),
    ("/nope/v1/messages", 404),
    ("/up-openai/v1/messages/", 404),
    ("/up-openai./v1/messages", 404),
    ("/" + "a" * 5000 + "/v1/messages", 404),
    ("/up-openai//v1/messages", 308),
]


@pytest.mark.parametrize(("target", "status"), PATHS, ids=[t[:40] for t, _ in PATHS])
@pytest.mark.parametrize("suffix", ["", "/count_tokens"])
def test_path_tricks_on_provider_routes(stack: Stack, target, status, suffix):
    target = target.replace("/v1/messages", "/v1/messages" + suffix, 1)
    response = raw_request(
        stack.port,
        "POST",
        target,
        body=BODY,
        headers=[("Authorization", f"Bearer {GATEWAY_KEY}"), ("Content-Type", "application/json")],
    )
    assert response.status == status, (target, response.body[:200])
    assert response.header("x-evil") is None
    if status == 200:
        return
    assert is_anthropic_error(response.json()), response.body[:300]
    assert len(response.body) < 2000, "the error echoes a huge path back"
    if status == 308:
        assert response.header("location") == target.replace("//", "/")


BYPASSES = [  # paths that start like the unauthenticated ones but might reach a route
    "/api-docs/../v1/models",
    "/api-docs/%2e%2e/v1/models",
    "/api-docs%2f..%2fv1%2fmodels",
    "/api-docs/..%2fv1/models",
    "/api-docs//v1/models",
    "/api-docs/static/../../v1/models",
    "/health/../v1/models",
    "/health%2f..%2fv1/models",
    "//v1/models",
    "/./v1/models",
    "/v1/./models",
    "/v1/models/.",
    "/v1/models%00",
    "/v1/models?x=/api-docs/",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_no_path_reaches_a_key_protected_route_without_the_key(stack: Stack, target):
    response = raw_request(stack.port, "GET", target)
    assert response.status in (308, 401, 404), (response.status, response.body[:200])
    assert b"up-openai" not in response.body, "the model list was served without the key"


def test_very_long_provider_id_is_refused_and_the_server_lives_on(stack: Stack):
    raw = raw_exchange(
        stack.port,
        b"POST /"
        + b"a" * 100_000
        + b"/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 4"), raw[:100]  # 414/431 from Hypercorn, before the app
    assert_alive(stack)


@pytest.mark.parametrize(
    ("method", "target", "allowed"),
    [
        ("GET", "/v1/chat/completions", "POST"),
        ("TRACE", "/v1/messages", "POST"),
        ("PUT", "/up-openai/v1/messages", "POST"),
        ("DELETE", "/v1/models", "GET, HEAD"),
    ],
)
def test_405_says_which_methods_are_allowed(stack: Stack, method, target, allowed):
    response = raw_request(
        stack.port, method, target, headers=[("Authorization", f"Bearer {GATEWAY_KEY}")]
    )
    assert response.status == 405
    assert response.header("allow") == allowed
    assert envelope_ok(target, response.json())


# ---- auth headers -----------------------------------------------------------------------

KEY = GATEWAY_KEY
AUTH_CASES = {  # name: (headers, status)
    "none": ([], 401),
    "empty authorization": ([("Authorization", "")], 401),
    "bearer without key": ([("Authorization", "Bearer")], 401),
    "basic scheme": ([("Authorization", f"Basic {KEY}")], 401),
    "tab after bearer": ([("Authorization", f"Bearer\t{KEY}")], 401),
    "no scheme": ([("Authorization", f"{KEY}")], 401),
    "empty x-api-key": ([("X-API-Key", "")], 401),
    "wrong key": ([("Authorization", "Bearer wrong")], 403),
    "key plus a character": ([("Authorization", f"Bearer {KEY}x")], 403),
    "key minus a character": ([("Authorization", f"Bearer {KEY[:-1]}")], 403),
    "key listed twice": ([("Authorization", f"Bearer {KEY}, Bearer {KEY}")], 403),
    "bearer in x-api-key": ([("X-API-Key", f"Bearer {KEY}")], 403),
    "two authorization": (
        [("Authorization", f"Bearer {KEY}"), ("Authorization", f"Bearer {KEY}")],
        401,
    ),
    "two authorization, one wrong": (
        [("Authorization", f"Bearer {KEY}"), ("authorization", "Bearer wrong")],
        401,
    ),
    "two x-api-key": ([("X-API-Key", KEY), ("x-api-key", KEY)], 401),
    "both headers, one wrong": ([("Authorization", f"Bearer {KEY}"), ("X-API-Key", "wrong")], 403),
    "both headers right": ([("Authorization", f"Bearer {KEY}"), ("X-API-Key", KEY)], 200),
    "header and scheme in other case": ([("AUTHORIZATION", f"bearer {KEY}")], 200),
    "x-api-key padded": ([("x-Api-KEY", f"  {KEY}  ")], 200),
}
AUTH_ROUTES = [
    ("GET", "/v1/models", b""),
    ("POST", "/v1/chat/completions", json.dumps(chat_body()).encode()),
    ("POST", "/v1/messages", BODY.replace(b'"sim-chat"', b'"up-openai:sim-chat"')),
    ("POST", "/up-openai/v1/messages", BODY),
    ("POST", "/v1/messages/count_tokens", BODY.replace(b'"sim-chat"', b'"up-openai:sim-chat"')),
]


@pytest.mark.parametrize("case", AUTH_CASES)
@pytest.mark.parametrize(
    ("method", "path", "body"), AUTH_ROUTES, ids=[p for _, p, _ in AUTH_ROUTES]
)
def test_auth_headers_written_byte_for_byte(stack: Stack, case, method, path, body):
    headers, status = AUTH_CASES[case]
    response = raw_request(
        stack.port,
        method,
        path,
        body=body,
        headers=[*headers, ("Content-Type", "application/json")],
    )
    assert response.status == status, response.body[:300]
    if status == 200:
        return
    assert envelope_ok(path, response.json())
    if status == 401:
        assert response.header("www-authenticate") == 'Bearer realm="cherry-nb"'
    assert KEY.encode() not in response.body


def test_body_shorter_than_declared_does_not_hang_the_server(stack: Stack):
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        "Content-Length: 100\r\n\r\n{}"
    ).encode()
    raw_exchange(stack.port, head, timeout=0.5)  # we give up and close; so must the server
    assert_alive(stack)


def test_openai_envelope_on_openai_routes_anthropic_on_messages_routes(http):
    response = http.post("/v1/chat/completions", content=b"{", headers=JSON)
    assert is_openai_error(response.json())
    response = http.get("/v1/models", params={"limit": "x"}, headers=AUTH)
    assert is_openai_error(response.json())
    response = http.post("/v1/messages/count_tokens", content=b"{", headers=JSON)
    assert is_anthropic_error(response.json())


# ---- slow bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/up-anthropic/v1/messages"])
def test_a_body_that_never_finishes_is_408_in_the_envelope(
    stack: Stack, route: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(chat_routes, "BODY_TIMEOUT", 0.5)
    body = json.dumps(BODY_ROUTES[route]).encode()
    head = (
        f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {GATEWAY_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=TIMEOUT) as sock:
        sock.sendall(head + body[:10])  # and then nothing more
        raw = b""
        while chunk := sock.recv(65536):  # the server closes the connection after the 408
            raw += chunk
    assert time.monotonic() - started < 5
    status_line, _, rest = raw.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), raw[:200]
    assert envelope_ok(route, json.loads(rest.partition(b"\r\n\r\n")[2]))
    assert_alive(stack)


def test_a_request_head_that_never_finishes_is_closed_after_the_idle_timeout(stack: Stack):
    """Hypercorn's keep-alive timer (5 s) runs until a head is complete, so slow heads
    cannot hold sockets; its read_timeout stays unset, as it would cut long streams."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while sock.recv(65536):
            pass
    assert time.monotonic() - started < 8
    assert_alive(stack)
