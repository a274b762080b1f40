"""OpenAI Chat Completions (and Azure OpenAI) as the real services put them on the wire.

Hand-written on purpose, independent of `cherry_nb.wire`: the simulator is the
reference the converters are tested against, so it must not share their code.
Azure differs only in its error envelopes and the content-filter annotations
it adds (including the choice-less first stream chunk that trips naive clients).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._secrets import mask_key
from .plan import Conversation, InvalidRequestError, Plan, dumps, media_type_of_url

__all__ = [
    "auth_error",
    "azure_auth_error",
    "azure_deployment_not_found",
    "azure_fault",
    "azure_resource_not_found",
    "completion",
    "completion_events",
    "fault",
    "invalid",
    "model",
    "model_not_found",
    "models_list",
    "parse_chat",
]

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}
_SAFE = {"filtered": False, "severity": "safe"}
_FILTERS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
_PROMPT_FILTERS = [{"prompt_index": 0, "content_filter_results": _FILTERS}]
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return _TYPE_NAMES.get(type(value), "a value")


# -- request ------------------------------------------------------------------


def _content_text(content: Any, images: list[str] | None = None) -> str:
    """The text of a message's `content` (a string or a list of parts); collects images."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" or kind == "refusal":
            value = part.get(kind)
            if isinstance(value, str):
                texts.append(value)
        elif kind == "image_url" and images is not None:
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            images.append(media_type_of_url(url) if isinstance(url, str) else "image")
    return "\n".join(texts)


def _tool_choice(body: dict[str, Any], conv: Conversation) -> None:
    choice = body.get("tool_choice", body.get("function_call"))
    if choice in ("none", "auto", "required"):
        conv.tool_mode = choice
    elif isinstance(choice, dict):
        function = choice.get("function") if "function" in choice else choice
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            conv.forced_tool = name
            conv.tool_mode = "required"


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                out.append((function["name"], function.get("parameters") or {}))
    functions = body.get("functions")  # the legacy form
    if isinstance(functions, list):
        for function in functions:
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                out.append((function["name"], function.get("parameters") or {}))
    return out


def parse_chat(body: dict[str, Any], *, deployment: str | None = None) -> Conversation:
    """Validate a chat.completions request body and reduce it to a `Conversation`."""
    name = deployment if deployment is not None else body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("you must provide a model parameter")
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequestError(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    if not isinstance(messages, list):
        raise InvalidRequestError(
            "Invalid type for 'messages': expected an array of objects, "
            f"but got {_type_name(messages)} instead.",
            param="messages",
            code="invalid_type",
        )
    if not messages:
        raise InvalidRequestError(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    conv = Conversation(model=name)
    systems: list[str] = []
    chars = 0
    call_names: dict[str, str] = {}
    last_user: int = -1
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequestError(
                f"Invalid type for 'messages[{i}]': expected an object, "
                f"but got {_type_name(message)} instead.",
                param=f"messages[{i}]",
                code="invalid_type",
            )
        role = message.get("role")
        if role is None:
            raise InvalidRequestError(
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
                code="missing_required_parameter",
            )
        if role not in _ROLES:
            raise InvalidRequestError(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', "
                "'user', 'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise InvalidRequestError(
                f"Missing required parameter: 'messages[{i}].tool_call_id'.",
                param=f"messages[{i}].tool_call_id",
                code="missing_required_parameter",
            )
        text = _content_text(message.get("content"))
        chars += len(text)
        if role == "system" or role == "developer":
            systems.append(text)
            continue
        conv.message_count += 1
        if role == "user":
            last_user = i
        elif role == "assistant":
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    call_names[str(call.get("id"))] = str(call["function"].get("name"))
    conv.system = " ".join(s for s in systems if s)
    if last_user >= 0:
        conv.user_text = _content_text(messages[last_user].get("content"), conv.images)
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        role = message.get("role")
        if role == "tool":
            call_id = message["tool_call_id"]
            label = call_names.get(call_id, call_id)
        elif role == "function":
            label = str(message.get("name"))
        else:
            break
        results.append((label, _content_text(message.get("content"))))
    results.reverse()
    conv.tool_results = results
    conv.text_chars = chars
    conv.tools = _tools(body)
    _tool_choice(body, conv)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    conv.max_tokens = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    conv.stream = body.get("stream") is True
    options = body.get("stream_options")
    conv.include_usage = isinstance(options, dict) and options.get("include_usage") is True
    _response_format(body.get("response_format"), conv)
    n = body.get("n")
    conv.choices = n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
    return conv


def _response_format(value: Any, conv: Conversation) -> None:
    """`response_format`: json_object, or json_schema with a name and a schema."""
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return
    if kind == "json_object":
        conv.output = kind
        return
    if kind != "json_schema":
        raise InvalidRequestError(
            f"Invalid value: {kind!r}. Supported values are: 'text', 'json_object', and "
            "'json_schema'.",
            param="response_format.type",
            code="invalid_value",
        )
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise InvalidRequestError(
            "Missing required parameter: 'response_format.json_schema.name'.",
            param="response_format.json_schema.name",
            code="missing_required_parameter",
        )
    schema = spec.get("schema")
    conv.output = kind
    conv.output_schema = schema if isinstance(schema, dict) else {"type": "object"}


# -- replies ------------------------------------------------------------------


def _usage(plan: Plan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": plan.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call(plan: Plan, call_id: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": plan.tool_name, "arguments": plan.text},
    }


def completion(
    plan: Plan,
    *,
    rid: str,
    call_id: str,
    created: int,
    model: str,
    azure: bool = False,
    choices: int = 1,
) -> bytes:
    """A non-streamed `chat.completion` object, with `choices` identical choices."""
    message: dict[str, Any] = {"role": "assistant"}
    if plan.tool_name is not None:
        message["content"] = None
        message["tool_calls"] = [_call(plan, call_id)]
    else:
        message["content"] = plan.text
    message["refusal"] = None
    message["annotations"] = []
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": _FINISH[plan.finish],
    }
    out: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [dict(choice, index=i) for i in range(choices)],
        "usage": _usage(plan),
        "system_fingerprint": "fp_sim",
    }
    if azure:
        for item in out["choices"]:
            item["content_filter_results"] = _FILTERS
        out["prompt_filter_results"] = _PROMPT_FILTERS
    else:
        out["service_tier"] = "default"
    return dumps(out).encode()


def completion_events(
    plan: Plan,
    *,
    rid: str,
    call_id: str,
    created: int,
    model: str,
    include_usage: bool,
    azure: bool = False,
) -> tuple[list[bytes], int]:
    """`data:` events of a streamed completion, and how many precede the content."""
    usage_tail = ',"usage":null' if include_usage else ""
    head = (
        f'{{"id":{dumps(rid)},"object":"chat.completion.chunk","created":{created},'
        f'"model":{dumps(model)},"system_fingerprint":"fp_sim","choices":[{{"index":0,"delta":'
    )
    tail = ',"logprobs":null,"finish_reason":null}]' + usage_tail + "}\n\n"
    events: list[bytes] = []
    if azure:
        first = {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": _PROMPT_FILTERS,
        }
        events.append(b"data: " + dumps(first).encode() + b"\n\n")
    if plan.tool_name is not None:
        start = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": call_id,
                    "type": "function",
                    "function": {"name": plan.tool_name, "arguments": ""},
                }
            ],
            "refusal": None,
        }
        events.append(f"data: {head}{dumps(start)}{tail}".encode())
        preamble = len(events)
        for piece in plan.chunks:
            delta = f'{{"tool_calls":[{{"index":0,"function":{{"arguments":{dumps(piece)}}}}}]}}'
            events.append(f"data: {head}{delta}{tail}".encode())
    else:
        events.append(
            f'data: {head}{{"role":"assistant","content":"","refusal":null}}{tail}'.encode()
        )
        preamble = len(events)
        for piece in plan.chunks:
            events.append(f'data: {head}{{"content":{dumps(piece)}}}{tail}'.encode())
    finish = dumps(_FINISH[plan.finish])
    events.append(
        f'data: {head}{{}},"logprobs":null,"finish_reason":{finish}}}]{usage_tail}}}\n\n'.encode()
    )
    if include_usage:
        last = (
            f'{{"id":{dumps(rid)},"object":"chat.completion.chunk","created":{created},'
            f'"model":{dumps(model)},"system_fingerprint":"fp_sim","choices":[],'
            f'"usage":{dumps(_usage(plan))}}}'
        )
        events.append(f"data: {last}\n\n".encode())
    events.append(b"data: [DONE]\n\n")
    return events, preamble


def models_list(models: Sequence[str], created: int) -> bytes:
    """`GET /v1/models`."""
    return dumps({"object": "list", "data": [_model(m, created) for m in models]}).encode()


def _model(name: str, created: int) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": created, "owned_by": "cherry-sim"}


def model(name: str, created: int) -> bytes:
    """`GET /v1/models/{id}`."""
    return dumps(_model(name, created)).encode()


# -- errors -------------------------------------------------------------------


def _error(message: str, kind: str, param: str | None = None, code: Any = None) -> bytes:
    return dumps(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}
    ).encode()


def invalid(exc: InvalidRequestError) -> bytes:
    """A 400 in OpenAI's envelope."""
    return _error(exc.message, "invalid_request_error", exc.param, exc.code)


def invalid_json() -> bytes:
    return _error(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)",
        "invalid_request_error",
    )


def auth_error(key: str | None) -> bytes:
    """401 for a wrong or missing key; the wrong key is masked as OpenAI does."""
    if not key:
        return _error(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or "
            "as the password field (with blank username) if you're accessing the API from your "
            "browser and are prompted for a username and password. You can obtain an API key "
            "from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
        )
    return _error(
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        None,
        "invalid_api_key",
    )


def model_not_found(name: str) -> bytes:
    """404 for an unknown model."""
    return _error(
        f"The model `{name}` does not exist or you do not have access to it.",
        "invalid_request_error",
        None,
        "model_not_found",
    )


def fault(status: int, model_name: str, retry_after: float) -> bytes:
    """A scripted failure as OpenAI reports it."""
    if status == 429:
        return _error(
            f"Rate limit reached for {model_name} in organization org-sim on requests per min "
            f"(RPM): Limit 3, Used 3, Requested 1. Please try again in {retry_after:g}s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            "requests",
            "rate_limit_exceeded",
        )
    if status == 500:
        return _error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        )
    if status == 502:
        return dumps(
            {
                "error": {
                    "code": 502,
                    "message": "Bad gateway.",
                    "param": None,
                    "type": "cf_bad_gateway",
                }
            }
        ).encode()
    if status in (503, 529):
        return _error("The server is overloaded or not ready yet.", "server_error")
    if status == 401:
        return auth_error("sk-simulated-invalid-key")
    if status == 404:
        return model_not_found(model_name)
    kind = "invalid_request_error" if status < 500 else "server_error"
    return _error(f"Simulated error {status}.", kind)


def azure_auth_error() -> bytes:
    return dumps(
        {
            "error": {
                "code": "401",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription and use a correct "
                "regional API endpoint for your resource.",
            }
        }
    ).encode()


def azure_resource_not_found() -> bytes:
    """What Azure answers for a route without `api-version` (or an unknown route)."""
    return dumps({"error": {"code": "404", "message": "Resource not found"}}).encode()


def azure_deployment_not_found() -> bytes:
    return dumps(
        {
            "error": {
                "code": "DeploymentNotFound",
                "message": "The API deployment for this resource does not exist. If you created "
                "the deployment within the last 5 minutes, please wait a moment and try again.",
            }
        }
    ).encode()


def azure_fault(status: int, model_name: str, retry_after: float, api_version: str) -> bytes:
    """A scripted failure as Azure OpenAI reports it."""
    if status == 429:
        seconds = max(round(retry_after), 1)
        message = (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            f"{api_version} have exceeded token rate limit of your current OpenAI S0 pricing "
            f"tier. Please retry after {seconds} second{'s' if seconds != 1 else ''}. Please go "
            "here: https://aka.ms/oai/quotaincrease if you would like to further increase the "
            "default rate limit."
        )
        return dumps({"error": {"code": "429", "message": message}}).encode()
    if status == 401:
        return azure_auth_error()
    if status == 404:
        return azure_deployment_not_found()
    if status >= 500:
        return dumps(
            {
                "error": {
                    "code": "InternalServerError" if status == 500 else "ServiceUnavailable",
                    "message": "The service is temporarily unable to process your request. "
                    "Please try again later.",
                }
            }
        ).encode()
    return dumps({"error": {"code": str(status), "message": f"Simulated error {status}."}}).encode()
