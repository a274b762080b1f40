"""`%%chat -m GROUP` in a real kernel: the group's next member answers when the first
cannot, before the first token; a request the members would all refuse is not retried."""

from __future__ import annotations

import socket
from pathlib import Path

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.simulator import SimulatorThread

from .conftest import plain, run_cells


def _dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def test_chat_with_a_group_falls_over_to_the_next_member(
    nb_config: Path, upstream: SimulatorThread
) -> None:
    registry = ProviderRegistry(nb_config)
    registry.add(id="dead", name="Down", base_url=_dead_address(), models=["sim-chat"])
    registry.add_group("pool", ["dead:sim-chat", "ant:sim-chat"])
    since = len(upstream.requests)
    nb = run_cells(
        "%load_ext cherry_nb",
        "%%chat -m pool\nhello group",
        "print(_chat.model, _chat.error)",
        "%chat use pool",
        "%%chat\nand again",
    )
    assert "You said: “hello group”" in plain(nb.cells[1])
    assert "pool" in plain(nb.cells[1])  # the footer names the group
    assert plain(nb.cells[2]).strip() == "pool None"
    assert "now chats with pool" in plain(nb.cells[3])
    assert "received 3 messages" in plain(nb.cells[4])  # the conversation went on
    posts = [r.path for r in upstream.requests[since:] if r.method == "POST"]
    assert posts == ["/v1/messages", "/v1/messages"]  # the dead member never answered


def test_a_bad_request_is_not_tried_on_the_next_member(
    nb_config: Path, upstream: SimulatorThread
) -> None:
    registry = ProviderRegistry(nb_config)
    registry.add_group("both", ["ant:sim-chat", "sim:sim-chat"])
    since = len(upstream.requests)
    upstream.script(fail=400, count=1)
    nb = run_cells("%load_ext cherry_nb", "%%chat -m both\nhello")
    shown = plain(nb.cells[1])
    assert "both failed" in shown and "Traceback" not in shown
    posts = [r.path for r in upstream.requests[since:] if r.method == "POST"]
    assert posts == ["/v1/messages"]
