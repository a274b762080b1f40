"""Base-URL normalisation against the addresses people actually paste."""

from __future__ import annotations

import pytest

from cherry_nb._exceptions import ConfigError
from cherry_nb.config.urls import (
    DEFAULT_AZURE_API_VERSION,
    NormalizedURL,
    endpoint_preview,
    is_exact,
    normalize_base_url,
    strip_exact_marker,
)

AZURE = "https://myres.openai.azure.com"

# (typed, type, stored, fragments that must appear in the notes; () = no notes at all)
CASES = [
    # OpenAI-compatible
    ("https://api.openai.com/v1", "openai", "https://api.openai.com/v1", ()),
    ("https://api.openai.com", "openai", "https://api.openai.com/v1", ("Added /v1",)),
    ("https://api.openai.com/v1/", "openai", "https://api.openai.com/v1", ("trailing /",)),
    ("https://api.deepseek.com", "openai", "https://api.deepseek.com/v1", ("Added /v1",)),
    ("https://openrouter.ai/api/v1", "openai", "https://openrouter.ai/api/v1", ()),
    ("https://api.groq.com/openai/v1", "openai", "https://api.groq.com/openai/v1", ()),
    ("http://localhost:11434", "openai", "http://localhost:11434/v1", ("Added /v1",)),
    ("http://127.0.0.1:8000/v1/", "openai", "http://127.0.0.1:8000/v1", ("trailing /",)),
    (
        "https://relay.example.com/v1/chat/completions",
        "openai",
        "https://relay.example.com/v1",
        ("full endpoint", "adds /chat/completions itself"),
    ),
    (
        "https://relay.example.com/chat/completions",
        "openai",
        "https://relay.example.com/v1",
        ("full endpoint", "Added /v1"),
    ),
    ("https://relay.example.com/v1/completions", "openai", "https://relay.example.com/v1", ()),
    ("https://relay.example.com/v1/models", "openai", "https://relay.example.com/v1", ()),
    (
        "https://relay.example.com/v1/messages",
        "openai",
        "https://relay.example.com/v1",
        ("choose type anthropic",),
    ),
    ("https://open.bigmodel.cn/api/paas/v4", "openai", "https://open.bigmodel.cn/api/paas/v4", ()),
    (
        "https://open.bigmodel.cn/api/paas/v4/chat/completions",
        "openai",
        "https://open.bigmodel.cn/api/paas/v4",
        ("full endpoint",),
    ),
    (
        "https://ark.cn-beijing.volces.com/api/v3",
        "openai",
        "https://ark.cn-beijing.volces.com/api/v3",
        (),
    ),
    (
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "openai",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        ("trailing /",),
    ),
    ("https://relay.example.com/v1/v1", "openai", "https://relay.example.com/v1", ("/v1/v1",)),
    (
        "https://relay.example.com/v1/v1/chat/completions",
        "openai",
        "https://relay.example.com/v1",
        ("/v1/v1", "full endpoint"),
    ),
    ("https://x.example.com//v1", "openai", "https://x.example.com/v1", ("doubled /",)),
    ("https://x.example.com/v1?foo=bar", "openai", "https://x.example.com/v1", ("query string",)),
    ("  https://api.openai.com/v1\n", "openai", "https://api.openai.com/v1", ("spaces",)),
    ("https://x.example.com/v1#frag", "openai", "https://x.example.com/v1", ("'#...' part",)),
    # A version-like word that is not a whole segment is not a version.
    ("https://x.example.com/v1x", "openai", "https://x.example.com/v1x/v1", ("Added /v1",)),
    ("https://x.example.com/api/v2beta", "openai", "https://x.example.com/api/v2beta", ()),
    # A proxy that embeds the upstream address keeps its ://
    (
        "https://proxy.example.com/https://api.openai.com/v1",
        "openai",
        "https://proxy.example.com/https://api.openai.com/v1",
        (),
    ),
    # Anthropic
    ("https://api.anthropic.com", "anthropic", "https://api.anthropic.com", ()),
    ("https://api.anthropic.com/v1", "anthropic", "https://api.anthropic.com", ("/v1",)),
    ("https://api.anthropic.com/v1/", "anthropic", "https://api.anthropic.com", ("/v1",)),
    (
        "https://api.anthropic.com/v1/messages",
        "anthropic",
        "https://api.anthropic.com",
        ("full endpoint", "/v1/messages itself"),
    ),
    (
        "https://relay.example.com/api/anthropic/v1",
        "anthropic",
        "https://relay.example.com/api/anthropic",
        ("/v1",),
    ),
    # Gemini
    (
        "https://generativelanguage.googleapis.com",
        "gemini",
        "https://generativelanguage.googleapis.com",
        (),
    ),
    (
        "https://generativelanguage.googleapis.com/v1beta",
        "gemini",
        "https://generativelanguage.googleapis.com",
        ("/v1beta",),
    ),
    (
        "https://generativelanguage.googleapis.com/v1",
        "gemini",
        "https://generativelanguage.googleapis.com",
        ("/v1",),
    ),
    (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
        "gemini",
        "https://generativelanguage.googleapis.com",
        ("model's full endpoint",),
    ),
    (
        "https://generativelanguage.googleapis.com/v1beta/models/x:streamGenerateContent?alt=sse",
        "gemini",
        "https://generativelanguage.googleapis.com",
        ("model's full endpoint", "query string"),
    ),
    (
        "https://generativelanguage.googleapis.com/v1beta/models",
        "gemini",
        "https://generativelanguage.googleapis.com",
        ("full endpoint",),
    ),
    # Azure OpenAI
    (AZURE, "azure-openai", AZURE, ()),
    (AZURE + "/", "azure-openai", AZURE, ("trailing /",)),
    (AZURE + "/openai", "azure-openai", AZURE, ("/openai",)),
    (AZURE + "/openai/v1", "azure-openai", AZURE + "/openai/v1", ()),
    (AZURE + "/openai/v1/", "azure-openai", AZURE + "/openai/v1", ("trailing /",)),
    (
        AZURE + "/openai/v1/chat/completions",
        "azure-openai",
        AZURE + "/openai/v1",
        ("full endpoint",),
    ),
    (
        "https://myres.cognitiveservices.azure.com",
        "azure-openai",
        "https://myres.cognitiveservices.azure.com",
        (),
    ),
    # Exactly as given
    ("https://x.example.com/api#", "openai", "https://x.example.com/api#", ()),
    ("http://10.0.0.5:9000#", "openai", "http://10.0.0.5:9000#", ()),
    ("https://api.anthropic.com/v1#", "anthropic", "https://api.anthropic.com/v1#", ()),
    (
        "https://x.example.com/v1/chat/completions#",
        "openai",
        "https://x.example.com/v1/chat/completions#",
        ("still appends /chat/completions",),
    ),
]


@pytest.mark.parametrize(("typed", "ptype", "stored", "fragments"), CASES)
def test_normalize_table(typed: str, ptype, stored: str, fragments: tuple[str, ...]) -> None:
    result = normalize_base_url(typed, ptype)
    assert result.url == stored
    joined = " | ".join(result.notes)
    if not fragments and typed == stored:
        assert result.notes == ()
    for fragment in fragments:
        assert fragment in joined, (fragment, result.notes)


@pytest.mark.parametrize(("typed", "ptype", "stored", "fragments"), CASES)
def test_every_change_is_explained_and_stable(typed, ptype, stored, fragments) -> None:
    result = normalize_base_url(typed, ptype)
    if result.url != typed:
        assert result.notes, "a change without a note"
    # Normalising the result again changes nothing and says nothing.
    again = normalize_base_url(result.url, ptype)
    assert again.url == result.url
    if not result.url.endswith("#"):
        assert again.notes == ()


def test_result_is_a_frozen_dataclass() -> None:
    result = normalize_base_url("https://api.openai.com/v1", "openai")
    assert isinstance(result, NormalizedURL)
    with pytest.raises(AttributeError):
        result.url = "x"  # type: ignore[misc]


def test_azure_deployment_endpoint_reports_deployment_and_version() -> None:
    typed = AZURE + "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-08-01-preview"
    result = normalize_base_url(typed, "azure-openai")
    assert result.url == AZURE
    assert result.deployment == "gpt4o-prod"
    assert result.api_version == "2024-08-01-preview"
    note = " ".join(result.notes)
    assert "gpt4o-prod" in note and "2024-08-01-preview" in note


def test_azure_api_version_without_deployment() -> None:
    result = normalize_base_url(AZURE + "/openai?api-version=2025-01-01", "azure-openai")
    assert result.url == AZURE
    assert result.api_version == "2025-01-01"
    assert any("2025-01-01" in n for n in result.notes)


def test_a_key_in_the_query_is_dropped_and_not_echoed() -> None:
    typed = (
        "https://generativelanguage.googleapis.com/v1beta?key=AIzaSyNOTAREALKEY1234567890abcdefgh"
    )
    result = normalize_base_url(typed, "gemini")
    assert result.url == "https://generativelanguage.googleapis.com"
    assert any("API key field" in n for n in result.notes)
    assert not any("AIza" in n for n in result.notes)


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("api.openai.com/v1", "Add http:// or https://"),
        ("localhost:11434", "Add http:// or https://"),
        ("127.0.0.1:8000/v1", "Add http:// or https://"),
        ("ftp://files.example.com", "not ftp://"),
        ("ws://localhost:8000", "not ws://"),
        ("https://", "no host name"),
        ("https:///v1", "no host name"),
        ("http://localhost:abc/v1", "port"),
        ("http://localhost:99999", "port"),
        ("https://api.openai .com/v1", "space"),
        ("https://https://api.openai.com", "twice"),
        ("http://[::1", "cannot be parsed"),
        ("not a url", "space"),
        ("#", "empty"),
        ("api.example.com#", "Add http:// or https://"),
        ("https://YOUR-RESOURCE.openai.azure.com", "placeholder YOUR-RESOURCE"),
        ("https://your-resource.openai.azure.com/openai#", "placeholder YOUR-RESOURCE"),
    ],
)
def test_garbage_is_refused_with_a_specific_message(typed: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_base_url(typed, "openai")
    assert fragment in str(info.value)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="openai, anthropic"):
        normalize_base_url("https://api.openai.com/v1", "cohere")  # type: ignore[arg-type]


def test_errors_do_not_repeat_the_address() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_base_url("https://user:pa55word@:abc", "openai")
    assert "pa55word" not in str(info.value)


@pytest.mark.parametrize(
    ("base", "ptype", "kwargs", "expected"),
    [
        ("https://api.openai.com/v1", "openai", {}, "https://api.openai.com/v1/chat/completions"),
        ("https://api.anthropic.com", "anthropic", {}, "https://api.anthropic.com/v1/messages"),
        (
            "https://generativelanguage.googleapis.com",
            "gemini",
            {"model": "gemini-2.0-flash"},
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash"
            ":streamGenerateContent?alt=sse",
        ),
        (
            AZURE,
            "azure-openai",
            {"model": "prod"},
            f"{AZURE}/openai/deployments/prod/chat/completions"
            f"?api-version={DEFAULT_AZURE_API_VERSION}",
        ),
        (
            AZURE,
            "azure-openai",
            {"api_version": "2025-01-01-preview"},
            f"{AZURE}/openai/deployments/MODEL/chat/completions?api-version=2025-01-01-preview",
        ),
        (AZURE + "/openai/v1", "azure-openai", {}, f"{AZURE}/openai/v1/chat/completions"),
        # '#' only disables normalisation: the suffix is still added.
        ("https://x.example.com/api#", "openai", {}, "https://x.example.com/api/chat/completions"),
        ("https://x.example.com/api/#", "openai", {}, "https://x.example.com/api/chat/completions"),
        ("https://x.example.com/v1#", "anthropic", {}, "https://x.example.com/v1/v1/messages"),
        (f"{AZURE}/openai/v1#", "azure-openai", {}, f"{AZURE}/openai/v1/chat/completions"),
    ],
)
def test_endpoint_preview(base: str, ptype, kwargs: dict, expected: str) -> None:
    assert endpoint_preview(base, ptype, **kwargs) == expected


def test_default_azure_api_version_is_a_ga_date() -> None:
    assert DEFAULT_AZURE_API_VERSION == "2024-10-21"


def test_strip_exact_marker() -> None:
    assert strip_exact_marker("https://x.example.com/api#") == "https://x.example.com/api"
    assert strip_exact_marker("https://x.example.com/api/#") == "https://x.example.com/api"
    assert strip_exact_marker("https://x.example.com/v1") == "https://x.example.com/v1"
    assert is_exact("https://x.example.com/api#")
    assert not is_exact("https://x.example.com/api")
