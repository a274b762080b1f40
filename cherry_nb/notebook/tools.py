"""Python functions of the notebook as tools the model may call (`%%chat --tools f,g`).

The JSON Schema of a function's parameters comes from its signature and type
hints (pydantic's TypeAdapter, which also validates and coerces the model's
arguments before the call), the descriptions from its docstring (the first
paragraph for the function; Google-style `Args:` or Sphinx `:param x:` lines for
the parameters). Calls run in the kernel, on its main thread, like any cell code.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ArgsKwargs

from .._exceptions import ConfigError
from ..wire.neutral import Tool

MAX_RESULT_CHARS = 20_000  # what a result may add to the conversation
_GOOGLE_ARG = re.compile(r"^\s{2,}(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")
_SPHINX_ARG = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.+)$")


@dataclass(frozen=True, slots=True)
class PythonTool:
    """A notebook function, described for the model."""

    name: str
    function: Callable[..., Any]
    description: str
    parameters: dict[str, Any]

    def spec(self) -> Tool:
        return Tool(self.name, self.description, self.parameters)

    def call(self, arguments: Mapping[str, Any]) -> tuple[str, bool]:
        """Run it with the model's arguments: (result as text, whether it failed).

        Bad arguments and exceptions are results too: the model reads the error
        and may correct itself, as with any tool.
        """
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(self.function)  # type: ignore[arg-type]
            value = adapter.validate_python(ArgsKwargs((), dict(arguments)))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return f"Invalid arguments for {self.name}: {problems}", True
        except Exception as exc:  # the user's function failed: tell the model, not a traceback
            return f"{type(exc).__name__}: {exc}", True
        return result_text(value), False


def python_tool(function: Callable[..., Any], name: str | None = None) -> PythonTool:
    """Describe `function` for the model; ConfigError when it cannot be."""
    name = str(name or getattr(function, "__name__", ""))
    if not callable(function) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", name):
        raise ConfigError(f"{name or function!r} is not a function that can be a tool.")
    try:
        schema = TypeAdapter(function).json_schema()  # type: ignore[arg-type]
    except Exception as exc:  # a hint pydantic cannot turn into a schema
        raise ConfigError(
            f"Cannot describe {name}() for the model: {exc}. Give its parameters type hints "
            "such as str, int, float, bool, list[str] or a pydantic model."
        ) from None
    summary, arg_docs = parse_docstring(inspect.getdoc(function) or "")
    properties = schema.get("properties", {})
    for arg, prop in properties.items():
        prop.pop("title", None)
        if arg in arg_docs and "description" not in prop:
            prop["description"] = arg_docs[arg]
    schema.pop("title", None)
    schema.pop("additionalProperties", None)
    schema.setdefault("properties", {})
    return PythonTool(name, function, summary or f"The notebook function {name}().", schema)


def tools_from_namespace(names: Sequence[str], namespace: Mapping[str, Any]) -> list[PythonTool]:
    """The functions named in `--tools a,b`, looked up in the user namespace."""
    tools = []
    for name in names:
        if name not in namespace:
            raise ConfigError(
                f"No function named {name!r} in this notebook: define it (def {name}(...): ...) "
                "in a cell above, then run that cell."
            )
        tools.append(python_tool(namespace[name], name))
    return tools


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(first paragraph, {parameter: description}) of a Google or Sphinx docstring."""
    paragraphs = doc.strip().split("\n\n")
    summary = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    if summary.startswith((":param", "Args:", "Arguments:", "Parameters")):
        summary = ""
    args: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        if line.strip() in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        match = _SPHINX_ARG.match(line)
        if match:
            args[match.group(1)] = match.group(2).strip()
            continue
        if in_args:
            match = _GOOGLE_ARG.match("  " + line.strip() if line.startswith(" ") else line)
            if match:
                args[match.group(1).lstrip("*")] = match.group(2).strip()
            elif line.strip() and not line.startswith(" "):
                in_args = False
    return summary, args


def result_text(value: Any) -> str:
    """A tool's return value as text for the model: strings as they are, anything
    JSON can hold as JSON, the rest by repr; cut at MAX_RESULT_CHARS."""
    if isinstance(value, str):
        text = value
    else:
        to_json = getattr(value, "to_json", None)  # pandas objects
        try:
            text = to_json() if callable(to_json) else json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"… [{len(text) - MAX_RESULT_CHARS} characters cut]"
    return text


def call_line(name: str, arguments: Mapping[str, Any], result: str, failed: bool) -> str:
    """One call, compactly, as Markdown: `name(a=1, b='x')` → result (cut short)."""
    args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    shown = " ".join(result.split())
    if len(shown) > 120:
        shown = shown[:119] + "…"
    arrow = "✗" if failed else "→"
    return f"`{name}({args})` {arrow} `{shown.replace('`', 'ʼ')}`"
