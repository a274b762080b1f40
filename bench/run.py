"""Benchmarks of the cherry_nb gateway, against direct-to-upstream and LiteLLM's proxy.

    .venv/bin/python bench/run.py                     # everything (~6 min), Markdown on stdout
    .venv/bin/python bench/run.py --skip-litellm --rounds 2 --seconds 3
    .venv/bin/python bench/run.py --baseline HEAD     # also the gateway as committed at HEAD
    .venv/bin/python bench/run.py --only held,workers # just those parts (~1-2 min)
    .venv/bin/python bench/run.py --only memory,startup,import --memory-runs 5

The simulator (`cherry-nb simulator`) is the upstream of every target. Targets run
as separate processes and are measured in one run, interleaved round by round
(A B C, B C A, ...), so drifts of a shared 2-core machine hit all of them alike.
Every process started here is stopped here (process groups, in a `finally`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import imports
import litellm_env
import loadgen
import targets
import wrk
from procs import REPO, Servers
from report import Results, markdown
from targets import Target

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results"
STREAM_WORDS = 2000
HELD_PACE = 0.02  # seconds between the upstream's chunks in the held-streams phase
MEMORY_WARM_UP = 400  # mixed requests before the 10,000 whose growth is measured
SUSTAINED_P99 = 0.020  # seconds: the p99 a sustained rate must stay under
SUSTAINED_START = 10.0  # req/s: the first rate tried
SUSTAINED_SAMPLES = 200  # requests per step at least (up to 10 s a step)
SUSTAINED_MAX = 20_000.0  # req/s: never asked for more
CALL_TIMEOUT = 300.0  # seconds: no single measurement may run longer


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run one client coroutine, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(make(), CALL_TIMEOUT)

    return asyncio.run(bounded())


def rotated(items: list[T], turn: int) -> list[T]:
    """`items` rotated by `turn`: each round starts with a different target."""
    k = turn % len(items) if items else 0
    return items[k:] + items[:k]


# ---- phases ----------------------------------------------------------------------------


def warm_up(target: Target) -> None:
    count = 60 if target.name == "LiteLLM" else 300
    works = [target.work(kind) for kind in target.routes]
    if target.streams:
        works += [target.work(kind, stream=True) for kind in target.routes]
    errors = run_async(lambda: loadgen.bulk(works, count, 4))
    target.requests += count
    if errors:
        raise RuntimeError(f"{target.name}: {errors} of {count} warm-up requests failed")


def throughput(
    tgts: list[Target], args: argparse.Namespace, res: Results, tmp: Path, *, latency: bool = True
) -> None:
    """Non-streaming chat completions: closed loop at concurrency 16, then 1 (latency)."""
    for turn in range(args.rounds):
        for target in rotated(tgts, turn):
            work = target.work("openai")
            cpu = target.server.cpu_seconds()
            result = wrk.run(work, connections=16, seconds=args.seconds, script_dir=tmp)
            cpu = target.server.cpu_seconds() - cpu
            target.requests += result.requests
            res.add("rps16", target.name, result.rps)
            res.add("cpu_us", target.name, cpu / max(result.requests, 1) * 1e6)
            res.add("errors", target.name, result.errors)
            log(f"  c=16 {target.name}: {result.rps:,.0f} req/s, errors {result.errors}")
    for turn in range(args.rounds if latency else 0):
        for target in rotated(tgts, turn):
            work = target.work("openai")
            result = wrk.run(work, connections=1, seconds=args.latency_seconds, script_dir=tmp)
            target.requests += result.requests
            res.add("p50_1", target.name, result.p50)
            res.add("p99_1", target.name, result.p99)
            res.add("errors", target.name, result.errors)
            log(f"  c=1 {target.name}: p50 {result.p50 and result.p50 * 1e3:.2f} ms")


def streaming(tgts: list[Target], args: argparse.Namespace, res: Results) -> None:
    """Time to first body byte of a short stream; chunks/s of a 2,000-chunk stream."""
    tgts = [t for t in tgts if t.streams]
    for turn in range(args.rounds):
        for target in rotated(tgts, turn):
            slow = target.name == "LiteLLM"
            for kind in target.routes:
                work = target.work(kind, stream=True)
                count = max(10, args.ttfb_count // (4 if slow else 1))
                ttfb = run_async(lambda w=work, n=count: loadgen.time_to_first_byte(w, n))
                res.add(f"ttfb:{kind}", target.name, statistics.median(ttfb))
                work = target.work(kind, stream=True, words=STREAM_WORDS)
                n = 1 if slow else args.streams
                rates = run_async(lambda w=work, n=n: loadgen.stream_rate(w, STREAM_WORDS, n))
                res.add(f"chunks:{kind}", target.name, statistics.median(rates))
                target.requests += count + n
                log(
                    f"  stream {target.name} {kind}: ttfb {statistics.median(ttfb) * 1e3:.2f} ms,"
                    f" {statistics.median(rates):,.0f} chunks/s"
                )


def held(tgts: list[Target], args: argparse.Namespace, res: Results) -> None:
    """Many paced streams at once (OpenAI passthrough): does any of them stall?"""
    for target in tgts:
        held_too = target.name in ("direct", "relay floor")
        if not (held_too or (target.gateway and "--workers" not in target.name)):
            continue
        work = target.work("openai", stream=True, words=args.held_words, pace=HELD_PACE)
        began = time.monotonic()
        streams = run_async(lambda w=work: loadgen.held_streams(w, args.held))
        target.requests += len(streams)
        gaps = sorted(s.max_gap for s in streams)
        res.add("held_gap_max", target.name, gaps[-1])
        res.add("held_gap_p99", target.name, gaps[int(0.99 * (len(gaps) - 1))])
        res.add("held_first_max", target.name, max(s.first_byte for s in streams))
        res.add("held_incomplete", target.name, sum(not s.complete for s in streams))
        log(
            f"  {args.held} streams {target.name}: longest gap {gaps[-1] * 1e3:.0f} ms, "
            f"last first byte {res.last('held_first_max', target.name) * 1e3:.0f} ms, "
            f"{res.last('held_incomplete', target.name):.0f} incomplete, "
            f"{time.monotonic() - began:.1f} s"
        )


def sustained(tgts: list[Target], args: argparse.Namespace, res: Results) -> None:
    """The highest constant request rate (non-streaming, open loop) served with p99 under
    20 ms and no error: doubling from a low rate until it fails, then halving the gap."""
    # Direct last: overloading the simulator leaves it a backlog to work off.
    order = {"cherry_nb": 0, "LiteLLM": 1, "direct": 2}  # direct: what the client allows
    for target in sorted((t for t in tgts if t.name in order), key=lambda t: order[t.name]):
        time.sleep(2.0)  # the previous phase's connections closed, its garbage collected
        work = target.work("openai")
        tried: dict[float, loadgen.RateResult] = {}

        def holds(
            rate: float,
            work: loadgen.Workload = work,
            target: Target = target,
            tried: dict[float, loadgen.RateResult] = tried,
        ) -> bool:
            # Enough requests at low rates for a p99 that is not just the slowest one.
            seconds = min(max(args.rate_seconds, SUSTAINED_SAMPLES / rate), 10.0)
            result = run_async(lambda: loadgen.constant_rate(work, rate, seconds))
            target.requests += result.sent
            ok = result.p99 <= SUSTAINED_P99 and not result.errors and not result.behind
            log(
                f"  {target.name} at {rate:,.0f} req/s: p50 {result.p50 * 1e3:.1f} ms, "
                f"p99 {result.p99 * 1e3:.1f} ms, errors {result.errors}"
                f"{', client behind' if result.behind else ''} -> "
                f"{'holds' if ok else 'fails'}"
            )
            time.sleep(0.5)  # let a backlog drain before the next rate
            tried[rate] = result
            return ok

        good, bad = 0.0, None
        rate = SUSTAINED_START
        while bad is None and rate <= SUSTAINED_MAX:
            if holds(rate):
                good, rate = rate, rate * 2
            else:
                bad = rate
        for _ in range(args.rate_bisections if bad is not None and good else 0):
            middle = round((good + bad) / 2)
            if holds(middle):
                good = middle
            else:
                bad = middle
        if good:
            res.add("sustained", target.name, good)
        else:
            res.add("sustained_none", target.name, SUSTAINED_START)  # below the lowest rate
            first = tried[SUSTAINED_START]
            res.notes.append(
                f"{target.name}: no sustained rate; already at {SUSTAINED_START:.0f} req/s, "
                f"the lowest tried, p50 {first.p50 * 1e3:.1f} ms, p99 {first.p99 * 1e3:.1f} ms, "
                f"{first.errors} errors."
            )


def fill_bytecode_cache(servers: Servers, config: Path, gateways: dict[str, Path | None]) -> None:
    """Start and stop each tree's gateway once, unmeasured: a start that compiles cherry_nb
    and writes the bytecode cache takes longer and holds ~5 MB more than any later one."""
    for name, source in gateways.items():
        servers.stop(servers.gateway(f"{name}-warm", config, source=source))


def memory(
    servers: Servers,
    config: Path,
    gateways: dict[str, Path | None],
    res: Results,
    n: int,
    runs: int = 1,
) -> None:
    """RSS of a fresh gateway: idle (in each of `runs` fresh processes), then, in the last,
    after `n` mixed requests (both formats, streamed or not, passthrough and translated)."""
    fill_bytecode_cache(servers, config, gateways)
    for turn in range(runs):
        for name, source in rotated(list(gateways.items()), turn):
            server = servers.gateway(f"{name}-memory", config, source=source)
            try:
                target = targets.gateway(name, server)
                time.sleep(1.0)
                res.add("rss_idle", name, server.rss_bytes())
                if turn < runs - 1 or n <= 0:
                    continue
                works = [
                    target.work("openai"),
                    target.work("openai", stream=True),
                    target.work("anthropic"),
                    target.work("translated", stream=True),
                ]
                # A first few requests of each kind load what serving them needs (modules
                # imported on first use, the pool's connections, the ledger's writer);
                # what grows after that is what requests leave behind.
                errors = run_async(lambda w=works: loadgen.bulk(w, MEMORY_WARM_UP, 8))
                res.add("rss_warm", name, server.rss_bytes())
                errors += run_async(lambda w=works: loadgen.bulk(w, n, 8))
                res.add("rss_after", name, server.rss_bytes())
                res.add("errors", name, errors)
            finally:
                servers.stop(server)
    for name in gateways:
        after = res.median("rss_after", name)
        log(
            f"  memory {name}: {res.median('rss_idle', name) / 2**20:.1f} MB idle"
            + ("" if after is None else f", {after / 2**20:.1f} MB after {n:,} requests")
        )


def startup(
    servers: Servers, config: Path, gateways: dict[str, Path | None], res: Results, runs: int
) -> None:
    """From spawning `cherry-nb serve` to its first answered /health."""
    fill_bytecode_cache(servers, config, gateways)
    for turn in range(runs):
        for name, source in rotated(list(gateways.items()), turn):
            server = servers.gateway(f"{name}-startup", config, source=source)
            assert server.ready_after is not None
            res.add("startup", name, server.ready_after)
            # CPU time moves less than wall time when other processes take the cores.
            res.add("startup_cpu", name, server.cpu_seconds())
            servers.stop(server)
    for name in gateways:
        log(
            f"  startup {name}: {res.median('startup', name):.2f} s "
            f"({res.median('startup_cpu', name):.2f} s of CPU)"
        )


def import_costs(gateways: dict[str, Path | None], res: Results, runs: int, pycache: Path) -> None:
    """`import cherry_nb` and `%load_ext cherry_nb`, in fresh interpreters, per tree."""
    for name, source in gateways.items():
        for kind in ("import", "load_ext"):
            cost = imports.measure(kind, runs, source=source or REPO, pycache=pycache)
            res.meta[f"{kind}_heavy:{name}"] = list(cost.heavy)
            if cost.seconds is None:
                res.notes.append(f"{name}: `{kind}` not measured: {cost.note}")
                continue
            res.add(kind, name, cost.seconds)
            log(
                f"  {name} {kind}: {cost.seconds * 1e3:.0f} ms, "
                f"loads {', '.join(cost.heavy) or 'nothing heavy'}"
            )


# ---- the run ---------------------------------------------------------------------------


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as committed at `ref`, exported (not checked out) into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "cherry_nb"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=60)
    return into


def run_only(args: argparse.Namespace, servers: Servers, res: Results, tmp: Path) -> None:
    """Only the parts named by --only: `workers` (throughput at c=16 of the floor and the
    gateway, with one worker and with N), `held` (the paced streams, direct and the
    gateway), and `memory`, `startup`, `import` (no load client)."""
    gateways: dict[str, Path | None] = {"cherry_nb": None}
    if args.baseline:  # before (the baseline) and after, in the same run
        gateways[f"cherry_nb@{args.baseline}"] = baseline_tree(args.baseline, tmp / "baseline")
    if args.only - {"import"}:
        log("Starting the simulator")
        sim = servers.simulator()
        config = servers.gateway_config(sim.port)
    if {"workers", "held"} & args.only:
        log("Starting the gateway(s)")
        singles = [
            targets.gateway(name, servers.gateway(name, config, source=source))
            for name, source in gateways.items()
        ]
    if "workers" in args.only:
        n = max(args.workers, 2)
        tgts = [
            targets.floor(servers.floor()),
            targets.floor(servers.floor(workers=n), f"floor --workers {n}"),
            *singles,
        ]
        for name, source in gateways.items():
            server = servers.gateway(f"{name} --workers {n}", config, source=source, workers=n)
            tgts.append(targets.gateway(f"{name} --workers {n}", server, streams=False))
        log("Warming up")
        for target in tgts:
            warm_up(target)
        log(f"Throughput (c=16), one worker and {n}, with wrk")
        throughput(tgts, args, res, tmp, latency=False)
    if "held" in args.only:
        log(f"{args.held} paced streams at once")
        relay = targets.relay_floor(servers.relay_floor(sim.port))
        for turn in range(args.rounds):
            held(rotated([targets.direct(sim), relay, *singles], turn), args, res)
    if "memory" in args.only:
        log(f"Memory: {args.memory_runs} fresh gateway(s) idle, the last after requests")
        memory(servers, config, gateways, res, args.memory_requests, args.memory_runs)
    if "startup" in args.only:
        log("Startup")
        startup(servers, config, gateways, res, args.startup_runs)
    if "import" in args.only:
        log("Import time")
        import_costs(gateways, res, args.import_runs, servers.pycache)


def run(args: argparse.Namespace, servers: Servers, res: Results, tmp: Path) -> None:
    if args.only:
        return run_only(args, servers, res, tmp)
    gateways: dict[str, Path | None] = {"cherry_nb": None}
    if args.baseline:
        gateways[f"cherry_nb@{args.baseline}"] = baseline_tree(args.baseline, tmp / "baseline")
    for spec in args.variant:
        name, _, path = spec.partition("=")
        if not (Path(path) / "cherry_nb").is_dir():
            raise SystemExit(f"--variant {spec}: expected NAME=DIR, DIR holding cherry_nb/")
        gateways[f"cherry_nb+{name}"] = Path(path).resolve()
    log("Starting the simulator and the gateway(s)")
    sim = servers.simulator()
    config = servers.gateway_config(sim.port)
    tgts = [targets.floor(servers.floor()), targets.direct(sim)]
    for name, source in gateways.items():
        tgts.append(targets.gateway(name, servers.gateway(name, config, source=source)))
    if args.workers > 1:
        name = f"cherry_nb --workers {args.workers}"
        server = servers.gateway(name, config, workers=args.workers)
        tgts.append(targets.gateway(name, server, streams=False))
        # What N workers gain on this machine at all (its cores also run wrk and the
        # simulator): the floor with as many.
        name = f"floor --workers {args.workers}"
        tgts.append(targets.floor(servers.floor(workers=args.workers), name))
    if not args.skip_litellm:
        venv = litellm_env.ensure()
        res.meta["litellm"] = litellm_env.version(venv)
        log(f"Starting LiteLLM {res.meta['litellm']}")
        proxy = servers.litellm(venv, sim.port)
        assert proxy.ready_after is not None
        res.add("startup", "LiteLLM", proxy.ready_after)
        time.sleep(2.0)
        res.add("rss_idle", "LiteLLM", proxy.rss_bytes())
        tgts.append(targets.litellm(proxy))
    for target in tgts:
        if target.gateway:
            res.add("rss_start", target.name, target.server.rss_bytes())
    log("Warming up")
    for target in tgts:
        warm_up(target)
    log("Non-streaming throughput (c=16) and latency (c=1), with wrk")
    throughput(tgts, args, res, tmp)
    log("Streaming: time to first byte, chunks per second")
    streaming(tgts, args, res)
    log(f"{args.held} paced streams at once")
    held(tgts, args, res)
    log(f"Sustained load: the highest rate with p99 under {SUSTAINED_P99 * 1e3:.0f} ms")
    sustained(tgts, args, res)
    for target in tgts:
        if target.name == "LiteLLM":
            res.add("rss_after", "LiteLLM", target.server.rss_bytes())
            res.meta["litellm_requests"] = target.requests
    for target in tgts:
        if target.name != "direct":  # the simulator: the gateways still need it
            servers.stop(target.server)
    log(f"Memory: a fresh gateway, idle and after {args.memory_requests:,} requests")
    memory(servers, config, gateways, res, args.memory_requests, args.memory_runs)
    log("Startup")
    startup(servers, config, gateways, res, args.startup_runs)
    log("Import time")
    import_costs(gateways, res, args.import_runs, servers.pycache)


ONLY = ("held", "workers", "memory", "startup", "import")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=5, help="wrk run at c=16 (default 5)")
    parser.add_argument("--latency-seconds", type=float, default=3, help="wrk run at c=1")
    parser.add_argument("--ttfb-count", type=int, default=100, help="short streams per round")
    parser.add_argument("--streams", type=int, default=3, help="2,000-chunk streams per round")
    parser.add_argument("--workers", type=int, default=2, help="a gateway with N workers too")
    parser.add_argument("--held", type=int, default=512, help="paced streams held at once")
    parser.add_argument("--held-words", type=int, default=50, help="chunks of each held stream")
    parser.add_argument("--rate-seconds", type=float, default=3, help="each sustained-load step")
    parser.add_argument("--rate-bisections", type=int, default=3)
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--memory-runs", type=int, default=1, help="fresh gateways for idle RSS")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--import-runs", type=int, default=5)
    parser.add_argument("--skip-litellm", action="store_true", help="no LiteLLM column")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also bench cherry_nb at this ref")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also bench the cherry_nb package in DIR (e.g. with a proposed patch)",
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "last-run.json", help="raw results file"
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(),
        metavar="PARTS",
        help=f"only these parts, comma-separated, of: {', '.join(ONLY)}",
    )
    args = parser.parse_args(argv)
    if args.only - set(ONLY):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(args.only - set(ONLY)))}")
    if args.rounds < 1 or args.seconds < 1:
        parser.error("--rounds and --seconds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.only or "workers" in args.only:  # the other parts need no wrk
        wrk.find_wrk()
    res = Results()
    res.meta.update(
        started=time.strftime("%Y-%m-%d %H:%M"),
        argv=sys.argv[1:],
        cpus=os.cpu_count(),
        load_before=round(os.getloadavg()[0], 2),
    )
    servers = Servers()
    tmp = Path(tempfile.mkdtemp(prefix="cherry-bench-run-"))
    began = time.monotonic()
    try:
        run(args, servers, res, tmp)
    finally:
        servers.close()
        shutil.rmtree(tmp, ignore_errors=True)
    res.meta["minutes"] = round((time.monotonic() - began) / 60, 1)
    res.meta["load_after"] = round(os.getloadavg()[0], 2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res.to_json(), indent=2))
    print(markdown(res))
    log(f"Done in {res.meta['minutes']} min; raw results in {args.json}; logs in {servers.workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
