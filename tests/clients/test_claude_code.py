"""Claude Code (`@anthropic-ai/claude-code`, print mode) answering through every upstream kind.

Claude Code sends its current request shape (system-role messages, adaptive thinking,
output_config, context_management, cache_control, 20+ tools, and after its ToolSearch
tool `tool_reference` blocks in a tool result); the gateway must carry it to an OpenAI-,
Gemini-, Azure- or Responses-type upstream as well as pass it to an Anthropic one, and
refuse none of its requests (Claude Code retries without what was refused, so only the
proxy's record of statuses shows a refusal).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import (
    GATEWAY_KEY,
    MODEL,
    ClientStack,
    NodeClients,
    provider_id,
    record_fixture,
    routed,
    run_client,
    simulator_answered,
)

pytestmark = pytest.mark.slow

PROMPT = "Reply with the word pineapple"


def claude(
    node_clients: NodeClients,
    tmp_path: Path,
    *,
    base_url: str,
    model: str,
    auth: dict[str, str],
    prompt: str = PROMPT,
) -> str:
    env = {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_MODEL": model,
        # Title generation and other background calls use the "small/fast" model.
        "ANTHROPIC_SMALL_FAST_MODEL": model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": model,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": model,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        **auth,
    }
    run = run_client([node_clients.bin("claude"), "-p", prompt], home=tmp_path / "home", env=env)
    return run.ok()


def _chat_requests(stack: ClientStack) -> list:
    return [r for r in stack.proxy.taken("/v1/messages") if r.method == "POST"]


def test_claude_code_print_mode(stack: ClientStack, node_clients, upstream, tmp_path):
    prompt = f"{PROMPT} via {upstream}"
    out = claude(
        node_clients,
        tmp_path,
        base_url=stack.url,
        model=routed(upstream),
        auth={"ANTHROPIC_API_KEY": GATEWAY_KEY},
        prompt=prompt,
    )
    # The simulator's reply (a quote of the prompt, or of a tool result when it called a
    # tool named in Claude Code's context) came back, and the prompt reached the upstream.
    assert simulator_answered(out), out
    assert stack.upstream_saw(upstream, prompt)
    assert not stack.proxy.refused()
    sent = _chat_requests(stack)
    assert sent, "Claude Code sent no POST /v1/messages"
    main = max(sent, key=lambda r: len(r.body))
    assert main.headers.get("x-api-key") == GATEWAY_KEY
    assert main.json["stream"] is True
    assert len(main.json.get("tools", [])) >= 10
    if upstream == "anthropic":
        version = node_clients.version("@anthropic-ai/claude-code")
        first = next(r for r in sent if r.json.get("tools"))
        record_fixture(f"claude-code-{version}_print_request", first)
        if main is not first:  # the turn after the tool the simulator called
            record_fixture(f"claude-code-{version}_print_tool_result_request", main)


def test_claude_code_provider_path_and_bare_model(stack, node_clients, tmp_path):
    """ANTHROPIC_BASE_URL=gateway/{provider-id} with a bare model id."""
    out = claude(
        node_clients,
        tmp_path,
        base_url=f"{stack.url}/{provider_id('openai')}",
        model=MODEL,
        auth={"ANTHROPIC_API_KEY": GATEWAY_KEY},
        prompt=f"{PROMPT} by provider path",
    )
    assert simulator_answered(out), out
    assert stack.upstream_saw("openai", f"{PROMPT} by provider path")
    assert any(
        r.path.startswith(f"/{provider_id('openai')}/v1/messages") for r in _chat_requests(stack)
    )


def test_claude_code_bearer_auth_token(stack, node_clients, tmp_path):
    """ANTHROPIC_AUTH_TOKEN (sent as `Authorization: Bearer`) instead of an API key."""
    out = claude(
        node_clients,
        tmp_path,
        base_url=stack.url,
        model=routed("openai"),
        auth={"ANTHROPIC_AUTH_TOKEN": GATEWAY_KEY},
        prompt=f"{PROMPT} with a bearer token",
    )
    assert simulator_answered(out), out
    assert stack.upstream_saw("openai", f"{PROMPT} with a bearer token")
    sent = _chat_requests(stack)
    assert sent and all(r.headers.get("authorization") == f"Bearer {GATEWAY_KEY}" for r in sent)
