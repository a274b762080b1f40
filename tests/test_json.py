"""`cherry_nb._json.loads` gives exactly what `json.loads` gives: the value or the error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from cherry_nb._json import LoneSurrogateError, loads

ACCEPTED = [
    '{"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "hi"}}]}',
    '{"a": 123456789012345678901234567890}',
    '{"a": 1.0000000000000002, "b": -0.0, "c": 1E2}',
    '{"a": 1, "a": 2}',
    '{"a": "\\ud83d\\ude00 \\u0000 \x7f"}',
    '"\\ud800"',  # a lone surrogate: pydantic-core refuses it, json.loads does not
    "NaN",
    '{"a": Infinity, "b": -Infinity, "c": 1e400}',
    ' {"a": 1}\n',
    "[" * 400 + "]" * 400,  # deeper than pydantic-core's limit, within json's
]
REFUSED = ['"a\nb"', '{"a":01}', '{"a":.5}', "{'a':1}", '{"a":true,}', "[1,", '{"a":1} x', "tru"]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_input_gives_json_loads_value(text: str) -> None:
    assert same(loads(text), json.loads(text))


@pytest.mark.parametrize("text", REFUSED)
def test_refused_input_raises_json_loads_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        loads(text)
    assert str(got.value) == str(expected.value)


def test_parse_constant_is_honoured() -> None:
    def refuse(name: str) -> Any:
        raise ValueError(f"no {name}")

    assert loads('{"a": 1}', parse_constant=refuse) == {"a": 1}
    for text in ("NaN", '{"a": Infinity}', "[-Infinity]"):
        with pytest.raises(ValueError, match="no "):
            loads(text, parse_constant=refuse)


@pytest.mark.parametrize("text", ['"\\ud800"', '{"a": "\\udc00"}', '["x\\ud800\\u0041"]'])
def test_unicode_refuses_lone_surrogates(text: str) -> None:
    assert loads(text) == json.loads(text)  # accepted without the flag, as json.loads does
    with pytest.raises(LoneSurrogateError):
        loads(text, unicode=True)


def test_unicode_accepts_pairs_and_deep_nesting() -> None:
    assert loads('"\\ud83d\\ude00"', unicode=True) == "\U0001f600"
    deep = "[" * 400 + '"\\ud83d\\ude00"' + "]" * 400  # past pydantic-core's depth limit
    assert same(loads(deep, unicode=True), json.loads(deep))
    with pytest.raises(LoneSurrogateError):
        loads("[" * 400 + '"\\ud800"' + "]" * 400, unicode=True)
