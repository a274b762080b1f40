"""The protocol-neutral decisions, as pure functions: directives and plans (the JSON that
fits a schema is test_sim_json_fit.py's)."""

from __future__ import annotations

from cherry_nb.simulator import proto_anthropic, proto_gemini, proto_openai
from cherry_nb.simulator.plan import (
    Conversation,
    Options,
    lorem_words,
    make_plan,
    parse_directives,
    split_fragments,
)


def test_parse_directives() -> None:
    text, opts = parse_directives(
        "Hi [[sim:words=12]][[sim:delay=0.5]] [[sim:fail=503]] [[sim:retry_after=2.5]]"
        " [[sim:drop_after=4]] [[sim:html]] [[sim:words=oops]] there"
    )
    assert text.split() == ["Hi", "there"]
    assert opts == Options(fail=503, retry_after=2.5, delay=0.5, words=12, drop_after=4, html=True)
    assert parse_directives("plain text") == ("plain text", Options())


def test_scripted_options_override_directives() -> None:
    merged = Options(words=5, delay=1.0).merged(Options(delay=0.0, fail=429))
    assert merged == Options(fail=429, delay=0.0, words=5)


def test_lorem_is_deterministic_and_exact() -> None:
    words = lorem_words(30)
    assert words == lorem_words(30)
    assert len(words) == 30
    assert all(w.endswith(" ") for w in words[:-1]) and not words[-1].endswith(" ")
    assert words[0][0].isupper() and words[-1].endswith(".")
    assert lorem_words(0) == []


def test_fragments() -> None:
    assert split_fragments('{"city":"example"}') == ['{"city":', '"example', '"}']
    assert split_fragments("") == [""]


def test_plan_text_and_usage() -> None:
    conv = Conversation(model="m", message_count=2, user_text="hi  there", text_chars=9)
    plan = make_plan(conv, Options())
    assert plan.text == "**m** received 2 messages. You said: “hi there”"
    assert plan.chunks == [
        "**m** ",
        "received ",
        "2 ",
        "messages. ",
        "You ",
        "said: ",
        "“hi ",
        "there”",
    ]
    assert plan.input_tokens == 3
    assert plan.output_tokens == 8
    assert plan.finish == "stop"


def test_plan_tool_call() -> None:
    conv = Conversation(
        model="m",
        user_text="use beta or alpha",
        tools=[("alpha", {"type": "object"}), ("beta", {"type": "object", "properties": {}})],
    )
    plan = make_plan(conv, Options(words=50))
    assert plan.tool_name == "beta"
    assert plan.tool_args == {}
    assert plan.finish == "tool"
    conv.tool_results = [("beta", "done")]
    plan = make_plan(conv, Options())
    assert plan.tool_name is None and plan.text == "Tool beta returned: done"


def test_every_protocol_says_the_same_thing() -> None:
    """An equivalent request in each protocol gets the same reply text and token counts."""
    openai_conv = proto_openai.parse_chat(
        {
            "model": "sim-chat",
            "messages": [
                {"role": "system", "content": "Be nice"},
                {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
            ],
        }
    )
    anthropic_conv = proto_anthropic.parse_messages(
        {
            "model": "sim-chat",
            "max_tokens": 100,
            "system": "Be nice",
            "messages": [{"role": "user", "content": "Hello"}],
        }
    )
    gemini_conv = proto_gemini.parse_generate(
        {
            "systemInstruction": {"parts": [{"text": "Be nice"}]},
            "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        },
        "sim-chat",
    )
    plans = [make_plan(c, Options()) for c in (openai_conv, anthropic_conv, gemini_conv)]
    assert len({p.text for p in plans}) == 1
    assert len({(p.input_tokens, p.output_tokens) for p in plans}) == 1
