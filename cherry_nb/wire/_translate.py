"""Facts every format's builder shares when a neutral field has no one-to-one home:
reasoning effort <-> thinking budget, refusing several choices, and reporting the
fields a target has no place for. Pure; docs/translation.md is the table in prose."""

from __future__ import annotations

from .._exceptions import WireFormatError
from .neutral import ChatRequest, ReasoningEffort

EFFORT_BUDGETS: dict[ReasoningEffort, int] = {
    "none": 0,
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
}
"""Thinking tokens per reasoning effort, for targets that take a budget (Anthropic's
`budget_tokens`, Gemini 2.x's `thinkingBudget`). 1024 is Anthropic's minimum."""

MIN_ANTHROPIC_BUDGET = 1024


def budget_for(request: ChatRequest) -> int | None:
    """The request's thinking budget: the one given, else its effort's; None when unset."""
    if request.thinking_budget is not None:
        return request.thinking_budget
    if request.reasoning_effort is not None:
        return EFFORT_BUDGETS[request.reasoning_effort]
    return None


def note_dropped(request: ChatRequest, *names: str) -> None:
    """Report neutral fields the target cannot carry (each once), for the gateway's
    `x-cherry-nb-dropped` header; every name is listed in docs/translation.md."""
    for name in names:
        if name not in request.dropped:
            request.dropped.append(name)


def check_choices(request: ChatRequest, upstream: str, *, supported: bool) -> None:
    """Refuse `n > 1` where the upstream cannot return several choices, or in a stream
    (neutral streams carry one choice): one choice with a 200 would be a silent loss."""
    n = request.n
    if n is None or n <= 1:
        return
    if not supported:
        raise WireFormatError(
            f"n={n} asks for {n} choices, but the upstream is an {upstream}-type provider, "
            "which returns one choice per request: send n=1 (or leave it out) and make "
            f"{n} requests.",
            param="n",
        )
    if request.stream:
        raise WireFormatError(
            f"n={n} with stream=true cannot be translated to an {upstream}-type provider: "
            "streamed replies are translated one choice at a time. Send stream=false to "
            f"get {n} choices, or n=1 to stream.",
            param="n",
        )
