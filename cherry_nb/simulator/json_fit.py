"""A deterministic JSON value fitting a JSON Schema: the simulator's tool arguments and
its structured output (every protocol's `response_format` / `output_config.format` /
`responseJsonSchema` / `text.format`).

It follows `$ref` into `$defs`/`definitions` (pydantic's nested models) and honours the
bounds strict schemas use (minLength, minimum, minItems, formats), so the official SDKs'
`parse` helpers validate the reply against the caller's model. Structured output fills
every property; tool arguments (`all_properties=False`) only the required ones, as a
model calling an agent's tool would: optional switches of a real tool (a working
directory, escalated permissions) left unset keep the client's tool run ordinary.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fit_schema"]

_MAX_DEPTH = 12
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}


def fit_schema(schema: Any, *, all_properties: bool = True) -> Any:
    """A value valid against `schema` (for the keywords strict structured output allows);
    objects get every property, or only the required ones."""
    root = schema if isinstance(schema, dict) else {}
    return _Fit(root, all_properties).value(root, 0)


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    """A local `#/...` reference; anything else resolves to an empty schema."""
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for key in ref[1:].strip("/").split("/") if ref != "#" else ():
        node = (
            node.get(key.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
        )
    return node if isinstance(node, dict) else {}


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind.lower()
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else None


class _Fit:
    """One schema's walk: its root (for references) and which properties to fill."""

    __slots__ = ("_root", "_all")

    def __init__(self, root: dict[str, Any], all_properties: bool) -> None:
        self._root, self._all = root, all_properties

    def value(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        if isinstance(schema.get("$ref"), str):
            return self.value(_resolve(schema["$ref"], self._root), depth + 1)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "default" in schema and not isinstance(schema.get("type"), str):
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = next(
                    (o for o in options if not (isinstance(o, dict) and o.get("type") == "null")),
                    options[0],
                )
                return self.value(chosen, depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                if isinstance(part, dict):
                    merged.update(_resolve(part["$ref"], self._root) if "$ref" in part else part)
            return self.value(merged, depth + 1)
        return self._typed(schema, depth)

    def _typed(self, schema: dict[str, Any], depth: int) -> Any:
        kind = _kind(schema)
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, kind)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        if kind == "array":
            count = schema.get("minItems")
            count = count if isinstance(count, int) and count > 0 else 1
            item = schema.get("items", {"type": "string"})
            return [self.value(item, depth + 1) for _ in range(count)]
        if kind == "object":
            return self._object(schema, depth)
        return "example"

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = [n for n in schema.get("required") or () if isinstance(n, str)]
        names = list(props) + [n for n in required if n not in props] if self._all else required
        return {
            name: self.value(props[name], depth + 1) if name in props else "example"
            for name in names
        }


def _string(schema: dict[str, Any]) -> str:
    text = _FORMATS.get(str(schema.get("format")), "example")
    minimum = schema.get("minLength")
    if isinstance(minimum, int) and len(text) < minimum:
        text += "x" * (minimum - len(text))
    maximum = schema.get("maxLength")
    return text[:maximum] if isinstance(maximum, int) else text


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: int | float = 1
    if isinstance(low, int | float) and not isinstance(low, bool):
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if isinstance(high, int | float) and not isinstance(high, bool) and value > high:
        value = high
    return int(value) if kind == "integer" else value
