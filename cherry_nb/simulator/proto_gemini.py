"""Gemini `generateContent` as the real v1beta REST API puts it on the wire.

Hand-written, independent of `cherry_nb.wire`. Accepts both the camelCase and
the snake_case field names (the real API does). Streams are SSE with CRLF
line endings, no terminal event, and usage only on the last chunk, exactly
the details a converter tends to get wrong; without `alt=sse` the stream is
one JSON array sent piece by piece, as the real API does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plan import Conversation, InvalidRequestError, Plan, dumps, reasons, signature_for

SKIP_SIGNATURE = "skip_thought_signature_validator"
"""Google's documented stand-in for a thoughtSignature a client could not keep."""

__all__ = [
    "auth_error",
    "count_tokens",
    "fault",
    "generate_events",
    "generate_response",
    "invalid",
    "invalid_json",
    "model",
    "model_not_found",
    "models_list",
    "parse_generate",
]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool": "STOP"}


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


# -- request ------------------------------------------------------------------


def _parts_text(parts: Any, images: list[str] | None = None) -> str:
    """Text of `parts`, collecting the media types of inline or file images."""
    if not isinstance(parts, list):
        return ""
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        text = part.get("text")
        if isinstance(text, str) and not part.get("thought"):
            texts.append(text)
        elif images is not None:
            blob = _get(part, "inlineData", "inline_data") or _get(part, "fileData", "file_data")
            if isinstance(blob, dict):
                media = _get(blob, "mimeType", "mime_type")
                if isinstance(media, str) and media.startswith("image/"):
                    images.append(media)
    return "\n".join(texts)


def _response_text(response: Any) -> str:
    """A functionResponse's `response` as text: a lone string value as is, else JSON."""
    if isinstance(response, dict) and len(response) == 1:
        (value,) = response.values()
        if isinstance(value, str):
            return value
    return dumps(response)


def parse_generate(body: dict[str, Any], model_name: str) -> Conversation:
    """Validate a generateContent body and reduce it to a `Conversation`."""
    contents = body.get("contents")
    if not contents:
        raise InvalidRequestError("* GenerateContentRequest.contents: contents is not specified\n")
    if not isinstance(contents, list):
        raise InvalidRequestError(
            "Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage."
            "v1beta.Content), expected a list"
        )
    conv = Conversation(model=model_name, message_count=len(contents))
    system = _get(body, "systemInstruction", "system_instruction")
    if isinstance(system, dict):
        conv.system = _parts_text(system.get("parts"))
    elif isinstance(system, str):
        conv.system = system
    chars = len(conv.system)
    last_user = -1
    for i, content in enumerate(contents):
        if not isinstance(content, dict):
            raise InvalidRequestError(f"Invalid value at 'contents[{i}]', expected an object")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise InvalidRequestError(
                f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
            )
        role = content.get("role", "user")
        if role not in ("user", "model", "function", ""):
            raise InvalidRequestError(
                f"Please use a valid role: user, model. (got {role!r} in contents[{i}].role)"
            )
        chars += len(_parts_text(parts))
        responses = [
            p
            for p in parts
            if isinstance(p, dict) and _get(p, "functionResponse", "function_response")
        ]
        for part in responses:
            response = _get(part, "functionResponse", "function_response")
            chars += len(_response_text(response.get("response")))
        if role != "model" and len(responses) < len(parts):
            last_user = i
    if last_user >= 0:
        conv.user_text = _parts_text(contents[last_user]["parts"], conv.images)
    if contents[-1].get("role", "user") != "model":
        for part in contents[-1]["parts"]:
            response = (
                _get(part, "functionResponse", "function_response")
                if isinstance(part, dict)
                else None
            )
            if isinstance(response, dict):
                label = str(response.get("name") or response.get("id"))
                conv.tool_results.append((label, _response_text(response.get("response"))))
    conv.text_chars = chars
    if reasons(model_name):
        _check_signatures(contents, signature_for(model_name))
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            declarations = (
                _get(tool, "functionDeclarations", "function_declarations")
                if isinstance(tool, dict)
                else None
            )
            for decl in declarations or ():
                if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                    schema = decl.get("parameters") or _get(
                        decl, "parametersJsonSchema", "parameters_json_schema"
                    )
                    conv.tools.append((decl["name"], schema or {}))
    config = _get(body, "toolConfig", "tool_config")
    calling = (
        _get(config, "functionCallingConfig", "function_calling_config")
        if isinstance(config, dict)
        else None
    )
    if isinstance(calling, dict):
        mode = str(calling.get("mode", "AUTO")).upper()
        if mode == "NONE":
            conv.tool_mode = "none"
        elif mode == "ANY":
            conv.tool_mode = "required"
        allowed = _get(calling, "allowedFunctionNames", "allowed_function_names")
        if isinstance(allowed, list) and allowed:
            conv.allowed_tools = [str(a) for a in allowed]
            if mode == "ANY" and len(allowed) == 1:
                conv.forced_tool = str(allowed[0])
    generation = _get(body, "generationConfig", "generation_config")
    if isinstance(generation, dict):
        limit = _get(generation, "maxOutputTokens", "max_output_tokens")
        if isinstance(limit, int) and not isinstance(limit, bool):
            conv.max_tokens = limit
        _response_format(generation, conv)
        thinking = _get(generation, "thinkingConfig", "thinking_config")
        if isinstance(thinking, dict):
            conv.thinking = _get(thinking, "includeThoughts", "include_thoughts") is True
        count = _get(generation, "candidateCount", "candidate_count")
        if isinstance(count, int) and not isinstance(count, bool) and count > 1:
            conv.choices = count
    return conv


def _check_signatures(contents: list[Any], signature: str) -> None:
    """Gemini 3: the first function call of each model turn carries the thoughtSignature
    it came with (or Google's documented skip value)."""
    for i, content in enumerate(contents):
        if content.get("role") != "model":
            continue
        for j, part in enumerate(content["parts"]):
            if not isinstance(part, dict) or not _get(part, "functionCall", "function_call"):
                continue
            given = _get(part, "thoughtSignature", "thought_signature")
            if given is None:
                raise InvalidRequestError(
                    f"Function call is missing a thought_signature in functionCall parts. This "
                    "is required for tools to work correctly, and missing thought_signature may "
                    "lead to degraded model performance. Additional data, function call "
                    f"`default_api:{_get(part, 'functionCall', 'function_call').get('name')}` , "
                    f"position {i + 1}. Please refer to "
                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                )
            if given not in (signature, SKIP_SIGNATURE):
                raise InvalidRequestError(
                    f"Corrupted thought signature at contents[{i}].parts[{j}]."
                )
            break


def _response_format(generation: dict[str, Any], conv: Conversation) -> None:
    """responseMimeType application/json, shaped by responseJsonSchema (JSON Schema) or
    responseSchema (the OpenAPI subset, type names in capitals)."""
    mime = _get(generation, "responseMimeType", "response_mime_type")
    schema = _get(generation, "responseJsonSchema", "response_json_schema")
    if schema is None:
        schema = _get(generation, "responseSchema", "response_schema")
    if schema is not None and mime != "application/json":
        raise InvalidRequestError(
            "* GenerationConfig.response_schema: response_mime_type must be one of "
            "['application/json', 'text/x.enum'] when response_schema is set.\n"
        )
    if mime == "application/json":
        conv.output = "json_schema" if isinstance(schema, dict) else "json_object"
        conv.output_schema = schema if isinstance(schema, dict) else None


# -- replies ------------------------------------------------------------------


def _usage(plan: Plan) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": plan.input_tokens,
        "candidatesTokenCount": plan.output_tokens,
        "totalTokenCount": plan.input_tokens + plan.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": plan.input_tokens}],
    }
    if plan.cached_tokens:
        usage["cachedContentTokenCount"] = plan.cached_tokens
    return usage


def _parts(plan: Plan) -> list[dict[str, Any]]:
    """The reply's parts: thoughts first when asked for; a reasoning model's signature on
    its function call."""
    thoughts = [] if plan.reasoning is None else [{"text": plan.reasoning, "thought": True}]
    if plan.tool_name is not None:
        call: dict[str, Any] = {"functionCall": {"name": plan.tool_name, "args": plan.tool_args}}
        if plan.signature is not None:
            call["thoughtSignature"] = plan.signature
        return [*thoughts, call]
    return [*thoughts, {"text": plan.text}]


def _final(
    plan: Plan, parts: list[dict[str, Any]], rid: str, model_name: str, candidates: int = 1
) -> str:
    """The response that ends a reply, holding `parts` (in each of `candidates`
    identical candidates): with the finish reason and usage."""
    return dumps(
        {
            "candidates": [
                {
                    "content": {"parts": parts, "role": "model"},
                    "finishReason": _FINISH[plan.finish],
                    "index": i,
                }
                for i in range(candidates)
            ],
            "usageMetadata": _usage(plan),
            "modelVersion": model_name,
            "responseId": rid,
        }
    )


def generate_response(plan: Plan, *, rid: str, model_name: str, candidates: int = 1) -> bytes:
    """A non-streamed `GenerateContentResponse` (`candidateCount` candidates)."""
    return _final(plan, _parts(plan), rid, model_name, candidates).encode()


def generate_events(plan: Plan, *, rid: str, model_name: str, sse: bool) -> tuple[list[bytes], int]:
    """Stream pieces: SSE events (`alt=sse`) or the pieces of one JSON array."""
    tail = f',"modelVersion":{dumps(model_name)},"responseId":{dumps(rid)}}}'
    bodies: list[str] = []
    if plan.reasoning is not None:
        thought = dumps([{"text": plan.reasoning, "thought": True}])
        bodies.append(
            f'{{"candidates":[{{"content":{{"parts":{thought},"role":"model"}},"index":0}}]{tail}'
        )
    if plan.tool_name is not None:
        parts = [p for p in _parts(plan) if not p.get("thought")]
    else:
        chunks = plan.chunks or [""]
        for piece in chunks[:-1]:
            bodies.append(
                f'{{"candidates":[{{"content":{{"parts":[{{"text":{dumps(piece)}}}],"role":"model"}},'
                f'"index":0}}]{tail}'
            )
        parts = [{"text": chunks[-1]}]
    bodies.append(_final(plan, parts, rid, model_name))
    if sse:
        return [f"data: {b}\r\n\r\n".encode() for b in bodies], 0
    events = [("[" if i == 0 else ",\r\n") + b for i, b in enumerate(bodies)]
    events[-1] += "]"
    return [e.encode() for e in events], 0


def count_tokens(tokens: int) -> bytes:
    """`POST /v1beta/models/{model}:countTokens`."""
    return dumps(
        {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]}
    ).encode()


_EMBEDDING_METHODS = ["embedContent", "batchEmbedContents"]


def _model(name: str, *, embedding: bool = False) -> dict[str, Any]:
    if embedding:
        return {
            "name": f"models/{name}",
            "version": "001",
            "displayName": " ".join(p.capitalize() for p in name.split("-")),
            "description": "A simulated embedding model served by cherry_nb's offline simulator.",
            "inputTokenLimit": 2048,
            "outputTokenLimit": 1,
            "supportedGenerationMethods": _EMBEDDING_METHODS,
        }
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": " ".join(p.capitalize() for p in name.split("-")),
        "description": "A simulated model served by cherry_nb's offline simulator.",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
    }


def models_list(models: Sequence[str], embedding_models: Sequence[str] = ()) -> bytes:
    """`GET /v1beta/models`: chat models, then embedding models not already listed."""
    listed = [_model(m) for m in models]
    listed += [_model(m, embedding=True) for m in embedding_models if m not in models]
    return dumps({"models": listed}).encode()


def model(name: str, *, embedding: bool = False) -> bytes:
    """`GET /v1beta/models/{model}`."""
    return dumps(_model(name, embedding=embedding)).encode()


# -- errors -------------------------------------------------------------------


def _error(code: int, message: str, status: str, details: list[Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return dumps({"error": error}).encode()


def invalid(exc: InvalidRequestError) -> bytes:
    return _error(400, exc.message, "INVALID_ARGUMENT")


def invalid_json() -> bytes:
    return _error(
        400,
        'Invalid JSON payload received. Unexpected token.\n{"contents": \n^',
        "INVALID_ARGUMENT",
    )


def auth_error() -> bytes:
    return _error(
        400,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def model_not_found(name: str, method: str = "generateContent") -> bytes:
    return _error(
        404,
        f"models/{name} is not found for API version v1beta, or is not supported for {method}. "
        "Call ListModels to see the list of available models and their supported methods.",
        "NOT_FOUND",
    )


def fault(status: int, model_name: str, retry_after: float) -> bytes:
    """A scripted failure as Gemini reports it."""
    if status == 429:
        return _error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "RESOURCE_EXHAUSTED",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{retry_after:g}s",
                }
            ],
        )
    if status == 400:
        return _error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
    if status == 401:
        return _error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
    if status == 403:
        return _error(403, "The caller does not have permission", "PERMISSION_DENIED")
    if status == 404:
        return model_not_found(model_name)
    if status == 500:
        return _error(
            500,
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting",
            "INTERNAL",
        )
    if status in (502, 503, 529):
        return _error(status, "The model is overloaded. Please try again later.", "UNAVAILABLE")
    return _error(
        status, f"Simulated error {status}.", "UNKNOWN" if status >= 500 else "FAILED_PRECONDITION"
    )
