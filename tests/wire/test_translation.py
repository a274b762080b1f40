"""Each mapping of docs/translation.md, both ways, for every pair of formats: what a
reader carries into the neutral request, what a builder makes of it, and what it
reports in `dropped` where the target has no place."""

from __future__ import annotations

from typing import Any

import pytest

from cherry_nb._exceptions import WireFormatError
from cherry_nb.wire import anthropic, gemini, openai
from cherry_nb.wire.accumulate import ResponseAccumulator
from cherry_nb.wire.anthropic._requests import JSON_OBJECT_INSTRUCTION
from cherry_nb.wire.neutral import (
    ChatRequest,
    ChatResponse,
    Choice,
    Message,
    Reasoning,
    ReasoningDelta,
    ResponseFormat,
    StreamEnd,
    StreamStart,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolChoice,
    ToolResult,
    Usage,
)
from cherry_nb.wire.sse import SSEParser

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
    "additionalProperties": False,
}
HI = [Message("user", [Text("hi")])]


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("messages", list(HI))
    return ChatRequest(model="gemini-2.5-flash", **fields)


def openai_body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}


def anthropic_body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]} | (
        fields
    )


def gemini_body(**config: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": config}


# ---- structured output -------------------------------------------------------------


def test_openai_response_format_read() -> None:
    spec = {"name": "person", "schema": SCHEMA, "strict": True, "description": "d"}
    parsed = openai.parse_request(
        openai_body(response_format={"type": "json_schema", "json_schema": spec})
    )
    assert parsed.response_format == ResponseFormat("json_schema", SCHEMA, "person", "d", True)
    json_object = openai.parse_request(openai_body(response_format={"type": "json_object"}))
    assert json_object.response_format == ResponseFormat("json_object")


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ({"type": "yaml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        (
            {"type": "json_schema", "json_schema": {"schema": SCHEMA}},
            "response_format.json_schema.name",
        ),
        ("json", "response_format"),
    ],
)
def test_openai_response_format_refused(value: Any, param: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        openai.parse_request(openai_body(response_format=value))
    assert caught.value.param == param


def test_response_format_built_per_target() -> None:
    fmt = ResponseFormat("json_schema", SCHEMA, "person", None, True)
    assert openai.build_request(request(response_format=fmt))["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": SCHEMA, "strict": True},
    }
    assert anthropic.build_request(request(response_format=fmt))["output_config"] == {
        "format": {"type": "json_schema", "schema": SCHEMA}
    }
    config = gemini.build_request(request(response_format=fmt))["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}


def test_json_object_built_per_target() -> None:
    fmt = ResponseFormat("json_object")
    assert openai.build_request(request(response_format=fmt))["response_format"] == {
        "type": "json_object"
    }
    body = anthropic.build_request(request(response_format=fmt, system="Be terse."))
    assert body["system"] == "Be terse.\n\n" + JSON_OBJECT_INSTRUCTION
    assert "output_config" not in body
    config = gemini.build_request(request(response_format=fmt))["generationConfig"]
    assert config == {"responseMimeType": "application/json"}


def test_anthropic_output_format_read() -> None:
    fmt = {"type": "json_schema", "schema": SCHEMA}
    parsed = anthropic.parse_request(anthropic_body(output_config={"format": fmt}))
    assert parsed.response_format == ResponseFormat("json_schema", SCHEMA, "response")
    beta = anthropic.parse_request(anthropic_body(output_format=fmt))  # the beta's name
    assert beta.response_format == parsed.response_format
    with pytest.raises(WireFormatError) as caught:
        anthropic.parse_request(anthropic_body(output_config={"format": {"type": "xml"}}))
    assert caught.value.param == "output_config.format.type"


def test_gemini_response_format_read() -> None:
    def read(**config: Any) -> ResponseFormat | None:
        return gemini.parse_request(gemini_body(**config), model="m").response_format

    assert read(responseMimeType="application/json", responseJsonSchema=SCHEMA) == ResponseFormat(
        "json_schema", SCHEMA, "response"
    )
    assert read(responseMimeType="application/json") == ResponseFormat("json_object")
    assert read(responseMimeType="text/plain") == ResponseFormat("text")
    gemini_schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}}
    via_subset = read(response_mime_type="application/json", response_schema=gemini_schema)
    assert via_subset is not None and via_subset.schema is not None
    assert via_subset.schema["properties"]["n"]["type"] == "integer"
    with pytest.raises(WireFormatError) as caught:
        read(responseMimeType="text/x.enum")
    assert caught.value.param == "generationConfig.responseMimeType"


# ---- reasoning -----------------------------------------------------------------------


def test_reasoning_effort_read() -> None:
    assert openai.parse_request(openai_body(reasoning_effort="low")).reasoning_effort == "low"
    with pytest.raises(WireFormatError) as caught:
        openai.parse_request(openai_body(reasoning_effort="extreme"))
    assert caught.value.param == "reasoning_effort"
    enabled = anthropic.parse_request(
        anthropic_body(max_tokens=5000, thinking={"type": "enabled", "budget_tokens": 2000})
    )
    assert enabled.thinking_budget == 2000
    disabled = anthropic.parse_request(anthropic_body(thinking={"type": "disabled"}))
    assert disabled.thinking_budget == 0
    adaptive = anthropic.parse_request(
        anthropic_body(thinking={"type": "adaptive"}, output_config={"effort": "max"})
    )
    assert (adaptive.thinking_budget, adaptive.reasoning_effort) == (None, "xhigh")
    level = gemini.parse_request(gemini_body(thinkingConfig={"thinkingLevel": "low"}), model="m")
    assert level.reasoning_effort == "low"
    budget = gemini.parse_request(
        gemini_body(thinking_config={"thinking_budget": 512, "include_thoughts": True}), model="m"
    )
    assert budget.thinking_budget == 512
    dynamic = gemini.parse_request(gemini_body(thinkingConfig={"thinkingBudget": -1}), model="m")
    assert dynamic.thinking_budget is None


def test_reasoning_built_for_openai() -> None:
    assert (
        openai.build_request(request(reasoning_effort="minimal"))["reasoning_effort"] == "minimal"
    )
    for budget in (0, 2000, 31999):  # a budget alone: reported, not guessed into an effort
        budget_only = request(thinking_budget=budget)
        assert "reasoning_effort" not in openai.build_request(budget_only)
        assert budget_only.dropped == ["thinking_budget"]
    both = request(thinking_budget=2000, reasoning_effort="low")
    assert openai.build_request(both)["reasoning_effort"] == "low"
    assert both.dropped == []


def test_reasoning_built_for_anthropic() -> None:
    body = anthropic.build_request(request(reasoning_effort="medium"))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert body["max_tokens"] > 8192  # room made when the client set no limit
    clamped = anthropic.build_request(request(thinking_budget=5000, max_tokens=3000))
    assert clamped["thinking"] == {"type": "enabled", "budget_tokens": 2999}
    assert clamped["max_tokens"] == 3000
    assert anthropic.build_request(request(reasoning_effort="none"))["thinking"] == {
        "type": "disabled"
    }


def test_anthropic_thinking_conflicts_are_left_out_and_reported() -> None:
    no_room = request(reasoning_effort="high", max_tokens=500)
    assert "thinking" not in anthropic.build_request(no_room)
    assert no_room.dropped == ["reasoning_effort"]
    sampled = request(thinking_budget=2048, temperature=0.2, top_k=5, top_p=0.5)
    body = anthropic.build_request(sampled)
    assert body["thinking"]["budget_tokens"] == 2048
    assert not {"temperature", "top_k", "top_p"} & body.keys()
    assert sampled.dropped == ["temperature", "top_k", "top_p"]
    forced = ChatRequest(
        "m",
        list(HI),
        tools=[Tool("f")],
        tool_choice=ToolChoice("tool", "f"),
        reasoning_effort="low",
    )
    assert "thinking" not in anthropic.build_request(forced)
    assert forced.dropped == ["reasoning_effort"]


def test_reasoning_built_for_gemini() -> None:
    budget = gemini.build_request(request(reasoning_effort="low"))["generationConfig"]
    assert budget["thinkingConfig"] == {"thinkingBudget": 2048, "includeThoughts": True}
    level = ChatRequest("gemini-3-pro-preview", list(HI), reasoning_effort="xhigh")
    assert gemini.build_request(level)["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": "high",
        "includeThoughts": True,
    }
    capped = gemini.build_request(request(thinking_budget=31999))["generationConfig"]
    assert capped["thinkingConfig"]["thinkingBudget"] == 24576
    off = gemini.build_request(request(thinking_budget=0))["generationConfig"]
    assert off["thinkingConfig"] == {"thinkingBudget": 0, "includeThoughts": False}


# ---- signed reasoning across tool-call turns -----------------------------------------


def tool_turn(*reasoning: Reasoning) -> ChatRequest:
    return request(
        messages=[
            Message("user", [Text("weather?")]),
            Message("assistant", [*reasoning, ToolCall("c1", "get", {"q": 1})]),
            Message("user", [ToolResult("c1", [Text("sunny")], name="get")]),
        ]
    )


def test_signed_thinking_goes_back_to_anthropic() -> None:
    body = anthropic.build_request(tool_turn(Reasoning("let me check", "sig-a", "anthropic")))
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "let me check", "signature": "sig-a"},
        {"type": "tool_use", "id": "c1", "name": "get", "input": {"q": 1}},
    ]
    for other in (
        Reasoning("from elsewhere"),
        Reasoning("Gemini's", "sig-g", "gemini"),
        Reasoning("OpenAI's", "gAAAA-enc", "responses"),
        Reasoning("unknown maker", "sig-?"),
    ):
        unsigned = anthropic.build_request(tool_turn(other))
        assert [b["type"] for b in unsigned["messages"][1]["content"]] == ["tool_use"]


def test_signature_goes_back_to_gemini_on_the_call() -> None:
    body = gemini.build_request(tool_turn(Reasoning("", "sig-g", "gemini")))
    assert body["contents"][1]["parts"] == [
        {"functionCall": {"name": "get", "args": {"q": 1}}, "thoughtSignature": "sig-g"}
    ]
    foreign = tool_turn(Reasoning("", "sig-a", "anthropic"), Reasoning("", "enc", "responses"))
    assert gemini.build_request(foreign)["contents"][1]["parts"] == [
        {"functionCall": {"name": "get", "args": {"q": 1}}}
    ]
    foreign.model = "gemini-3-pro-preview"  # Gemini 3 wants one: the documented skip value
    assert gemini.build_request(foreign)["contents"][1]["parts"] == [
        {
            "functionCall": {"name": "get", "args": {"q": 1}},
            "thoughtSignature": "skip_thought_signature_validator",
        }
    ]


def test_openai_has_no_place_for_reasoning_in_requests() -> None:
    body = openai.build_request(tool_turn(Reasoning("thinking", "sig")))
    assistant = body["messages"][1]
    assert "reasoning_content" not in assistant and "sig" not in str(assistant)


def test_gemini_signature_round_trips_through_anthropic() -> None:
    """A Gemini reply's signature reaches an Anthropic client as a thinking block, which
    the client sends back: it arrives on the Gemini function call again."""
    reply = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "get", "args": {"q": 1}}, "thoughtSignature": "S"}
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }
    message = anthropic.build_response(gemini.parse_response(reply))
    # tagged with its origin, so that it is told apart from Anthropic's when it comes back
    tagged = "cherrynbgemiS"
    assert message["content"][0] == {"type": "thinking", "thinking": "", "signature": tagged}
    replay = anthropic.parse_request(
        anthropic_body(
            messages=[
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": message["content"]},
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": message["content"][1]["id"],
                            "content": "sunny",
                        }
                    ],
                },
            ]
        )
    )
    replay.model = "gemini-3-pro-preview"
    parts = gemini.build_request(replay)["contents"][1]["parts"]
    assert parts == [{"functionCall": {"name": "get", "args": {"q": 1}}, "thoughtSignature": "S"}]


def sse(data: bytes) -> list[Any]:
    return SSEParser().feed(data)


def test_anthropic_stream_carries_signatures_both_ways() -> None:
    writer = anthropic.StreamWriter()
    data = b"".join(
        writer.write(e)
        for e in [
            StreamStart("m1", "claude"),
            ReasoningDelta("hmm"),
            ReasoningDelta("", "sig-1", "gemini"),
            TextDelta("answer"),
            StreamEnd("end_turn", Usage(10, 5, 2, 3)),
        ]
    )
    assert b'"signature_delta","signature":"cherrynbgemisig-1"' in data
    parser = anthropic.StreamParser()
    events = [e for event in sse(data) for e in parser.feed(event)]
    signed = ReasoningDelta("", "sig-1", "gemini")
    assert events[1:4] == [ReasoningDelta("hmm"), signed, TextDelta("answer")]
    assert events[-1] == StreamEnd("end_turn", Usage(10, 5, 2, 3))
    accumulator = ResponseAccumulator()
    for event in events:
        accumulator.add(event)
    assert accumulator.response().content[0] == Reasoning("hmm", "sig-1", "gemini")


def test_gemini_stream_carries_signatures_both_ways() -> None:
    writer = gemini.StreamWriter(model="g")
    data = b"".join(
        writer.write(e)
        for e in [
            StreamStart("r1", "g"),
            ReasoningDelta("", "sig-2", "anthropic"),
            ToolCallStart(0, "c1", "get"),
            ToolCallDelta(0, '{"q":1}'),
            StreamEnd("tool_use", Usage(10, 5, reasoning_tokens=2)),
        ]
    )
    parser = gemini.StreamParser(model="g")
    events = [e for event in sse(data) for e in parser.feed(event)] + parser.close()
    signed = ReasoningDelta("", "sig-2", "anthropic")
    assert b'"thoughtSignature":"cherrynbanthsig-2"' in data
    assert signed in events
    assert events.index(signed) < next(
        i for i, e in enumerate(events) if isinstance(e, ToolCallStart)
    )
    assert events[-1] == StreamEnd("tool_use", Usage(10, 5, reasoning_tokens=2))


# ---- usage ---------------------------------------------------------------------------


USAGE = Usage(100, 40, cache_read_tokens=30, cache_write_tokens=20, reasoning_tokens=10)


def test_usage_in_each_format() -> None:
    response = ChatResponse("r", "m", [Text("x")], "end_turn", USAGE)
    built_openai = openai.build_response(response)["usage"]
    assert built_openai["prompt_tokens_details"] == {"cached_tokens": 30}
    assert built_openai["completion_tokens_details"] == {"reasoning_tokens": 10}
    built_anthropic = anthropic.build_response(response)["usage"]
    assert built_anthropic == {
        "input_tokens": 50,
        "output_tokens": 40,
        "cache_read_input_tokens": 30,
        "cache_creation_input_tokens": 20,
    }
    built_gemini = gemini.build_response(response)["usageMetadata"]
    assert built_gemini == {
        "promptTokenCount": 100,
        "candidatesTokenCount": 30,
        "totalTokenCount": 140,
        "cachedContentTokenCount": 30,
        "thoughtsTokenCount": 10,
    }
    # Each format reads back what it has a field for.
    assert openai.parse_response(openai.build_response(response)).usage == Usage(
        100, 40, 30, None, 10
    )
    assert anthropic.parse_response(anthropic.build_response(response)).usage == Usage(
        100, 40, 30, 20
    )
    assert gemini.parse_response(gemini.build_response(response)).usage == Usage(
        100, 40, 30, None, 10
    )


def test_openai_stream_usage_carries_cache_and_reasoning() -> None:
    data = openai.StreamWriter().write(StreamStart("c", "m")) + openai.StreamWriter().write(
        StreamEnd("end_turn", USAGE)
    )
    assert b'"cached_tokens":30' in data and b'"reasoning_tokens":10' in data


# ---- n ---------------------------------------------------------------------------------


def test_n_read_and_built() -> None:
    assert openai.parse_request(openai_body(n=3)).n == 3
    assert gemini.parse_request(gemini_body(candidateCount=2), model="m").n == 2
    assert gemini.build_request(request(n=2))["generationConfig"]["candidateCount"] == 2
    assert openai.build_request(request(n=2))["n"] == 2
    with pytest.raises(WireFormatError) as caught:
        openai.parse_request(openai_body(n=0))
    assert caught.value.param == "n"


@pytest.mark.parametrize(
    ("build", "stream"),
    [(anthropic.build_request, False), (gemini.build_request, True), (openai.build_request, True)],
)
def test_n_refused_where_one_choice_would_come_back(build: Any, stream: bool) -> None:
    with pytest.raises(WireFormatError) as caught:
        build(request(n=2, stream=stream))
    assert caught.value.param == "n"
    assert "n=2" in str(caught.value)


def test_several_choices_between_gemini_and_openai() -> None:
    reply = {
        "candidates": [
            {"content": {"parts": [{"text": "b"}]}, "finishReason": "MAX_TOKENS", "index": 1},
            {"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP", "index": 0},
        ],
        "responseId": "r",
        "modelVersion": "g",
    }
    response = gemini.parse_response(reply)
    assert response.content == [Text("a")]
    assert response.more_choices == [Choice([Text("b")], "max_tokens")]
    choices = openai.build_response(response)["choices"]
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in choices] == [
        (0, "a", "stop"),
        (1, "b", "length"),
    ]
    again = openai.parse_response(openai.build_response(response))
    assert again.more_choices == response.more_choices
    candidates = gemini.build_response(again)["candidates"]
    assert [c["index"] for c in candidates] == [0, 1]


# ---- seed, penalties, user, parallel tool calls ----------------------------------------


EXTRAS = {"seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5, "user": "u-1"}


def test_sampling_extras_read() -> None:
    parsed = openai.parse_request(openai_body(**EXTRAS, parallel_tool_calls=False))
    assert (parsed.seed, parsed.presence_penalty, parsed.frequency_penalty, parsed.user) == (
        7,
        0.5,
        -0.5,
        "u-1",
    )
    assert parsed.parallel_tool_calls is False
    from_gemini = gemini.parse_request(
        gemini_body(seed=7, presencePenalty=0.5, frequency_penalty=-0.5), model="m"
    )
    assert (from_gemini.seed, from_gemini.presence_penalty, from_gemini.frequency_penalty) == (
        7,
        0.5,
        -0.5,
    )
    from_anthropic = anthropic.parse_request(
        anthropic_body(
            metadata={"user_id": "u-1"},
            tools=[{"name": "f", "input_schema": {"type": "object"}}],
            tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        )
    )
    assert (from_anthropic.user, from_anthropic.parallel_tool_calls) == ("u-1", False)


def test_sampling_extras_built() -> None:
    tools = [Tool("f")]
    fields = {
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "user": "u-1",
        "parallel_tool_calls": False,
        "tools": tools,
    }
    to_openai = openai.build_request(request(**fields))
    assert {k: to_openai[k] for k in (*EXTRAS, "parallel_tool_calls")} == {
        **EXTRAS,
        "parallel_tool_calls": False,
    }
    to_gemini = request(**fields)
    config = gemini.build_request(to_gemini)["generationConfig"]
    assert (config["seed"], config["presencePenalty"], config["frequencyPenalty"]) == (
        7,
        0.5,
        -0.5,
    )
    assert to_gemini.dropped == ["user", "parallel_tool_calls"]
    to_anthropic = request(**fields)
    body = anthropic.build_request(to_anthropic)
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert to_anthropic.dropped == ["seed", "presence_penalty", "frequency_penalty"]


def test_top_k_has_no_openai_field() -> None:
    dropped = request(top_k=5)
    assert "top_k" not in openai.build_request(dropped)
    assert dropped.dropped == ["top_k"]


def test_stop_sequences_map_everywhere() -> None:
    stop = ["END"]
    assert openai.build_request(request(stop=stop))["stop"] == stop
    assert anthropic.build_request(request(stop=stop))["stop_sequences"] == stop
    assert gemini.build_request(request(stop=stop))["generationConfig"]["stopSequences"] == stop


# ---- fields with no mapping, listed by the readers -----------------------------------


def test_readers_list_known_fields_they_do_not_carry() -> None:
    parsed = openai.parse_request(openai_body(logprobs=True, store=False, service_tier="auto"))
    assert parsed.dropped == ["logprobs", "store", "service_tier"]
    parsed = anthropic.parse_request(anthropic_body(service_tier="auto", container="c"))
    assert parsed.dropped == ["service_tier", "container"]
    body = gemini_body(responseModalities=["TEXT"])
    body["safetySettings"] = []
    assert gemini.parse_request(body, model="m").dropped == ["safetySettings", "responseModalities"]


def test_openai_legacy_functions_read_as_tools() -> None:
    fn = {"name": "get", "parameters": {"type": "object"}}
    parsed = openai.parse_request(openai_body(functions=[fn], function_call={"name": "get"}))
    assert parsed.tools == [Tool("get", "", {"type": "object"})]
    assert parsed.tool_choice == ToolChoice("tool", "get")
    auto = openai.parse_request(openai_body(functions=[fn], function_call="auto"))
    assert auto.tool_choice == ToolChoice("auto")
    with pytest.raises(WireFormatError) as caught:
        openai.parse_request(openai_body(functions=[fn], function_call="sometimes"))
    assert caught.value.param == "function_call"


def test_anthropic_thinking_left_off_for_a_tool_turn_without_signature() -> None:
    unsigned = request(
        messages=tool_turn(Reasoning("from an OpenAI client")).messages, reasoning_effort="low"
    )
    assert "thinking" not in anthropic.build_request(unsigned)
    assert unsigned.dropped == ["reasoning_effort"]
    turn = tool_turn(Reasoning("t", "sig", "anthropic")).messages
    signed = request(messages=turn, reasoning_effort="low")
    assert anthropic.build_request(signed)["thinking"]["type"] == "enabled"
    assert signed.dropped == []
