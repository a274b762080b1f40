"""Defect 6: a config file caught half-way through a save is never moved away.

An editor that saves in place truncates the file, writes part of it, pauses and writes
the rest. Whatever reads the file in the pause must keep the last good config and leave
the file where it is; only a file that stays invalid is reported, and never replaced.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cherry_nb._exceptions import ConfigFileError
from cherry_nb.config.registry import ProviderRegistry

KEY = "cs-sk-" + "half-written-test-key-0123456789abcdef"


def _document(*ids: str) -> str:
    providers = [{"id": pid, "base_url": "http://127.0.0.1:9/v1", "models": ["m"]} for pid in ids]
    return json.dumps({"providers": providers, "server": {"api_key": KEY}}, indent=2)


def _start_saving(path: Path, text: str) -> str:
    """Truncate `path` and write the first half of `text`, as an editor's save begins;
    returns the rest."""
    half = len(text) // 2
    with path.open("w") as handle:
        handle.write(text[:half])
    return text[half:]


def _finish_saving(path: Path, rest: str) -> None:
    with path.open("a") as handle:
        handle.write(rest)


def test_a_read_during_a_save_waits_for_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    path.write_text(_document("a"))
    registry = ProviderRegistry(path)
    rest = _start_saving(path, _document("a", "b"))
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # the editor writes the rest during the pause
        pauses.append(seconds)
        _finish_saving(path, rest)

    monkeypatch.setattr(time, "sleep", pause)
    assert registry.reload_if_changed() is True
    assert len(pauses) == 1
    assert [p.id for p in registry.config.providers] == ["a", "b"]
    assert path.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_a_file_that_stays_invalid_is_reported_kept_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(_document("a"))
    registry = ProviderRegistry(path)
    snapshot = registry.config
    path.write_text('{"providers": [ {"id": "a"')  # the user stopped typing here
    # The gateway's reload does not sleep: the first sighting is not reported...
    assert registry.reload_if_changed(wait=False) is False
    assert registry.config is snapshot
    # ...a waiting one reports it, once, naming the file and what is wrong.
    with pytest.raises(ConfigFileError) as info:
        registry.reload_if_changed()
    assert str(path) in info.value.message and "not valid JSON" in info.value.message
    assert registry.config is snapshot
    # A change is refused: saving would replace what the user is writing.
    with pytest.raises(ConfigFileError, match="Nothing was changed"):
        registry.add(name="b", base_url="http://127.0.0.1:9/v1")
    assert path.read_text() == '{"providers": [ {"id": "a"'
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["config.json"]


def test_gateway_keeps_serving_the_last_good_config_while_a_save_is_half_done(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.json"
    path.write_text(_document("a"))
    env = {**os.environ, "CHERRY_NB_CONFIG": str(path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cherry_nb", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    headers = {"authorization": f"Bearer {KEY}"}
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("Listening on ")
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["a:m"]
            rest = _start_saving(path, _document("a", "b"))
            during = client.get("/v1/models")
            assert during.status_code == 200
            assert [m["id"] for m in during.json()["data"]] == ["a:m"]  # the last good one
            assert path.exists()
            _finish_saving(path, rest)
            after = client.get("/v1/models").json()["data"]
            assert [m["id"] for m in after] == ["a:m", "b:m"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert "Traceback" not in stderr
    assert json.loads(path.read_text()) == json.loads(_document("a", "b"))
