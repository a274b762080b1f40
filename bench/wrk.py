"""Non-streaming load with wrk (C, one thread: cheap per request) and its report parsed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from loadgen import HOST, Workload

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50: float | None  # seconds
    p99: float | None
    errors: int  # non-2xx replies plus socket errors


def find_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return path


def lua_script(work: Workload, directory: Path) -> Path:
    """A wrk script POSTing `work`'s body (ASCII JSON) with its headers."""

    def lua(text: str) -> str:
        return json.dumps(text)  # for ASCII text, a JSON string literal is a Lua one too

    lines = ['wrk.method = "POST"', f"wrk.body = {lua(json.dumps(work.body))}"]
    lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines += [f"wrk.headers[{lua(name)}] = {lua(value)}" for name, value in work.headers]
    handle, name = tempfile.mkstemp(prefix="wrk-", suffix=".lua", dir=directory)
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(lines) + "\n")
    return Path(name)


def run(work: Workload, *, connections: int, seconds: float, script_dir: Path) -> WrkResult:
    """Closed-loop load for `seconds` over `connections` keep-alive connections."""
    script = lua_script(work, script_dir)
    argv = [find_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    argv += ["-s", str(script), f"http://{HOST}:{work.port}{work.path}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return parse(done.stdout)


def parse(report: str) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", report)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    if total is None or rps is None:
        raise RuntimeError(f"cannot read wrk's report:\n{report}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS[total.group(3)],
        rps=float(rps.group(1)),
        p50=_percentile(report, "50"),
        p99=_percentile(report, "99"),
        errors=errors,
    )


def _percentile(report: str, which: str) -> float | None:
    match = re.search(rf"^\s+{which}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", report, re.MULTILINE)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None
