"""Shared fixtures: a real simulator on 127.0.0.1 and providers pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from cherry_nb.config.models import Provider
from cherry_nb.simulator import Simulator

SIM_KEY = "sim-test-key-0123456789"
PROVIDER_TYPES = ["openai", "anthropic", "gemini", "azure-openai"]


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test ever reads or writes the user's real config."""
    path = tmp_path / "config" / "config.json"
    monkeypatch.setenv("CHERRY_NB_CONFIG", str(path))
    return path


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=SIM_KEY) as simulator:
        yield simulator


ProviderFactory = Callable[..., Provider]


@pytest.fixture
def make_provider(sim: Simulator) -> ProviderFactory:
    def make(provider_type: str = "openai", **changes: object) -> Provider:
        fields: dict[str, object] = {
            "id": f"sim-{provider_type}",
            "type": provider_type,
            "base_url": sim.base_url(provider_type),
            "api_key": SIM_KEY,
            "models": ["sim-chat", "sim-fast"],
        }
        fields.update(changes)
        return Provider.model_validate(fields)

    return make
