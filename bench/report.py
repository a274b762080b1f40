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
        order = ["direct", "cherry_nb"]
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


def _ratio(metric: str, base: str) -> Value:
    def value(res: Results, target: str) -> float | None:
        v, d = res.median(metric, target), res.median(base, "direct")
        return None if v is None or not d else v / d

    return value


def _growth(res: Results, target: str) -> float | None:
    idle, after = res.median("rss_idle", target), res.median("rss_after", target)
    return None if idle is None or after is None else (after - idle) / MB


ROWS: list[tuple[str, Value, str]] = [
    ("Non-streaming throughput, c=16 (req/s)", _get("rps16"), "{:,.0f}"),
    ("… as a fraction of direct", _ratio("rps16", "rps16"), "{:.3f}"),
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
    ("RSS idle, fresh process (MB)", _get("rss_idle", 1 / MB), "{:.1f}"),
    ("RSS after 10,000 requests (MB)", _get("rss_after", 1 / MB), "{:.1f}"),
    ("RSS growth (MB)", _growth, "{:+.1f}"),
    ("Startup: spawn to first /health (s)", _get("startup"), "{:.2f}"),
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
    def check(
        label: str, measured: float | None, goal: str, ok: Callable[[float], bool], fmt: str
    ) -> str:
        verdict = "–" if measured is None else ("yes" if ok(measured) else "**no**")
        return f"| {label} | {goal} | {_cell(measured, fmt)} | {verdict} |"

    rps, lite = res.median("rps16", name), res.median("rps16", "LiteLLM")
    rss_after = res.median("rss_after", name)
    rows = [
        "| Target | Goal | cherry_nb | Met |",
        "|---|---|---|---|",
        check(
            "Added latency p50, c=1",
            _added("p50_1", "p50_1")(res, name),
            "≤ 1 ms",
            lambda v: v <= 1.0,
            "{:.2f} ms",
        ),
        check(
            "Throughput vs LiteLLM, c=16",
            None if not (rps and lite) else rps / lite,
            "≥ 15×",
            lambda v: v >= 15,
            "{:.1f}×",
        ),
        check(
            "OpenAI passthrough stream vs direct",
            _ratio("chunks:openai", "chunks:openai")(res, name),
            "≥ 0.5×",
            lambda v: v >= 0.5,
            "{:.2f}×",
        ),
        check(
            "Anthropic passthrough stream vs direct",
            _ratio("chunks:anthropic", "chunks:anthropic")(res, name),
            "≥ 0.5×",
            lambda v: v >= 0.5,
            "{:.2f}×",
        ),
        check(
            "Translated stream vs direct",
            _ratio("chunks:translated", "chunks:openai")(res, name),
            "≥ 0.25×",
            lambda v: v >= 0.25,
            "{:.2f}×",
        ),
        check(
            "RSS after 10,000 requests",
            None if rss_after is None else rss_after / MB,
            "≤ 100 MB",
            lambda v: v <= 100,
            "{:.1f} MB",
        ),
        check(
            "RSS growth over 10,000 requests",
            _growth(res, name),
            "< 10 MB",
            lambda v: v < 10,
            "{:+.1f} MB",
        ),
        check(
            "Startup to first /health",
            res.median("startup", name),
            "≤ 1.5 s",
            lambda v: v <= 1.5,
            "{:.2f} s",
        ),
    ]
    return "\n".join(rows)


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
