"""The gateway's request models: real clients' bodies pass, bad bodies fail clearly.

Real-world bodies come from the official SDKs themselves (captured with an httpx mock
transport) and from a Claude-Code-shaped request; a bad body's message must name the
field and never repeat the value, which may be a secret.
"""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

import anthropic
import httpx
import openai
import pytest
from pydantic import ValidationError

from cherry_nb.gateway import schemas
from cherry_nb.gateway.schemas import validate_chat, validate_count_tokens, validate_messages

SECRET = "sk-test-SECRETSECRETSECRET"
PNG_DATA_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"  # noqa: E501


def test_package_exports_exactly_its_all() -> None:
    """What the package offers is its `__all__`; the models live in private submodules."""
    public = {name for name in vars(schemas) if not name.startswith("_")} - {"annotations"}
    assert public == set(schemas.__all__)


# ---- bodies as the SDKs send them --------------------------------------------------------

CHAT_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "my-openai:gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Bonjour", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}
ANTHROPIC_MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": "Short answer.", "signature": "sig"},
        {"type": "text", "text": "Bonjour"},
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/a"}},
    ],
    "model": "my-anthropic:claude-sonnet-4-5",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 12,
        "output_tokens": 3,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 100,
    },
}


def _capture(reply: dict[str, Any] | bytes, http: Any = httpx) -> tuple[Any, list[Any]]:
    """A client of the `http` module (httpx or the httpx2 fork an SDK may use) that
    records requests and answers `reply` (bytes: an SSE stream)."""
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(request)
        if isinstance(reply, bytes):
            return http.Response(200, headers={"content-type": "text/event-stream"}, content=reply)
        return http.Response(200, json=reply)

    return http.Client(transport=http.MockTransport(handler)), seen


def _sdk_http(sdk: Any) -> Any:
    """The HTTP client module an SDK is built on: httpx, or httpx2 in newer releases."""
    base = importlib.import_module(f"{sdk.__name__}._base_client")
    return getattr(base, "httpx2", None) or getattr(base, "httpx", httpx)


def openai_sdk_body(**kwargs: Any) -> dict[str, Any]:
    """The JSON body the official OpenAI SDK sends for chat.completions.create(**kwargs)."""
    http, seen = _capture(CHAT_COMPLETION, _sdk_http(openai))
    with openai.OpenAI(api_key="k", base_url="http://gateway.test/v1", http_client=http) as c:
        c.chat.completions.create(**kwargs)
    assert seen[0].url.path == "/v1/chat/completions"
    return json.loads(seen[0].content)


def anthropic_sdk_request(call: str, reply: dict[str, Any], **kwargs: Any) -> Any:
    """The request the official Anthropic SDK sends for client.<call>(**kwargs)."""
    http, seen = _capture(reply, _sdk_http(anthropic))
    with anthropic.Anthropic(api_key="k", base_url="http://gateway.test", http_client=http) as c:
        target: Any = c
        for name in call.split("."):
            target = getattr(target, name)
        target(**kwargs)
    return seen[0]


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def test_openai_sdk_body_with_tools_and_images_validates() -> None:
    body = openai_sdk_body(
        model="my-openai:gpt-4o-mini",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these images, and the weather?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    {"type": "image_url", "image_url": {"url": PNG_DATA_URL, "detail": "low"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        ],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=256,
        stop=["\n\n"],
        seed=7,
        user="u-1",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
        },
        extra_body={"top_k": 20, "some_new_field": {"nested": [1, 2]}},
    )
    request = validate_chat(body)
    assert body["messages"][1]["content"][2]["image_url"]["url"] == PNG_DATA_URL
    part = request.messages[1].content[1]  # type: ignore[index]
    assert isinstance(part, schemas.ImageURLPart)
    assert isinstance(part.image_url, schemas.ImageURL)
    assert request.messages[2].tool_calls[0].function.name == "get_weather"  # type: ignore[index]
    assert request.tools is not None and isinstance(request.tools[0], schemas.FunctionTool)
    assert request.response_format.json_schema.schema_ == {"type": "object"}  # type: ignore[union-attr]
    assert request.top_k == 20
    assert request.model_extra == {"some_new_field": {"nested": [1, 2]}}


def test_openai_sdk_streaming_body_validates() -> None:
    http, seen = _capture(b"data: [DONE]\n\n", _sdk_http(openai))
    with openai.OpenAI(api_key="k", base_url="http://gateway.test/v1", http_client=http) as c:
        list(
            c.chat.completions.create(
                model="p:m",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=10,
                n=1,
            )
        )
    request = validate_chat(json.loads(seen[0].content))
    assert request.stream is True
    assert request.stream_options is not None and request.stream_options.include_usage is True


def test_lenient_openai_forms_validate() -> None:
    """Forms compatible clients send: bare image URL strings, object arguments, legacy
    function messages, unknown part and tool types, null content, `stop` as a string."""
    body = {
        "model": "ollama:llama3",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "sys"}]},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": "https://example.com/a.png"},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                    {"type": "file", "file": {"file_id": "file-1"}},
                    {"type": "some_future_part", "payload": {"x": 1}},
                ],
            },
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "function": {"name": "f", "arguments": {"a": 1}}},
                ],
            },
            {"role": "function", "name": "f", "content": "done"},
            {"role": "user", "content": None, "name": "bob"},
        ],
        "tools": [
            {"function": {"name": "f", "parameters": {"type": "object"}}},
            {"type": "custom", "custom": {"name": "grammar_tool"}},
        ],
        "tool_choice": "auto",
        "stop": "END",
        "max_tokens": None,
        "stream": False,
    }
    request = validate_chat(body)
    assert request.stop == "END"
    parts = request.messages[1].content
    assert isinstance(parts, list)
    assert [type(p).__name__ for p in parts] == [
        "ImageURLPart",
        "InputAudioPart",
        "FilePart",
        "OtherPart",
    ]
    assert isinstance(request.tools[1], schemas.OtherTool)  # type: ignore[index]


# ---- Anthropic bodies --------------------------------------------------------------------


def _tool(name: str, n_props: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name}: " + "Does a thing carefully. " * 20,
        "input_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                f"p{i}": {
                    "anyOf": [
                        {"type": "string", "description": "a path", "minLength": 1},
                        {"type": "array", "items": {"type": "string"}},
                    ],
                }
                for i in range(n_props)
            }
            | {"mode": {"type": "string", "enum": ["a", "b", "c"], "default": "a"}},
            "required": ["p0"],
            "additionalProperties": False,
        },
    }


def claude_code_body(**overrides: Any) -> dict[str, Any]:
    """The shape of a Claude Code request (metadata, cache_control, thinking, many tools)."""
    body: dict[str, Any] = {
        "model": "my-provider:claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": True,
        "temperature": 1,
        "metadata": {"user_id": "user_0123abcd_account__session_4567-89ab"},
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "system": [
            {
                "type": "text",
                "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                "cache_control": {"type": "ephemeral"},
            },
            {
                "type": "text",
                "text": "You are an interactive CLI tool... " * 50,
                "cache_control": {"type": "ephemeral", "ttl": "1h"},
            },
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                    {
                        "type": "text",
                        "text": "Fix the failing test.",
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Read it first.", "signature": "EqQB..."},
                    {"type": "redacted_thinking", "data": "EmwKAhgB..."},
                    {"type": "text", "text": "Reading the test."},
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "Read",
                        "input": {"file_path": "/repo/test_x.py"},
                    },
                    {
                        "type": "server_tool_use",
                        "id": "srvtoolu_01",
                        "name": "web_search",
                        "input": {"query": "pytest"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01",
                        "content": [
                            {"type": "text", "text": "def test_x(): assert 1 == 2"},
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": PNG_DATA_URL.split(",", 1)[1],
                                },
                            },
                        ],
                        "is_error": False,
                        "cache_control": {"type": "ephemeral"},
                    },
                    {"type": "tool_result", "tool_use_id": "srvtoolu_01", "content": "ok"},
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "doc"},
                        "title": "notes",
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                    {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
                ],
            },
        ],
        "tools": [_tool(name, 6) for name in _CLAUDE_CODE_TOOLS]
        + [
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
            {"type": "custom", "name": "mcp__x__y", "input_schema": {"type": "object"}},
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": False},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "some_future_field": True,
    }
    body.update(overrides)
    return body


_CLAUDE_CODE_TOOLS = (
    "Task Bash Glob Grep LS ExitPlanMode Read Edit MultiEdit Write NotebookEdit WebFetch "
    "TodoWrite WebSearch BashOutput KillShell SlashCommand ListMcpResources "
    "ReadMcpResource Skill"
).split()


def test_claude_code_body_validates() -> None:
    body = claude_code_body()
    request = validate_messages(body)
    assert len(request.tools or []) == len(_CLAUDE_CODE_TOOLS) + 2
    assert isinstance(request.tools[-2], schemas.ServerTool)  # type: ignore[index]
    assert isinstance(request.tools[-1], schemas.CustomTool)  # type: ignore[index]
    assert isinstance(request.system, list)
    assert request.system[1].cache_control.ttl == "1h"  # type: ignore[union-attr]
    assert request.metadata is not None and request.metadata.user_id
    assert request.thinking is not None and request.thinking.budget_tokens == 10000
    assistant = request.messages[1].content
    assert [type(b).__name__ for b in assistant] == [  # type: ignore[union-attr]
        "ThinkingBlock",
        "RedactedThinkingBlock",
        "TextBlock",
        "ToolUseBlock",
        "OtherBlock",
    ]
    user = request.messages[2].content
    assert [type(b).__name__ for b in user] == [  # type: ignore[union-attr]
        "ToolResultBlock",
        "ToolResultBlock",
        "DocumentBlock",
        "ImageBlock",
        "ImageBlock",
    ]
    assert request.context_management == {"edits": [{"type": "clear_tool_uses_20250919"}]}
    assert request.model_extra == {"some_future_field": True}
    # The tools' JSON schemas arrive untouched.
    assert request.tools[0].input_schema == body["tools"][0]["input_schema"]  # type: ignore[union-attr]


# One bad value behind each tagged union a Claude Code body passes through (the unions
# named in the comment, outermost first).
_BAD_VALUES = [
    pytest.param(("messages", 1, "content", 2, "text"), id="MessageContent, ContentBlock"),
    pytest.param(("messages", 1, "content", 2, "type"), id="ContentBlock (no member fits)"),
    pytest.param(
        ("messages", 2, "content", 0, "content", 0, "text"),
        id="ToolResultContent, ToolResultContentBlock",
    ),
    pytest.param(
        ("messages", 2, "content", 0, "content", 1, "source", "data"), id="ImageSource (base64)"
    ),
    pytest.param(("messages", 2, "content", 3, "source", "url"), id="ImageSource (url)"),
    pytest.param(("system", 1, "text"), id="SystemPrompt, SystemBlock"),
    pytest.param(("tools", 0, "name"), id="MessagesTool (custom)"),
    pytest.param(("tools", len(_CLAUDE_CODE_TOOLS), "name"), id="MessagesTool (server)"),
    pytest.param(("tool_choice", "type"), id="MessagesToolChoice"),
]


@pytest.mark.parametrize("where", _BAD_VALUES)
def test_a_bad_value_in_a_claude_code_body_is_one_error_at_its_place(
    where: tuple[str | int, ...],
) -> None:
    """Unions are tagged, never tried member by member (which costs a validation per
    member on every request, and answers a bad value with an error per member, or lets
    it through as the catch-all OtherBlock): a bad value is one error, located at it."""
    body = claude_code_body()
    node: Any = body
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = 5  # a string or a type name in every place broken here
    with pytest.raises(ValidationError) as info:
        validate_messages(body)
    assert info.value.error_count() == 1, info.value.errors()
    path = ".".join(map(str, where))
    message, field = schemas.validation_message(info.value)
    assert field == path and message.startswith(f"{path}: "), message


def test_count_tokens_needs_no_max_tokens_but_messages_does() -> None:
    body = claude_code_body()
    del body["max_tokens"]
    assert validate_count_tokens(body).max_tokens is None
    with pytest.raises(ValidationError) as info:
        validate_messages(body)
    assert schemas.validation_message(info.value) == ("max_tokens: Field required.", "max_tokens")


def test_anthropic_sdk_bodies_validate() -> None:
    request = anthropic_sdk_request(
        "beta.messages.create",
        ANTHROPIC_MESSAGE,
        model="my-anthropic:claude-sonnet-4-5",
        max_tokens=1024,
        system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hello"}],
        tools=[{"name": "Read", "description": "d", "input_schema": {"type": "object"}}],
        tool_choice={"type": "tool", "name": "Read"},
        metadata={"user_id": "u"},
        extra_body={"top_k": 5},
        stop_sequences=["STOP"],
        betas=["interleaved-thinking-2025-05-14"],
    )
    assert request.url.path == "/v1/messages"
    validate_messages(json.loads(request.content))

    request = anthropic_sdk_request(
        "messages.count_tokens",
        {"input_tokens": 10},
        model="my-anthropic:claude-sonnet-4-5",
        messages=[{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        system="sys",
        thinking={"type": "enabled", "budget_tokens": 2048},
    )
    assert request.url.path == "/v1/messages/count_tokens"
    validate_count_tokens(json.loads(request.content))


def test_documented_responses_accept_real_shapes() -> None:
    schemas.ChatCompletion.model_validate(CHAT_COMPLETION)
    schemas.Message.model_validate(ANTHROPIC_MESSAGE)
    schemas.ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "p:m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "f", "arguments": ""},
                            }
                        ]
                    },
                    "finish_reason": None,
                }
            ],
        }
    )
    event = schemas.MessageStreamEvent.model_validate(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}
    )
    assert isinstance(event.root, schemas.ContentBlockDeltaEvent)


# ---- bad bodies ---------------------------------------------------------------------------


def _chat(**overrides: Any) -> dict[str, Any]:
    return {"model": "p:m", "messages": [{"role": "user", "content": "hi"}], **overrides}


def _msgs(**overrides: Any) -> dict[str, Any]:
    return {
        "model": "p:m",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **overrides,
    }


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of body with the value at dotted `path` replaced."""
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


BAD_BODIES = [
    # (validator, body, expected param, words the message must contain)
    (validate_chat, _chat(model=12345), "model", "string"),
    (validate_chat, _chat(temperature=SECRET), "temperature", "number"),
    (validate_chat, _chat(temperature=2.5), "temperature", "less than or equal to 2"),
    (validate_chat, _chat(max_tokens="100"), "max_tokens", "integer"),
    (validate_chat, _chat(stream="yes"), "stream", "boolean"),
    (validate_chat, _chat(messages=[]), "messages", "at least 1"),
    (validate_chat, _chat(messages=SECRET), "messages", "array"),
    (validate_chat, _chat(messages=[SECRET]), "messages.0", "object"),
    (
        validate_chat,
        _chat(messages=[{"role": SECRET, "content": "x"}]),
        "messages.0.role",
        "'user'",
    ),
    (
        validate_chat,
        _chat(messages=[{"role": "user", "content": 42}]),
        "messages.0.content",
        "string or an array of content parts",
    ),
    (
        validate_chat,
        _chat(messages=[{"role": "user", "content": [{"type": "text", "text": {"k": SECRET}}]}]),
        "messages.0.content.0.text",
        "string",
    ),
    (
        validate_chat,
        _chat(
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"u": SECRET}}]}
            ]
        ),
        "messages.0.content.0.image_url.url",
        "required",
    ),
    (
        validate_chat,
        _chat(messages=[{"role": "assistant", "tool_calls": [{"id": "c", "function": SECRET}]}]),
        "messages.0.tool_calls.0.function",
        "object",
    ),
    (validate_chat, _chat(stop=["a", 5]), "stop.1", "string"),
    (
        validate_chat,
        _chat(tools=[{"type": "function", "function": {}}]),
        "tools.0.function.name",
        "required",
    ),  # noqa: E501
    (validate_chat, _chat(tool_choice=SECRET), "tool_choice", "'auto'"),
    (validate_messages, _msgs(max_tokens=0), "max_tokens", "greater than or equal to 1"),
    (validate_messages, _msgs(max_tokens=SECRET), "max_tokens", "integer"),
    (validate_messages, _msgs(temperature=1.5), "temperature", "less than or equal to 1"),
    (validate_messages, _msgs(system=12), "system", "string or an array of text blocks"),
    (validate_messages, _msgs(metadata={"user_id": 12345678}), "metadata.user_id", "string"),
    (
        validate_messages,
        _msgs(messages=[{"role": "robot", "content": SECRET}]),
        "messages.0.role",
        "'user', 'assistant' or 'system'",
    ),
    (
        validate_messages,
        _with(claude_code_body(), "messages.2.content.0.content.0.text", ["x", SECRET]),
        "messages.2.content.0.content.0.text",
        "string",
    ),
    (
        validate_messages,
        _with(claude_code_body(), "system.0.cache_control", SECRET),
        "system.0.cache_control",
        "object",
    ),
    (
        validate_messages,
        _with(claude_code_body(), "tools.3.input_schema", SECRET),
        "tools.3.input_schema",
        "object",
    ),
    (
        validate_messages,
        _with(claude_code_body(), "messages.1.content.3.id", None),
        "messages.1.content.3.id",
        "string",
    ),
    (validate_messages, _msgs(tools=[{"name": "t"}]), "tools.0.input_schema", "required"),
    (validate_messages, _msgs(tool_choice={"type": "tool"}), "tool_choice.name", "required"),
    (validate_messages, _msgs(stop_sequences=SECRET), "stop_sequences", "array"),
    (
        validate_count_tokens,
        {"model": "p:m", "messages": [{"role": "user"}]},
        "messages.0.content",
        "required",
    ),  # noqa: E501
]


@pytest.mark.parametrize(("validate", "body", "param", "words"), BAD_BODIES)
def test_bad_bodies_name_the_field_and_hide_the_value(
    validate: Any, body: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(ValidationError) as info:
        validate(body)
    message, got_param = schemas.validation_message(info.value)
    assert got_param == param
    assert message.startswith(f"{param}: "), message
    assert words in message
    assert SECRET not in message
    assert "SECRET" not in message and "12345678" not in message
    assert "~" not in message  # no union tags leak into the path


def test_whole_body_errors_have_no_param() -> None:
    with pytest.raises(ValidationError) as info:
        validate_chat([SECRET])  # type: ignore[arg-type]
    message, param = schemas.validation_message(info.value)
    assert param is None
    assert message == "The request body is invalid: Input should be an object."


def test_several_problems_are_counted() -> None:
    with pytest.raises(ValidationError) as info:
        validate_messages({"messages": "x"})
    message, param = schemas.validation_message(info.value)
    assert param == "model"
    assert message == "model: Field required. (2 more problems after this one.)"


def test_messages_that_would_quote_the_input_are_replaced() -> None:
    """Belt and braces: an error whose text quotes the input never reaches the client."""
    error = ValidationError.from_exception_data(
        "ChatCompletionRequest",
        [
            {
                "type": "value_error",
                "loc": ("user",),
                "input": SECRET,
                "ctx": {"error": ValueError(f"{SECRET} is not allowed")},
            }
        ],
    )
    assert SECRET in str(error)
    message, param = schemas.validation_message(error)
    assert (message, param) == ("user: Input is invalid.", "user")

    error = ValidationError.from_exception_data(
        "X",
        [
            {
                "type": "string_pattern_mismatch",
                "loc": ("model",),
                "input": "abc" + SECRET,
                "ctx": {"pattern": "abc" + SECRET},
            }
        ],
    )
    assert SECRET not in schemas.validation_message(error)[0]


def test_scalars_are_strict() -> None:
    for bad in ({"temperature": True}, {"n": 1.0}, {"stream": 1}, {"top_p": "0.5"}):
        with pytest.raises(ValidationError):
            validate_chat(_chat(**bad))
    validate_chat(_chat(temperature=1, top_p=1, n=1, stream=True))  # ints are numbers
