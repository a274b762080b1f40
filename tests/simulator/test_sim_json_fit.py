"""The one schema-fitting JSON generator (tool arguments and structured output, every
protocol): deterministic values that validate against the schema."""

from __future__ import annotations

from typing import Any

import jsonschema

from cherry_nb.simulator.json_fit import fit_schema


def test_tool_arguments_fill_the_required_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "e": {"enum": ["b", "a"]},
            "i": {"type": "integer"},
            "n": {"type": "NUMBER"},
            "b": {"type": "boolean"},
            "a": {"type": "array", "items": {"type": "integer"}},
            "o": {"properties": {"deep": {"type": "string"}}, "required": ["deep"]},
            "u": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
            "c": {"const": "fixed"},
            "nullable": {"type": ["null", "string"]},
            "skipped": {"type": "string"},
        },
        "required": ["s", "e", "i", "n", "b", "a", "o", "u", "c", "nullable"],
    }
    assert fit_schema(schema, all_properties=False) == {
        "s": "example",
        "e": "b",
        "i": 1,
        "n": 1,
        "b": True,
        "a": [1],
        "o": {"deep": "example"},
        "u": True,
        "c": "fixed",
        "nullable": "example",
    }
    assert fit_schema({}) == "example"
    assert fit_schema({"type": "object"}) == {}


def test_fit_schema_follows_refs_and_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/A"},
            "n": {"type": "integer", "minimum": 5},
            "s": {"type": "string", "minLength": 10},
            "d": {"type": "string", "format": "date"},
            "xs": {"type": "array", "items": {"type": "number"}, "minItems": 2},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
        },
        "$defs": {"A": {"type": "object", "properties": {"k": {"enum": ["x", "y"]}}}},
    }
    assert fit_schema(schema) == {
        "a": {"k": "x"},
        "n": 5,
        "s": "examplexxx",
        "d": "2024-01-01",
        "xs": [1, 1],
        "maybe": True,
    }


def test_structured_output_fills_every_property_and_validates() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "host": {"type": "string", "format": "ipv4"},
            "v6": {"type": "string", "format": "ipv6"},
            "when": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "maxLength": 3},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            "both": {"allOf": [{"$ref": "#/definitions/A"}, {"required": ["k"]}]},
            "optional": {"type": "integer", "minimum": 7},
        },
        "required": ["host"],
        "definitions": {"A": {"type": "object", "properties": {"k": {"const": 3}}}},
    }
    value = fit_schema(schema)
    assert value["optional"] == 7 and value["both"] == {"k": 3}
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    assert fit_schema(schema, all_properties=False) == {"host": "192.0.2.1"}
