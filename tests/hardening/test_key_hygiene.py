"""Defect 8 (the key items): mixed keys, credential headers, too-short gateway keys.

- `api_key: "env:VAR,sk-literal"`: each part is shown, resolved and exported on its own
  (the variable's name shown, the literal masked and never exported).
- Custom credential headers are masked in reprs and left out of exports (which say so).
- A gateway key shorter than 16 characters is refused everywhere, saying how to make
  one; `mask_key` never shows a short secret whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cherry_nb._exceptions import ConfigError
from cherry_nb._secrets import mask_key
from cherry_nb.cli import main
from cherry_nb.config.models import Config, GatewayKey
from cherry_nb.config.registry import ProviderRegistry

LITERAL = "lit-" + "Q7w2E9r4T6y1U3i5"  # not key-shaped: only per-part care masks it
HEADER_SECRET = "hdr-" + "Z8x6C4v2B0n9M7k5"


@pytest.fixture
def registry(_isolated_config: Path, monkeypatch: pytest.MonkeyPatch) -> ProviderRegistry:
    monkeypatch.setenv("TEAM_KEY", "from-the-environment-0123456789")
    registry = ProviderRegistry(_isolated_config)
    registry.add(
        id="mixed",
        name="mixed",
        base_url="https://api.example.com/v1",
        api_key=f"env:TEAM_KEY,{LITERAL}",
        headers={
            "X-Api-Key": HEADER_SECRET,
            "Authorization": f"Bearer {HEADER_SECRET}",
            "X-Org": "team-a",
        },
    )
    return registry


def test_a_mixed_key_is_shown_and_resolved_part_by_part(registry: ProviderRegistry) -> None:
    provider = registry.get("mixed")
    assert provider.api_keys() == ["from-the-environment-0123456789", LITERAL]
    hint = provider.key_hint
    assert "env:TEAM_KEY" in hint and mask_key(LITERAL) in hint
    assert LITERAL not in hint


def test_a_mixed_key_exports_only_its_env_part(
    registry: ProviderRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "export"]) == 0
    out, err = capsys.readouterr()
    [exported] = json.loads(out)["providers"]
    assert exported["api_key"] == "env:TEAM_KEY"
    assert LITERAL not in out
    assert "mixed: left out its keys" in err


def test_credential_headers_are_masked_in_reprs_and_left_out_of_exports(
    registry: ProviderRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = registry.get("mixed")
    for shown in (repr(provider), repr(registry.config), str(provider)):
        assert HEADER_SECRET not in shown and "Z8x6C4v2" not in shown
        assert "team-a" in shown  # ordinary headers are still shown
    exported = registry.export()["providers"][0]
    assert exported["headers"] == {"X-Org": "team-a"}
    assert main(["providers", "export"]) == 0
    out, err = capsys.readouterr()
    assert HEADER_SECRET not in out and "credential headers" in err
    assert main(["providers"]) == 0
    assert HEADER_SECRET not in capsys.readouterr().out


@pytest.mark.parametrize("key", ["a", "short-key", "cs-sk-test", "15-characters!!"])
def test_a_short_gateway_key_is_refused_everywhere(
    registry: ProviderRegistry, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    with pytest.raises(ConfigError, match="at least 16 characters") as info:
        registry.set_server(api_key=key)
    assert "secrets.token_urlsafe" in info.value.message  # says how to make one
    with pytest.raises(ValueError, match="at least 16 characters"):
        GatewayKey(name="laptop", key=key)
    with pytest.raises(ValueError, match="at least 16 characters"):
        Config.model_validate({"server": {"api_key": key}})
    assert main(["serve", "--port", "0", "--api-key", key]) == 2
    err = capsys.readouterr().err
    assert "at least 16 characters" in err and "secrets.token_urlsafe" in err
    if len(key) >= 8:
        assert key not in err  # the refused key is not echoed


@pytest.mark.parametrize("secret", ["a", "ab", "abcd", "abcdefg", "abcdefghijk"])
def test_mask_key_never_shows_a_short_secret_whole(secret: str) -> None:
    masked = mask_key(secret)
    assert secret not in masked
    assert len(masked.replace("…", "")) <= len(secret) // 4


def test_reimporting_an_export_keeps_the_stored_literal_key(registry: ProviderRegistry) -> None:
    document = json.loads(json.dumps(registry.export()))
    assert registry.import_(document, replace=True) == ["mixed"]
    assert registry.get("mixed").api_key == f"env:TEAM_KEY,{LITERAL}"
