"""The offline simulator belongs to its kernel: never saved, and a stopped one says so."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from cherry_nb.config.registry import ProviderRegistry

from .conftest import plain, run_cells


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_simulator_is_never_written_to_the_config(nb_config: Path):
    before = nb_config.read_bytes()
    nb = run_cells(
        "%load_ext cherry_nb",
        "%chat simulator",
        "%%chat -m simulator:sim-chat\nhello",
        "%chat providers",
        "import cherry_nb\ncherry_nb.registry().disable('simulator')",
    )
    assert "Offline simulator running" in plain(nb.cells[1])
    assert "received 1 message" in plain(nb.cells[2])
    assert "simulator" in plain(nb.cells[3])
    assert nb_config.read_bytes() == before


def test_a_stopped_simulator_of_another_kernel_is_named_and_replaced(nb_config: Path):
    # What an older version left in the file: another kernel's simulator, now gone.
    registry = ProviderRegistry(nb_config)
    registry.add(
        id="simulator",
        name="Offline simulator",
        base_url=f"http://127.0.0.1:{_dead_port()}/v1",
        models=["sim-chat"],
    )
    registry.set_default_model("simulator:sim-chat")
    nb = run_cells(
        "%load_ext cherry_nb",
        "%%chat\nhello",
        "%chat simulator",
        "%%chat\nhello again",
    )
    stopped = plain(nb.cells[1])
    assert "offline simulator of another notebook has stopped" in stopped
    assert "%chat simulator" in stopped and "proxy" not in stopped.lower()
    assert "received 1 message" in plain(nb.cells[3])
    saved = json.loads(nb_config.read_text())
    assert [p["id"] for p in saved["providers"]] == ["sim", "ant"]  # migrated away
    assert saved["default_model"] is None


def test_a_simulator_model_without_a_simulator_says_how_to_start_one(nb_config: Path):
    nb = run_cells("%load_ext cherry_nb", "%%chat -m simulator:sim-chat\nhi")
    assert "No offline simulator runs in this notebook" in plain(nb.cells[1])
    assert "%chat simulator" in plain(nb.cells[1])


def test_the_simulator_stops_with_its_command(nb_config: Path):
    nb = run_cells(
        "%load_ext cherry_nb",
        "%chat simulator",
        "%chat simulator stop",
        "%%chat -m simulator:sim-chat\nhi",
        "import cherry_nb\nprint([p.id for p in cherry_nb.registry().config.providers])",
    )
    assert "Offline simulator stopped." in plain(nb.cells[2])
    assert "No offline simulator runs in this notebook" in plain(nb.cells[3])
    assert plain(nb.cells[4]).strip() == "['sim', 'ant']"
