"""The shipped notebooks run top to bottom offline, and are committed clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cherry_nb.config.registry import ProviderRegistry

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
KEY_SHAPES = re.compile(
    r"(sk-(ant-|proj-)?[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{30,}|cs-sk-[0-9a-f-]{36})"
)


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_quickstart.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_or_keys(path: Path):
    nb = nbformat.read(path, 4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert "widgets" not in nb.metadata
    assert not KEY_SHAPES.search(path.read_text())


def _users_config(path: Path) -> bytes:
    """A config file as a user's would be: a provider, a default model, a gateway key."""
    registry = ProviderRegistry(path)
    registry.add(
        id="mine", name="Mine", base_url="http://127.0.0.1:9/v1", api_key="sk-mine", models=["m"]
    )
    registry.set_default_model("mine:m")
    registry.set_server(api_key="test-gateway-key-for-notebooks")
    return path.read_bytes()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_offline_top_to_bottom(
    path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_config: Path
):
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    before = _users_config(_isolated_config)
    nb = nbformat.read(path, 4)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources=resources).execute()
    outputs = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    assert '"output_type": "error"' not in outputs
    assert "Traceback" not in outputs
    assert not KEY_SHAPES.search(outputs.replace("cs-sk-\\u2026", ""))
    # The simulator, the recipes and the demo providers leave the user's config as it was.
    assert _isolated_config.read_bytes() == before
