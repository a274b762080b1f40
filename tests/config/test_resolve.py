"""The one model resolver, as the gateway and the notebook use it."""

from __future__ import annotations

import pytest

from cherry_nb._exceptions import (
    AmbiguousModelError,
    ConfigError,
    ModelRefError,
    ProviderDisabledError,
    UnknownModelError,
    UnknownProviderError,
)
from cherry_nb.config.models import Config
from cherry_nb.config.resolve import resolve_model

CONFIG = Config.model_validate(
    {
        "providers": [
            {"id": "oai", "base_url": "https://a.example.com/v1", "models": ["gpt-4o", "shared"]},
            {
                "id": "ant",
                "type": "anthropic",
                "base_url": "https://b.example.com",
                "models": ["claude-sonnet", "shared"],
            },
            {"id": "ollama", "base_url": "http://127.0.0.1:11434/v1", "models": ["llama3:8b"]},
            {
                "id": "off",
                "base_url": "https://c.example.com/v1",
                "models": ["hidden", "shared"],
                "enabled": False,
            },
        ],
        "groups": [
            {"id": "fast", "models": ["oai:gpt-4o", "off:hidden", "ant:claude-sonnet"]},
            {"id": "dead", "models": ["off:hidden"]},
        ],
    }
)


def one(ref: str, **kwargs: str) -> tuple[str, str]:
    target = resolve_model(CONFIG, ref, **kwargs).first
    return target.provider.id, target.model


def test_provider_colon_model_splits_at_the_first_colon() -> None:
    assert one("oai:gpt-4o") == ("oai", "gpt-4o")
    assert one("ollama:llama3:8b") == ("ollama", "llama3:8b")
    assert one("oai:not-listed-but-allowed") == ("oai", "not-listed-but-allowed")


def test_a_bare_id_listed_by_one_enabled_provider() -> None:
    assert one("claude-sonnet") == ("ant", "claude-sonnet")
    # The colon belongs to the model when the part before it names no provider.
    assert one("llama3:8b") == ("ollama", "llama3:8b")


def test_a_bare_id_listed_by_several_is_ambiguous_with_candidates() -> None:
    with pytest.raises(AmbiguousModelError) as info:
        resolve_model(CONFIG, "shared")
    assert info.value.candidates == ["oai:shared", "ant:shared"]  # the disabled one is not
    assert "oai:shared" in info.value.message and "ant:shared" in info.value.message
    assert isinstance(info.value, ConfigError)


def test_near_misses_are_suggested() -> None:
    with pytest.raises(UnknownModelError) as info:
        resolve_model(CONFIG, "gpt-4")
    assert "oai:gpt-4o" in info.value.suggestions
    assert "Did you mean" in info.value.message
    with pytest.raises(UnknownProviderError) as provider_info:
        resolve_model(CONFIG, "olama:llama3:8b")
    assert provider_info.value.suggestions == ["ollama"]
    assert "Did you mean 'ollama'?" in provider_info.value.message


def test_unknown_says_what_exists_and_mentions_disabled_listers() -> None:
    with pytest.raises(UnknownModelError) as info:
        resolve_model(CONFIG, "hidden")
    assert "disabled provider(s): off" in info.value.message
    assert "oai:gpt-4o" in info.value.message
    with pytest.raises(UnknownProviderError) as provider_info:
        resolve_model(CONFIG, "nope:x")
    assert "oai" in provider_info.value.available


def test_a_disabled_provider_is_named() -> None:
    with pytest.raises(ProviderDisabledError, match="'off' is disabled"):
        resolve_model(CONFIG, "off:hidden")


def test_path_provider_id_takes_a_bare_or_prefixed_model() -> None:
    assert one("gpt-4o", provider_id="oai") == ("oai", "gpt-4o")
    assert one("oai:gpt-4o", provider_id="oai") == ("oai", "gpt-4o")
    assert one("x:y", provider_id="ant") == ("ant", "x:y")
    with pytest.raises(UnknownProviderError):
        resolve_model(CONFIG, "gpt-4o", provider_id="ghost")


def test_a_group_resolves_to_its_enabled_members_in_order() -> None:
    resolution = resolve_model(CONFIG, "fast")
    assert resolution.group is not None and resolution.group.id == "fast"
    assert [t.ref for t in resolution.targets] == ["oai:gpt-4o", "ant:claude-sonnet"]
    assert [t.ref for t in resolve_model(CONFIG, "x", provider_id="fast").targets] == [
        "oai:gpt-4o",
        "ant:claude-sonnet",
    ]
    with pytest.raises(ModelRefError, match="no member on an enabled provider"):
        resolve_model(CONFIG, "dead")


@pytest.mark.parametrize("ref", ["", "   ", "oai:"])
def test_empty_refs_are_refused(ref: str) -> None:
    with pytest.raises(ModelRefError):
        resolve_model(CONFIG, ref)
