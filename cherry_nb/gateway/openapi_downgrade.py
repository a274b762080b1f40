"""The gateway's OpenAPI 3.1 document rewritten as OpenAPI 3.0.3, for Swagger UI.

The bundled Swagger UI (version 4, what swagger-ui-bundle ships) renders only 3.0
documents, while `openapi.build_openapi` makes 3.1: `docs.py` serves this view at
/api-docs/openapi-3.0.json. Apart from `openapi.py` because it is a generic, pure
rewrite of any 3.1 document, not part of describing the gateway's routes.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_30"]

# JSON Schema 2020-12 keywords OpenAPI 3.0's schema objects do not have (`const` and
# `examples` are rewritten instead: see `_schema_30`).
_DROP_30 = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "contentMediaType",
        "contentSchema",
        "contentEncoding",
        "prefixItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "patternProperties",
        "if",
        "then",
        "else",
    }
)


def openapi_30(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` (OpenAPI 3.1, as `build_openapi` makes it) rewritten as OpenAPI 3.0.3.

    Swagger UI 4 (the version swagger-ui-bundle ships) renders only 3.0 documents.
    Schemas lose nothing the docs show: `{"anyOf": [X, {"type": "null"}]}` becomes X with
    `nullable`, `const` an one-value `enum`, `examples` one `example`.
    """
    out = copy.deepcopy(doc)
    out["openapi"] = "3.0.3"
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    info = out.get("info", {})
    info.pop("summary", None)
    info.get("license", {}).pop("identifier", None)
    components = out.get("components", {})
    components.pop("pathItems", None)
    components["schemas"] = {k: _schema_30(v) for k, v in components.get("schemas", {}).items()}
    for response in components.get("responses", {}).values():
        _response_30(response)
    for parameter in components.get("parameters", {}).values():
        _parameter_30(parameter)
    for path_item in out.get("paths", {}).values():
        for parameter in path_item.get("parameters", []):
            _parameter_30(parameter)
        for key, operation in path_item.items():
            if key == "parameters" or not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _parameter_30(parameter)
            body = operation.get("requestBody", {})
            for media in body.get("content", {}).values():
                _media_30(media)
            for response in operation.get("responses", {}).values():
                _response_30(response)
    return out


def _media_30(media: dict[str, Any]) -> None:
    if "schema" in media:
        media["schema"] = _schema_30(media["schema"])


def _parameter_30(parameter: dict[str, Any]) -> None:
    _media_30(parameter)
    for media in parameter.get("content", {}).values():
        _media_30(media)


def _response_30(response: dict[str, Any]) -> None:
    for media in response.get("content", {}).values():
        _media_30(media)
    for header in response.get("headers", {}).values():
        _parameter_30(header)


def _schema_30(schema: Any) -> Any:
    """One JSON Schema 2020-12 schema (and its subschemas) as an OpenAPI 3.0 schema."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: _schema_30(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _schema_30(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [_schema_30(sub) for sub in value]
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples":
            if isinstance(value, list) and value and "example" not in schema:
                out["example"] = value[0]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key not in _DROP_30:
            out[key] = value
    _nullable_30(out)
    if "$ref" in out and len(out) > 1:  # 3.0 ignores a $ref's siblings: wrap it
        out["allOf"] = [{"$ref": out.pop("$ref")}, *out.get("allOf", [])]
    return out


def _nullable_30(out: dict[str, Any]) -> None:
    """Null as a type or as a union member -> `nullable: true`."""
    kind = out.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            del out["type"]
            if len(kinds) > 1:
                out["anyOf"] = [{"type": k} for k in kinds] + out.get("anyOf", [])
    elif kind == "null":
        del out["type"]
        out["nullable"] = True
        out["enum"] = [None]
    for combiner in ("anyOf", "oneOf"):
        members = out.get(combiner)
        if not members:
            continue
        # Members are converted already: `{"type": "null"}` is `{"nullable": True, ...}`.
        others = [m for m in members if m != {"nullable": True, "enum": [None]}]
        if len(others) == len(members):
            continue
        del out[combiner]
        out["nullable"] = True
        if len(others) > 1:
            out[combiner] = others
        elif len(others) == 1:
            (only,) = others
            if "$ref" in only:
                out["allOf"] = [only, *out.get("allOf", [])]
            else:
                for key, value in only.items():
                    out.setdefault(key, value)
