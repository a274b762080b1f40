"""Collected samples, and the Markdown tables made of their medians."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MB = 2**20


@dataclass
class Results:
    """Samples per (metric, target), plus notes and facts about the run."""

    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, metric: str, target: str, value: float | None) -> None:
        if value is not None:
            self.samples.setdefault(metric, {}).setdefault(target, []).append(float(value))

    def median(self, metric: str, target: str) -> float | None:
        values = self.samples.get(metric, {}).get(target)
        return statistics.median(values) if values else None

    def last(self, metric: str, target: str) -> float:
        return self.samples[metric][target][-1]

    def total(self, metric: str, target: str) -> float:
        return sum(self.samples.get(metric, {}).get(target, []))

    def targets(self) -> list[str]:
        seen: dict[str, None] = {}
        for per_target in self.samples.values():
            seen.update(dict.fromkeys(per_target))
        order = ["floor", "relay floor", "direct", "cherry_nb"]
        rest = sorted((t for t in seen if t not in order and t != "LiteLLM"), key=_column)
        return [t for t in order if t in seen] + rest + (["LiteLLM"] if "LiteLLM" in seen else [])

    def to_json(self) -> dict[str, Any]:
        return {"samples": self.samples, "notes": self.notes, "meta": self.meta}


Value = Callable[[Results, str], float | None]


def _column(name: str) -> tuple[int, str]:
    """Baselines (cherry_nb@REF) before variants (cherry_nb+NAME)."""
    return (0 if "@" in name else 1, name)


def _get(metric: str, scale: float = 1.0) -> Value:
    def value(res: Results, target: str) -> float | None:
        v = res.median(metric, target)
        return None if v is None else v * scale

    return value


def _added(metric: str, base: str, scale: float = 1e3) -> Value:
    """The target's median minus direct's (`base` metric), e.g. added latency."""

    def value(res: Results, target: str) -> float | None:
        v, d = res.median(metric, target), res.median(base, "direct")
        if target == "direct" or v is None or d is None:
            return None
        return (v - d) * scale

    return value


def _ratio(metric: str, base: str, of: str = "direct") -> Value:
    """The target's median as a fraction of `of`'s (`base` metric)."""

    def value(res: Results, target: str) -> float | None:
        v, d = res.median(metric, target), res.median(base, of)
        return None if v is None or not d else v / d

    return value


def _growth(res: Results, target: str, since: str = "rss_warm") -> float | None:
    """RSS growth over the measured requests, from after the warm-up (what requests leave
    behind) or, with `since="rss_idle"`, from the fresh process."""
    before, after = res.median(since, target), res.median("rss_after", target)
    return None if before is None or after is None else (after - before) / MB


def _growth_from_idle(res: Results, target: str) -> float | None:
    return _growth(res, target, "rss_idle")


ROWS: list[tuple[str, Value, str]] = [
    ("Non-streaming throughput, c=16 (req/s)", _get("rps16"), "{:,.0f}"),
    ("… as a fraction of direct", _ratio("rps16", "rps16"), "{:.3f}"),
    ("… as a fraction of the floor", _ratio("rps16", "rps16", "floor"), "{:.3f}"),
    ("Server CPU per request at c=16 (µs)", _get("cpu_us"), "{:,.0f}"),
    ("Latency p50, c=1 (ms)", _get("p50_1", 1e3), "{:.2f}"),
    ("Added latency p50, c=1 (ms)", _added("p50_1", "p50_1"), "{:.2f}"),
    ("Latency p99, c=1 (ms)", _get("p99_1", 1e3), "{:.2f}"),
    ("Added latency p99, c=1 (ms)", _added("p99_1", "p99_1"), "{:.2f}"),
    ("Stream time to first byte p50, OpenAI (ms)", _get("ttfb:openai", 1e3), "{:.2f}"),
    (
        "Added time to first byte, OpenAI passthrough (ms)",
        _added("ttfb:openai", "ttfb:openai"),
        "{:.2f}",
    ),
    (
        "Added time to first byte, Anthropic passthrough (ms)",
        _added("ttfb:anthropic", "ttfb:anthropic"),
        "{:.2f}",
    ),
    (
        "Added time to first byte, Anthropic → OpenAI translated (ms)",
        _added("ttfb:translated", "ttfb:openai"),
        "{:.2f}",
    ),
    (
        "Added time to first byte, OpenAI → Anthropic translated (ms)",
        _added("ttfb:openai_to_anthropic", "ttfb:anthropic"),
        "{:.2f}",
    ),
    ("2,000-chunk stream, OpenAI passthrough (chunks/s)", _get("chunks:openai"), "{:,.0f}"),
    ("… as a fraction of direct", _ratio("chunks:openai", "chunks:openai"), "{:.2f}"),
    ("2,000-chunk stream, Anthropic passthrough (chunks/s)", _get("chunks:anthropic"), "{:,.0f}"),
    ("… as a fraction of direct", _ratio("chunks:anthropic", "chunks:anthropic"), "{:.2f}"),
    (
        "2,000-chunk stream, Anthropic client → OpenAI upstream (chunks/s)",
        _get("chunks:translated"),
        "{:,.0f}",
    ),
    ("… as a fraction of direct (OpenAI)", _ratio("chunks:translated", "chunks:openai"), "{:.2f}"),
    (
        "2,000-chunk stream, OpenAI client → Anthropic upstream (chunks/s)",
        _get("chunks:openai_to_anthropic"),
        "{:,.0f}",
    ),
    (
        "… as a fraction of direct (Anthropic)",
        _ratio("chunks:openai_to_anthropic", "chunks:anthropic"),
        "{:.2f}",
    ),
    ("512 paced streams at once: longest gap (ms)", _get("held_gap_max", 1e3), "{:.0f}"),
    ("… p99 of each stream's longest gap (ms)", _get("held_gap_p99", 1e3), "{:.0f}"),
    ("… last stream's first byte (ms)", _get("held_first_max", 1e3), "{:.0f}"),
    ("… streams cut short", _get("held_incomplete"), "{:.0f}"),
    ("Sustained rate with p99 < 20 ms, open loop (req/s)", _get("sustained"), "{:,.0f}"),
    ("RSS idle, fresh process (MB)", _get("rss_idle", 1 / MB), "{:.1f}"),
    ("RSS after a warm-up of 400 requests (MB)", _get("rss_warm", 1 / MB), "{:.1f}"),
    ("RSS after 10,000 more requests (MB)", _get("rss_after", 1 / MB), "{:.1f}"),
    ("RSS growth over the 10,000 (MB)", _growth, "{:+.1f}"),
    ("RSS growth from the fresh process (MB)", _growth_from_idle, "{:+.1f}"),
    ("Startup: spawn to first /health (s)", _get("startup"), "{:.2f}"),
    ("… its CPU time until then (s)", _get("startup_cpu"), "{:.2f}"),
    ("`import cherry_nb` (ms)", _get("import", 1e3), "{:.1f}"),
    ("`%load_ext cherry_nb` (ms)", _get("load_ext", 1e3), "{:.1f}"),
]


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def results_table(res: Results) -> str:
    names = res.targets()
    lines = ["| Measure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, value, fmt in ROWS:
        cells = [_cell(value(res, name), fmt) for name in names]
        if any(c != "–" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(res: Results, name: str = "cherry_nb") -> str:
    """Issue 15's targets, each with its goal and whether this run met it."""

    def check(
        label: str,
        measured: float | None,
        goal: str,
        ok: Callable[[float], bool] | None,
        fmt: str,
    ) -> str:
        """A row; `ok` None for a figure the issue asks to report, not to reach."""
        if measured is None or ok is None:
            verdict = "–"
        else:
            verdict = "yes" if ok(measured) else "**no**"
        return f"| {label} | {goal} | {_cell(measured, fmt)} | {verdict} |"

    def per(metric: str, other: str) -> float | None:
        return _share(res, metric, name, other)

    multi = next((t for t in res.targets() if t.startswith(f"{name} --workers")), None)
    floors = next((t for t in res.targets() if t.startswith("floor --workers")), None)
    ttfb = [
        ("OpenAI passthrough", "ttfb:openai", "ttfb:openai"),
        ("Anthropic passthrough", "ttfb:anthropic", "ttfb:anthropic"),
        ("Anthropic → OpenAI", "ttfb:translated", "ttfb:openai"),
        ("OpenAI → Anthropic", "ttfb:openai_to_anthropic", "ttfb:anthropic"),
    ]
    streams = [
        ("OpenAI passthrough", "chunks:openai", "chunks:openai", 0.95),
        ("Anthropic passthrough", "chunks:anthropic", "chunks:anthropic", 0.95),
        ("Anthropic client → OpenAI upstream", "chunks:translated", "chunks:openai", 0.5),
        (
            "OpenAI client → Anthropic upstream",
            "chunks:openai_to_anthropic",
            "chunks:anthropic",
            0.5,
        ),
    ]
    rss_idle = res.median("rss_idle", name)
    rate, lite_rate = res.median("sustained", name), res.median("sustained", "LiteLLM")
    gap = res.median("held_gap_max", name)
    rows = [
        "| Target | Goal | cherry_nb | Met |",
        "|---|---|---|---|",
        check(
            "Throughput c=16 vs the floor",
            per("rps16", "floor"),
            "≥ 0.45×",
            _at_least(0.45),
            "{:.2f}×",
        ),
        check(
            "Throughput c=16 vs LiteLLM", per("rps16", "LiteLLM"), "≥ 30×", _at_least(30), "{:.1f}×"
        ),
        check(
            "Added latency p50, c=1",
            _added("p50_1", "p50_1")(res, name),
            "≤ 0.5 ms",
            lambda v: v <= 0.5,
            "{:.2f} ms",
        ),
        check(
            "Added latency p99, c=1",
            _added("p99_1", "p99_1")(res, name),
            "≤ 1.5 ms",
            lambda v: v <= 1.5,
            "{:.2f} ms",
        ),
    ]
    for label, metric, base, goal in streams:
        rows.append(
            check(
                f"Stream {label} vs direct",
                _ratio(metric, base)(res, name),
                f"≥ {goal}×",
                _at_least(goal),
                "{:.2f}×",
            )
        )
    for label, metric, base in ttfb:
        rows.append(
            check(
                f"Added time to first byte, {label}",
                _added(metric, base)(res, name),
                "≤ 0.5 ms",
                lambda v: v <= 0.5,
                "{:.2f} ms",
            )
        )
    rows += [
        check(
            "`--workers 2` vs one worker, c=16",
            None if multi is None else _share(res, "rps16", multi, name),
            "≥ 1.6×",
            _at_least(1.6),
            "{:.2f}×",
        ),
        check(
            "… the floor's `--workers 2` vs one (the machine's ceiling)",
            None if floors is None else _share(res, "rps16", floors, "floor"),
            "(reported)",
            None,
            "{:.2f}×",
        ),
        check(
            "512 streams paced at 20 ms: longest gap",
            None if gap is None else gap * 1e3,
            "< 100 ms",
            lambda v: v < 100 and not res.median("held_incomplete", name),
            "{:.0f} ms",
        ),
        check(
            "512 streams: the last one's first byte",
            None if (first := res.median("held_first_max", name)) is None else first * 1e3,
            "(reported)",
            None,
            "{:.0f} ms",
        ),
        check("Sustained rate, p99 < 20 ms", rate, "(reported)", None, "{:,.0f} req/s"),
        check(
            "… vs LiteLLM's",
            None if not (rate and lite_rate) else rate / lite_rate,
            "(reported)",
            None,
            "{:.1f}×",
        )
        if lite_rate or not (rate and (floor := res.median("sustained_none", "LiteLLM")))
        else f"| … vs LiteLLM's | (reported) | > {rate / floor:,.0f}× (LiteLLM: none, "
        f"p99 ≥ 20 ms already at {floor:,.0f} req/s) | – |",
        check(
            "Startup to first /health",
            res.median("startup", name),
            "≤ 0.5 s",
            lambda v: v <= 0.5,
            "{:.2f} s",
        ),
        check(
            "`%load_ext cherry_nb`",
            None if (v := res.median("load_ext", name)) is None else v * 1e3,
            "≤ 150 ms",
            lambda v: v <= 150,
            "{:.0f} ms",
        ),
        check(
            "RSS idle",
            None if rss_idle is None else rss_idle / MB,
            "≤ 60 MB",
            lambda v: v <= 60,
            "{:.1f} MB",
        ),
        check(
            "RSS growth over 10,000 requests (after a warm-up of 400)",
            _growth(res, name),
            "< 5 MB",
            lambda v: v < 5,
            "{:+.1f} MB",
        ),
    ]
    return "\n".join(rows)


def _share(res: Results, metric: str, target: str, other: str) -> float | None:
    """`target`'s median of `metric` over `other`'s."""
    v, o = res.median(metric, target), res.median(metric, other)
    return None if v is None or not o else v / o


def _at_least(goal: float) -> Callable[[float], bool]:
    return lambda v: v >= goal


def markdown(res: Results) -> str:
    meta = res.meta
    parts = [
        f"Run of {meta.get('started', '?')}, {meta.get('minutes', '?')} min, "
        f"{meta.get('cpus', '?')} CPUs, 1-min load average {meta.get('load_before', '?')} before "
        f"and {meta.get('load_after', '?')} after; LiteLLM {meta.get('litellm', 'not run')}.",
        "",
        results_table(res),
        "",
        targets_table(res),
    ]
    parts.append("")
    for key, heavy in meta.items():
        kind, _, name = key.partition("_heavy:")
        if name:
            what = "import cherry_nb" if kind == "import" else "%load_ext cherry_nb"
            parts.append(f"- {name}: `{what}` loads {', '.join(heavy) or 'no heavy package'}.")
    if "litellm_requests" in meta:
        parts.append(
            f"- LiteLLM: RSS after = after the {meta['litellm_requests']:,} requests of the run."
        )
    errors = {t: res.total("errors", t) for t in res.targets() if res.total("errors", t)}
    if errors:
        parts += [
            "",
            "**Errors during the run:** " + ", ".join(f"{t}: {n:.0f}" for t, n in errors.items()),
        ]
    parts += [f"- {note}" for note in res.notes]
    return "\n".join(parts) + "\n"
