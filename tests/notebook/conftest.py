"""Real kernels (nbclient / jupyter_client) against a real simulator; live widgets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets
import nbformat
import pytest
from ipywidgets.widgets.widget import _instances
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.simulator import SimulatorThread

SIM_KEY = "sk-test-NOTEBOOKSECRET0123456789"


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimulatorThread]:
    with SimulatorThread(api_key=SIM_KEY) as sim:
        yield sim


@pytest.fixture
def nb_config(upstream: SimulatorThread, _isolated_config: Path) -> Path:
    """The kernel's config (CHERRY_NB_CONFIG is inherited by the kernel process)."""
    registry = ProviderRegistry(_isolated_config)
    registry.add(
        id="sim",
        name="Sim",
        base_url=upstream.base_url("openai"),
        api_key=SIM_KEY,
        models=["sim-chat"],
    )
    registry.add(
        id="ant",
        name="Ant",
        type="anthropic",
        base_url=upstream.base_url("anthropic"),
        api_key=SIM_KEY,
        models=["sim-chat"],
    )
    registry.set_default_model("sim:sim-chat")
    return _isolated_config


def widgets_holding(text: str) -> list[ipywidgets.Widget]:
    """Every live widget whose synced state contains `text`."""
    # ipywidgets' registry of live widgets (Widget.widgets is a deprecated alias of it).
    return [
        widget
        for widget in list(_instances.values())
        if text in json.dumps(widget.get_state(), default=str)
    ]


def run_cells(*sources: str, timeout: int = 60) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(nb, timeout=timeout, kernel_name="python3").execute()
    return nb


def plain(cell: Any) -> str:
    """Everything a cell shows as text: stream text, and each display's Markdown (a
    reply's text/plain twin is cut short after PLAIN_LIMIT characters) or text/plain."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/markdown", output.data.get("text/plain", "")))
    return "\n".join(parts)


@dataclass
class Traffic:
    """The iopub messages one execution produced, for front-end cost bounds."""

    messages: list[dict[str, Any]]

    @property
    def output_messages(self) -> list[dict[str, Any]]:
        kinds = {"stream", "display_data", "update_display_data", "clear_output"}
        return [m for m in self.messages if m["msg_type"] in kinds]

    @property
    def front_end_messages(self) -> list[dict[str, Any]]:
        """Everything sent for the front end to show: outputs and widget traffic."""
        return [m for m in self.messages if m["msg_type"] not in ("status", "execute_input")]

    def bytes_of(self, *kinds: str) -> int:
        """Content bytes (JSON-encoded, as sent) of the messages of these kinds, or
        of every front-end message when none are named."""
        return sum(
            len(json.dumps(m["content"]))
            for m in self.front_end_messages
            if not kinds or m["msg_type"] in kinds
        )

    @property
    def content_bytes(self) -> int:
        return self.bytes_of()


class Kernel:
    """A kernel driven message by message, to count what reaches the front end."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3")

    def execute(self, code: str, timeout: float = 60) -> Traffic:
        msg_id = self.client.execute(code)
        messages = []
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(message)
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return Traffic(messages)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(nb_config: Path) -> Iterator[Kernel]:
    kernel = Kernel()
    try:
        yield kernel
    finally:
        kernel.close()
