"""The one model resolver: which provider and model a `model` reference names.

The gateway (a client's `model`, or the provider id in its path) and the
notebook (`%%chat -m`, `%chat use`, the default model) resolve through here, so
a reference means the same thing everywhere:

* `provider-id:model-id`, split at the first colon, when the part before it is a
  provider id. Otherwise the colon belongs to the model id (`llama3:8b`).
* A group id (`Config.groups`): every member, in the group's order; choosing
  among them (the group's strategy) is the caller's job.
* A model id that exactly one enabled provider lists (colons and all). Several:
  an AmbiguousModelError naming the candidates. None: an UnknownProviderError
  when it has a colon (it was meant as provider-id:model-id), else an
  UnknownModelError; both with "did you mean" suggestions.

Errors are `_exceptions` classes that carry their candidates and suggestions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .._exceptions import (
    AmbiguousModelError,
    ModelRefError,
    ProviderDisabledError,
    UnknownModelError,
    UnknownProviderError,
)
from .models import Config, ModelGroup, Provider

MAX_LISTED = 20
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.6


@dataclass(frozen=True, slots=True)
class Target:
    """One provider and the model id to send it."""

    provider: Provider
    model: str

    @property
    def ref(self) -> str:
        return f"{self.provider.id}:{self.model}"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a reference names: one target, or a group's members (in order)."""

    ref: str
    targets: tuple[Target, ...]
    group: ModelGroup | None = None

    @property
    def first(self) -> Target:
        return self.targets[0]


def resolve_model(config: Config, ref: str, *, provider_id: str | None = None) -> Resolution:
    """Resolve `ref` (a client's `model`); `provider_id` is one given apart (a URL path),
    in which case `ref` is a bare model id, or the same `provider-id:model-id`."""
    if not isinstance(ref, str) or not ref.strip():
        raise ModelRefError(
            "No model given: write it as provider-id:model-id, e.g. my-openai:gpt-4o-mini.",
            ref=str(ref),
        )
    if provider_id is not None:
        group = _group(config, provider_id)
        if group is not None:
            return _group_resolution(config, group)
        prefix = f"{provider_id}:"
        bare = ref[len(prefix) :] if ref.startswith(prefix) else ref
        return Resolution(ref, (Target(_enabled(config, provider_id), bare),))
    group = _group(config, ref)
    if group is not None:
        return _group_resolution(config, group)
    provider_part, sep, model = ref.partition(":")
    if sep and any(p.id == provider_part for p in config.providers):
        if not model:
            raise ModelRefError(
                f"Model {ref!r} names no model after the colon; write provider-id:model-id.",
                ref=ref,
            )
        return Resolution(ref, (Target(_enabled(config, provider_part), model),))
    return Resolution(ref, (_bare(config, ref),))


# ---- helpers ----------------------------------------------------------------------------


def _group(config: Config, group_id: str) -> ModelGroup | None:
    return next((g for g in config.groups if g.id == group_id), None)


def _group_resolution(config: Config, group: ModelGroup) -> Resolution:
    """A group's members that an enabled provider serves, in the group's order."""
    targets = []
    for member in group.models:
        provider_id, _, model = member.partition(":")
        provider = next((p for p in config.providers if p.id == provider_id), None)
        if provider is not None and provider.enabled and model:
            targets.append(Target(provider, model))
    if not targets:
        raise ModelRefError(
            f"Model group {group.id!r} has no member on an enabled provider "
            f"(members: {', '.join(group.models)}).",
            ref=group.id,
        )
    return Resolution(group.id, tuple(targets), group)


def _enabled(config: Config, provider_id: str) -> Provider:
    ids = [p.id for p in config.providers]
    provider = next((p for p in config.providers if p.id == provider_id), None)
    if provider is None:
        raise UnknownProviderError(provider_id, ids, _close(provider_id, ids))
    if not provider.enabled:
        raise ProviderDisabledError(provider_id)
    return provider


def _bare(config: Config, model: str) -> Target:
    """The one enabled provider that lists `model`."""
    listing = [p for p in config.providers if p.enabled and model in p.model_ids()]
    if len(listing) == 1:
        return Target(listing[0], model)
    if listing:
        candidates = [f"{p.id}:{model}" for p in listing]
        raise AmbiguousModelError(
            f"Model {model!r} is offered by {len(listing)} providers; say which with "
            f"provider-id:model-id: {', '.join(candidates)}.",
            ref=model,
            candidates=candidates,
        )
    refs = [f"{p.id}:{m}" for p in config.providers if p.enabled for m in p.model_ids()]
    listed = ", ".join(refs[:MAX_LISTED]) + (" …" if len(refs) > MAX_LISTED else "")
    provider_part, sep, _ = model.partition(":")
    ids = [p.id for p in config.providers]
    if sep and provider_part:  # written as provider-id:model-id, so say the provider
        raise UnknownProviderError(
            provider_part,
            ids,
            _close(provider_part, ids),
            detail=f"Models available: {listed or 'none (add a provider first)'}.",
        )
    suggestions = _close_refs(model, refs)
    disabled = [p.id for p in config.providers if not p.enabled and model in p.model_ids()]
    message = f"Model {model!r} not found."
    if suggestions:
        message += f" Did you mean {' or '.join(suggestions)}?"
    if disabled:
        message += f" It is listed by disabled provider(s): {', '.join(disabled)}."
    message += (
        " Write it as provider-id:model-id (or a model id that one enabled provider lists); "
        f"available: {listed or 'none (add a provider first)'}."
    )
    raise UnknownModelError(message, ref=model, suggestions=suggestions)


def _close(word: str, options: list[str]) -> list[str]:
    return difflib.get_close_matches(word, options, n=MAX_SUGGESTIONS, cutoff=SUGGESTION_CUTOFF)


def _close_refs(model: str, refs: list[str]) -> list[str]:
    """Refs close to `model`, compared whole and by their model part."""
    by_model: dict[str, list[str]] = {}
    for ref in refs:
        by_model.setdefault(ref.partition(":")[2], []).append(ref)
    found = _close(model, refs) + [
        ref for bare in _close(model, list(by_model)) for ref in by_model[bare]
    ]
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]
