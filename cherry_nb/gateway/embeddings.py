"""POST /v1/embeddings and /{provider-id}/v1/embeddings: OpenAI's embeddings, any upstream
whose kind declares an embeddings endpoint.

An upstream that speaks OpenAI's format (OpenAI-compatible servers, Azure OpenAI) gets
the client's body with only `model` replaced, and its reply is relayed as it came (the
gate masks the provider's keys, should the upstream echo one): fidelity for fields we do
not model. The body is checked once, by `wire/embeddings.parse_openai_request`, whichever
way it goes. Any other (Gemini) gets the request translated by `wire/embeddings.py`, and the
client gets OpenAI's list shape back, base64 vectors encoded here when it asked for
them. A provider whose kind has no embeddings endpoint (Anthropic) is a 400 that names
the provider types that have one. A model group's members with embeddings are tried by
its strategy, the next one when a member fails for a reason of its own, as for chat.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._exceptions import CherryError, RequestError, WireFormatError
from ..config.resolve import Target
from ..providers.groups import MEMBERS, healthy_in, moves_on, tried_note
from ..wire import embeddings as wire_embeddings
from ..wire.formats import OPENAI
from ..wire.neutral import Usage
from ..wire.usage_scan import reply_usage
from .checks import json_object, resolve_targets
from .relay import DROPPED_HEADER
from .reply import JSON, Reply, json_reply
from .state import GatewayState
from .usage import RequestUsage

__all__ = ["answer_embeddings"]


async def answer_embeddings(
    state: GatewayState, raw: bytes, provider_id: str | None, usage: RequestUsage | None = None
) -> Reply:
    """The reply to one embeddings request whose body is `raw`; CherryError for a failure
    (the route answers it in OpenAI's envelope). `usage` notes the upstream and the
    prompt tokens for the request's usage record."""
    body = json_object(raw)
    try:
        request = wire_embeddings.parse_openai_request(body)
    except WireFormatError as error:
        raise RequestError(error.message, status=400, param=error.param) from None
    requested = request.model
    resolution = resolve_targets(state.config(), requested, provider_id)
    if resolution.group is None:
        return await _embed(state, body, request, resolution.first, usage)
    # A model group: its members with embeddings, tried by its strategy; the next one
    # when a member fails for a reason of its own (providers/groups.py: `moves_on`).
    group = resolution.group
    members = [t for t in resolution.targets if _has_embeddings(state, t)]
    if not members:
        return await _embed(state, body, request, resolution.first, usage)  # says why not
    order = MEMBERS.order(group, members, healthy_in(state.pool))
    failures: list[tuple[Target, CherryError]] = []
    for index, target in enumerate(order):
        try:
            return await _embed(state, body, request, target, usage)
        except CherryError as error:
            if index == len(order) - 1 or not moves_on(error):
                error.message += tried_note(group, failures)
                raise
            failures.append((target, error))
    raise AssertionError("a resolved group has at least one member")  # pragma: no cover


def _has_embeddings(state: GatewayState, target: Target) -> bool:
    try:
        state.pool.adapter(target.provider).embeddings_url(target.model)
    except CherryError:
        return False
    return True


async def _embed(
    state: GatewayState,
    body: dict[str, Any],
    request: wire_embeddings.EmbeddingRequest,
    target: Target,
    usage: RequestUsage | None,
) -> Reply:
    """One upstream's answer: `body` passed through to an OpenAI-format upstream, the
    request translated for any other."""
    provider, model = target.provider, target.model
    adapter = state.pool.adapter(provider)
    adapter.embeddings_url(model)  # first: "no embeddings endpoint" trumps any other complaint
    if usage is not None:
        usage.served_by(provider.id, model)
    if adapter.wire is OPENAI:  # the client's own format: passed through
        upstream = await adapter.open_embeddings(dict(body), model=model)
        data = await adapter.read_body(upstream, model)
        content_type = upstream.headers.get("content-type", JSON)
        if usage is not None:
            usage.tokens = reply_usage(OPENAI.name, data)
        return Reply(upstream.status_code, data, content_type)
    response = await adapter.embed(dataclasses.replace(request, model=model))
    if usage is not None:
        usage.tokens = Usage(input_tokens=response.prompt_tokens)
    response.model = request.model  # what the client asked for
    reply = json_reply(wire_embeddings.build_openai_response(response, request.encoding_format))
    if request.dropped:
        reply.headers[DROPPED_HEADER] = ",".join(request.dropped)
    return reply
