"""JSON Schema <-> the OpenAPI subset Gemini accepts for function `parameters`.

Pure code, no I/O: `sanitize_schema` reduces a client's JSON Schema (OpenAI or
Anthropic tools, Claude Code's rich ones included) to what Gemini takes;
`schema_to_json` reads a Gemini-native schema back as JSON Schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_SCHEMA_KEYS = frozenset(
    "type format title description nullable enum properties required items anyOf "
    "minItems maxItems minimum maximum minLength maxLength minProperties maxProperties".split()
)
_FORMATS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}


def sanitize_schema(schema: Any) -> dict[str, Any]:
    """A JSON Schema from an OpenAI/Anthropic client, reduced to what Gemini accepts.

    Gemini answers 400 for any key outside its Schema message (`additionalProperties`,
    `$schema`, `default`, ...), so this keeps an allow-list, inlines local `$ref`s,
    turns `const` into a one-value enum and `["x", "null"]` types into `nullable`.
    """
    if not isinstance(schema, Mapping):
        return {}
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(schema.get(key), Mapping):
            defs.update(schema[key])
    return _sanitize(schema, defs, ())


def _sanitize(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        return {}
    node = dict(node)
    ref = node.pop("$ref", None)
    if isinstance(ref, str):
        name = ref.rpartition("/")[2] if ref.startswith(("#/$defs/", "#/definitions/")) else ""
        target = defs.get(name)
        if name not in seen and isinstance(target, Mapping):  # siblings override the target
            return _sanitize({**target, **node}, defs, (*seen, name))
        node.setdefault("type", "object")  # cyclic or foreign: an opaque object
    for combo in ("allOf", "oneOf"):
        subs = node.pop(combo, None)
        if isinstance(subs, list) and subs:
            if combo == "allOf":
                node = _merge_all_of(subs, node)
            else:
                node.setdefault("anyOf", subs)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _sanitize(sub, defs, seen) for name, sub in value.items()}
        elif key == "items":
            if isinstance(value, list):  # tuple form: any of the positions
                value = value[0] if len(value) == 1 else {"anyOf": value}
            out[key] = _sanitize(value, defs, seen)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [_sanitize(sub, defs, seen) for sub in value]
        else:
            out[key] = value
    return _normalize(out)


def _merge_all_of(subs: list[Any], node: dict[str, Any]) -> dict[str, Any]:
    """Shallow merge; properties and required are unioned."""
    merged: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for sub in [*subs, node]:
        if isinstance(sub, Mapping):
            merged.update(sub)
            properties.update(sub.get("properties") or {})
            required += [r for r in sub.get("required") or () if r not in required]
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _normalize(out: dict[str, Any]) -> dict[str, Any]:
    """Fix up types, nullability, enums, formats and required after key filtering."""
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = kind.lower()  # Gemini-native schemas may say "STRING"
    elif isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            del out["type"]
            if kinds:
                out["anyOf"] = [{"type": k} for k in kinds]
    any_of = out.get("anyOf")
    if isinstance(any_of, list):
        rest = [s for s in any_of if s.get("type") != "null"]
        if len(rest) < len(any_of):
            out["nullable"] = True
        if len(rest) == 1:
            del out["anyOf"]
            out = {**rest[0], **out}
        elif rest:
            out["anyOf"] = rest
        else:
            del out["anyOf"]
    if "type" not in out and "anyOf" not in out:  # Gemini needs a type to be stated
        if "properties" in out:
            out["type"] = "object"
        elif "items" in out:
            out["type"] = "array"
        elif isinstance(out.get("enum"), list) and out["enum"]:
            out["type"] = _enum_type(out["enum"])
    enum = out.get("enum")
    if isinstance(enum, list) and not all(isinstance(v, str) for v in enum):
        del out["enum"]  # Gemini enums are string-only: keep the constraint as prose
        allowed = ", ".join(json.dumps(v) for v in enum)
        hint = f"Allowed values: {allowed}."
        out["description"] = f"{out['description']} {hint}" if out.get("description") else hint
    fmt = out.get("format")
    if fmt is not None and fmt not in _FORMATS_BY_TYPE.get(str(out.get("type")), ()):
        del out["format"]
    if out.get("type") == "array" and not out.get("items"):
        out["items"] = {"type": "string"}  # Gemini rejects arrays without items
    properties = out.get("properties")
    if isinstance(properties, Mapping):
        if not properties:
            del out["properties"]
        required = [r for r in out.get("required") or () if r in properties]
        if required:
            out["required"] = required
        else:
            out.pop("required", None)
    else:
        out.pop("required", None)
    return out


def _enum_type(values: list[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "integer"
    return "number" if kinds <= {int, float} else "string"


def schema_to_json(schema: Any) -> Any:
    """Gemini clients may spell types as the OpenAPI enum (`OBJECT`); JSON Schema is lowercase."""
    if isinstance(schema, Mapping):
        return {
            k: v.lower() if k == "type" and isinstance(v, str) else schema_to_json(v)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [schema_to_json(v) for v in schema]
    return schema
