"""JSON Schema <-> Gemini's schema subset: a recorded Claude Code-like schema and tables."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cherry_nb.wire.gemini import _schema as gemini_schema

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_sanitize_schema_claude_code_like() -> None:
    case = load("schema_claude_code.json")
    assert gemini_schema.sanitize_schema(case["input"]) == case["expected"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "email"}, {"type": "string"}),
        (
            {"type": "string", "format": "enum", "enum": ["a"]},
            {"type": "string", "format": "enum", "enum": ["a"]},
        ),
        ({"type": "integer", "format": "int64"}, {"type": "integer", "format": "int64"}),
        ({"type": "STRING", "format": "date-time"}, {"type": "string", "format": "date-time"}),
        ({"type": "number", "format": "int32"}, {"type": "number"}),
        ({"const": True}, {"type": "boolean", "description": "Allowed values: true."}),
        ({"type": ["string", "number"]}, {"anyOf": [{"type": "string"}, {"type": "number"}]}),
        ({"type": ["null", "string"]}, {"type": "string", "nullable": True}),
        (
            {"oneOf": [{"type": "string"}, {"type": "integer"}], "description": "id"},
            {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "id"},
        ),
        (
            {
                "allOf": [
                    {"properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "string"}}, "required": ["b"]},
                ]
            },
            {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "required": ["a", "b"],
            },
        ),  # fmt: skip
        (
            {"properties": {"x": {}}, "required": ["x", "y"]},
            {"type": "object", "properties": {"x": {}}, "required": ["x"]},
        ),
        ({"type": "object", "properties": {}, "required": ["a"]}, {"type": "object"}),
        (
            {"type": "array", "items": [{"type": "integer"}]},
            {"type": "array", "items": {"type": "integer"}},
        ),
        (
            {"type": "array", "items": [{"type": "integer"}, {"type": "boolean"}]},
            {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}},
        ),
        (
            {"items": {"type": "number", "exclusiveMaximum": 5}},
            {"type": "array", "items": {"type": "number"}},
        ),
        # A property literally named like a schema keyword is data, not a keyword.
        (
            {
                "type": "object",
                "properties": {"default": {"type": "string"}, "$ref": {"type": "string"}},
            },
            {
                "type": "object",
                "properties": {"default": {"type": "string"}, "$ref": {"type": "string"}},
            },
        ),
        ("not a schema", {}),
    ],
)
def test_sanitize_schema_table(schema: Any, expected: dict[str, Any]) -> None:
    assert gemini_schema.sanitize_schema(schema) == expected


def test_sanitize_schema_refs() -> None:
    schema = {
        "type": "object",
        "properties": {
            "node": {"$ref": "#/definitions/Node", "description": "root"},
            "alias": {"$ref": "#/$defs/Alias"},
            "remote": {"$ref": "https://example.com/schema.json"},
        },
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}
                },
            }
        },
        "$defs": {"Alias": {"$ref": "#/$defs/Leaf"}, "Leaf": {"type": "string", "title": "Leaf"}},
    }
    assert gemini_schema.sanitize_schema(schema) == {
        "type": "object",
        "properties": {
            "node": {
                "type": "object",
                "description": "root",
                # The cycle is cut with an opaque object one level down.
                "properties": {"children": {"type": "array", "items": {"type": "object"}}},
            },
            "alias": {"type": "string", "title": "Leaf"},
            "remote": {"type": "object"},
        },
    }


def test_sanitize_schema_does_not_mutate_input() -> None:
    case = load("schema_claude_code.json")
    before = copy.deepcopy(case["input"])
    gemini_schema.sanitize_schema(case["input"])
    assert case["input"] == before


def test_schema_to_json_lowercases_types_only() -> None:
    schema = {"type": "OBJECT", "properties": {"TYPE": {"type": "STRING", "enum": ["A"]}}}
    assert gemini_schema.schema_to_json(schema) == {
        "type": "object",
        "properties": {"TYPE": {"type": "string", "enum": ["A"]}},
    }
