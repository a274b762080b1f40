"""Two versions of the gateway side by side: server CPU per request, throughput, latency.

    .venv/bin/python bench/ab.py /tmp/before .          # two source trees (parents of cherry_nb/)
    .venv/bin/python bench/ab.py HEAD . --kind translated --stream

A tree is a directory holding a `cherry_nb/` package, or a git ref (exported to a
temp dir). Both gateways run at once against one simulator and are loaded in turn,
round after round. CPU time per request, read from /proc, is the figure to trust on
a busy machine: unlike req/s it barely moves when other processes take the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import loadgen
import targets
import wrk
from procs import REPO, Server, Servers
from run import baseline_tree


def tree(spec: str, tmp: Path) -> Path:
    path = Path(spec)
    if (path / "cherry_nb").is_dir():
        return path.resolve()
    return baseline_tree(spec, tmp / f"tree-{abs(hash(spec))}")


def measure(server: Server, work: loadgen.Workload, args: argparse.Namespace, tmp: Path) -> str:
    cpu = server.cpu_seconds()
    if args.stream:
        began = time.perf_counter()
        count = args.streams
        rates = asyncio.run(loadgen.stream_rate(work, args.words, count))
        elapsed = time.perf_counter() - began
        cpu = server.cpu_seconds() - cpu
        return (
            f"{statistics.median(rates):>9,.0f} chunks/s, cpu {cpu / count * 1e3:7.2f} ms/stream "
            f"({cpu / elapsed * 100:3.0f}% busy)"
        )
    result = wrk.run(work, connections=16, seconds=args.seconds, script_dir=tmp)
    cpu = server.cpu_seconds() - cpu
    latency = wrk.run(work, connections=1, seconds=2, script_dir=tmp)
    p50 = (latency.p50 or 0) * 1e3
    return (
        f"{result.rps:>7,.0f} req/s, cpu {cpu / max(result.requests, 1) * 1e6:5.0f} µs/req, "
        f"c=1 p50 {p50:.2f} ms, errors {result.errors + latency.errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="tree or git ref (before)")
    parser.add_argument("b", nargs="?", default=str(REPO), help="tree or git ref (after)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--kind", choices=targets.KINDS, default="openai")
    parser.add_argument("--stream", action="store_true", help="long streams instead of wrk")
    parser.add_argument("--words", type=int, default=2000, help="chunks per stream")
    parser.add_argument("--streams", type=int, default=20, help="streams per round")
    args = parser.parse_args()
    servers = Servers()
    tmp = Path(tempfile.mkdtemp(prefix="cherry-ab-"))
    try:
        sim = servers.simulator()
        config = servers.gateway_config(sim.port)
        trees = {"A": tree(args.a, tmp), "B": tree(args.b, tmp)}
        gateways = {k: servers.gateway(f"gateway-{k}", config, source=v) for k, v in trees.items()}
        works = {}
        for name, server in gateways.items():
            target = targets.gateway(name, server)
            words = args.words if args.stream else None
            works[name] = target.work(args.kind, stream=args.stream, words=words)
            warm = [target.work(kind) for kind in targets.KINDS]
            asyncio.run(loadgen.bulk(warm, 300, 4))
        for name, path in trees.items():
            print(f"{name}: {path}")
        for turn in range(args.rounds):
            for name in ["A", "B"] if turn % 2 == 0 else ["B", "A"]:
                print(f"round {turn + 1} {name}: {measure(gateways[name], works[name], args, tmp)}")
    finally:
        servers.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
