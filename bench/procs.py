"""Processes under test: the simulator, cherry_nb gateways and LiteLLM's proxy.

Every process is started in its own session (process group) and stopped with its
whole group, by `Servers.close()` — which the entry point calls in a `finally`.
Readiness is polled over raw TCP with a bounded number of attempts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
GATEWAY_KEY = "cs-sk-bench-3f9c2a7e5b1d4c8a"
LITELLM_KEY = "sk-bench"
REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def with_bytecode_cache(env: dict[str, str], cache: Path) -> dict[str, str]:
    """`env` with Python's bytecode cache on, in `cache`: processes start as from an
    installed package (pip writes .pyc files), whatever the caller's environment says
    (PYTHONDONTWRITEBYTECODE would have every start compile cherry_nb from source,
    ~0.1 s of it), and the trees measured stay clean."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


class BenchError(RuntimeError):
    """A server did not start, or answered wrongly: the run cannot go on."""


def free_port() -> int:
    """A TCP port that was free a moment ago (for servers that need one given)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of GET `path`, or None if nothing answers (one short attempt)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
    except OSError:
        return None
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(match.group(1)) if match else None


@dataclass
class Server:
    """One started process group, and how to reach it."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    started: float
    ready_after: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def group_pids(self) -> list[int]:
        """Every live process in this server's process group (workers included)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == self.pid:  # field 5: process group id
                pids.append(int(entry))
        return pids

    def rss_bytes(self) -> int:
        """Resident memory of the whole process group."""
        total = 0
        for pid in self.group_pids():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
            except OSError:
                continue
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the whole process group."""
        total = 0
        for pid in self.group_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def wait_ready(self, path: str, timeout: float) -> float:
        """Poll `path` until it answers 200; seconds since the process was started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited early; see {self.log}:\n{_tail(self.log)}")
            if http_get(self.port, path, timeout=0.5) == 200:
                self.ready_after = time.monotonic() - self.started
                return self.ready_after
            time.sleep(0.005)
        raise BenchError(f"{self.name} not ready after {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after a grace period."""
        if self.process.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.pid, signal.SIGKILL)  # stragglers (workers) of the group
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Servers:
    """Starts servers into a private temp dir and stops them all on `close()`."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cherry-bench-")))
    running: list[Server] = field(default_factory=list)

    @property
    def pycache(self) -> Path:
        """The bytecode cache of every process started here (see `with_bytecode_cache`)."""
        return self.workdir / "pycache"

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Server:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=with_bytecode_cache({**os.environ, **(env or {})}, self.pycache),
                cwd=cwd,
                start_new_session=True,
            )
        server = Server(name, process, port, log, time.monotonic())
        self.running.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.running:
            self.running.remove(server)

    def close(self) -> None:
        while self.running:
            self.stop(self.running[-1])

    # ---- the three kinds of server ----------------------------------------------------

    def simulator(self) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "cherry_nb", "simulator", "--port", str(port)]
        server = self.spawn("simulator", argv, port)
        server.wait_ready("/health", timeout=20)
        return server

    def gateway_config(self, sim_port: int) -> Path:
        """A config listing the simulator as an OpenAI-type and an Anthropic-type provider."""
        path = self.workdir / "cherry-nb-config.json"
        sim = f"http://{HOST}:{sim_port}"
        config = {
            "version": 1,
            "providers": [
                _provider("sim", "openai", f"{sim}/v1"),
                _provider("sima", "anthropic", sim),
            ],
            "server": {"host": HOST, "api_key": GATEWAY_KEY},
        }
        path.write_text(json.dumps(config, indent=2))
        path.chmod(0o600)
        return path

    def gateway(
        self, name: str, config: Path, *, source: Path | None = None, workers: int = 1
    ) -> Server:
        """`cherry-nb serve` (from `source`, a checkout, instead of this tree if given)."""
        port = free_port()
        argv = [sys.executable, "-m", "cherry_nb", "serve", "--port", str(port)]
        argv += ["--api-key", GATEWAY_KEY, "--config", str(config)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        env = {"CHERRY_NB_CONFIG": str(config)}
        if source is not None:
            env["PYTHONPATH"] = str(source)
        server = self.spawn(name, argv, port, env=env, cwd=source or REPO)
        server.wait_ready("/health", timeout=30)
        return server

    def floor(self, *, workers: int = 1) -> Server:
        """`bench/floor.py`: a fixed answer on the gateway's Hypercorn configuration."""
        port = free_port()
        argv = [sys.executable, str(Path(__file__).with_name("floor.py")), "--port", str(port)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        server = self.spawn(f"floor-{workers}", argv, port, cwd=REPO)
        server.wait_ready("/health", timeout=30)
        return server

    def relay_floor(self, sim_port: int) -> Server:
        """`bench/relay_floor.py`: each POST relayed to the simulator's chat completions."""
        port = free_port()
        upstream = f"http://{HOST}:{sim_port}/v1/chat/completions"
        script = str(Path(__file__).with_name("relay_floor.py"))
        argv = [sys.executable, script, "--port", str(port), "--upstream", upstream]
        server = self.spawn("relay-floor", argv, port, cwd=REPO)
        server.wait_ready("/health", timeout=30)
        return server

    def litellm(self, venv: Path, sim_port: int) -> Server:
        port = free_port()
        config = self.workdir / "litellm-config.yaml"
        config.write_text(litellm_config(sim_port))
        argv = [str(venv / "bin" / "litellm"), "--config", str(config)]
        argv += ["--host", HOST, "--port", str(port), "--num_workers", "1"]
        env = {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price list at start
            "LITELLM_LOG": "ERROR",
            "LITELLM_TELEMETRY": "False",
        }
        server = self.spawn("litellm", argv, port, env=env, cwd=self.workdir)
        server.wait_ready("/health/liveliness", timeout=180)
        return server


def _provider(provider_id: str, kind: str, base_url: str) -> dict[str, object]:
    return {
        "id": provider_id,
        "name": provider_id,
        "type": kind,
        "base_url": base_url,
        "api_key": "sk-sim",
        "enabled": True,
        "models": ["sim-chat"],
    }


def litellm_config(sim_port: int) -> str:
    """LiteLLM's proxy config: the simulator as an OpenAI model and an Anthropic one."""
    sim = f"http://{HOST}:{sim_port}"
    return f"""\
model_list:
  - model_name: sim-chat
    litellm_params:
      model: openai/sim-chat
      api_base: {sim}/v1
      api_key: sk-sim
  - model_name: sim-anthropic
    litellm_params:
      model: anthropic/sim-chat
      api_base: {sim}
      api_key: sk-sim
general_settings:
  master_key: {LITELLM_KEY}
litellm_settings:
  telemetry: false
  # Anthropic-format requests to an OpenAI model go through chat/completions (the
  # simulator does not serve the Responses API).
  use_chat_completions_url_for_anthropic_messages: true
"""
