"""Medians, spreads, ratios and targets of the runs; the table and the JSON."""

from __future__ import annotations

import statistics
from typing import Any

from ._scenarios import Metric, Scenario, Target
from .contenders import CONTENDERS

__all__ = ["render", "summarize"]

Record = dict[str, Any]
GROWTH = Metric("growth_mb", "growth MB", lambda run: 0.0, digits=1)


def _metrics(scenario: Scenario) -> tuple[Metric, ...]:
    return scenario.metrics + ((GROWTH,) if len(scenario.sizes) == 2 else ())


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _failure(run: Record) -> str | None:
    if "failure" in run:
        return str(run["failure"])
    return f"{run['errors']} of {run['count']} failed" if run["errors"] else None


def _growth(runs: list[Record]) -> list[float]:
    """Peak RSS of the big run minus the small one's, round by round."""
    by_round: dict[int, dict[int, float]] = {}
    for run in runs:
        by_round.setdefault(run["round"], {})[run["size"]] = run["maxrss_mb"]
    return [sizes[1] - sizes[0] for sizes in by_round.values() if len(sizes) == 2]


def _contender(scenario: Scenario, runs: list[Record]) -> dict[str, Any]:
    good = [run for run in runs if _failure(run) is None]
    metrics = {}
    for metric in scenario.metrics:
        values = [metric.value(run) for run in good if run["size"] == metric.size]
        if values:
            metrics[metric.key] = _spread(values)
    if len(scenario.sizes) == 2 and (growth := _growth(good)):
        metrics[GROWTH.key] = _spread(growth)
    return {
        "label": CONTENDERS[runs[0]["contender"]].label if runs else "",
        "metrics": metrics,
        "failures": [f for run in runs if (f := _failure(run)) is not None],
        "runs": runs,
    }


def _median(summary: dict[str, Any], contender: str, metric: str) -> float | None:
    found = summary["contenders"][contender]["metrics"].get(metric)
    return None if found is None else float(found["median"])


def _ratio(summary: dict[str, Any], a: str, b: str, metric: str) -> float | None:
    x, y = _median(summary, a, metric), _median(summary, b, metric)
    return None if x is None or not y else x / y


def _judge(summary: dict[str, Any], target: Target) -> dict[str, Any]:
    if target.reference is None:
        value = _median(summary, target.contender, target.metric)
    else:
        value = _ratio(summary, target.contender, target.reference, target.metric)
    met = None
    if value is not None:
        met = value >= target.limit if target.at_least else value <= target.limit
    return {"contender": target.contender, "target": target.text, "value": value} | {
        "met": met
    }


def summarize(scenario: Scenario, runs: list[Record]) -> dict[str, Any]:
    """Everything measured in ``scenario``, as the JSON report stores it."""
    summary: dict[str, Any] = {
        "title": scenario.title,
        "concurrency": scenario.concurrency,
        "latency_s": scenario.latency,
        "sizes": sorted({run["count"] for run in runs}),
        "rounds": len({run["round"] for run in runs}),
        "contenders": {
            name: _contender(scenario, [r for r in runs if r["contender"] == name])
            for name in scenario.contenders
        },
    }
    summary["ratios"] = [
        {
            "contender": a,
            "reference": b,
            "ratios": {m.key: _ratio(summary, a, b, m.key) for m in _metrics(scenario)},
        }
        for a, b in scenario.ratios
    ]
    summary["targets"] = [_judge(summary, target) for target in scenario.targets]
    return summary


def _cell(figures: dict[str, float] | None, digits: int) -> str:
    if figures is None:
        return "-"
    median, low, high = (figures[k] for k in ("median", "min", "max"))
    return f"{median:,.{digits}f} ({low:,.{digits}f}..{high:,.{digits}f})"


def _label(name: str) -> str:
    return CONTENDERS[name].label


def render(name: str, scenario: Scenario, summary: dict[str, Any]) -> str:
    """The scenario's table: medians (min..max over rounds), ratios, targets."""
    metrics = _metrics(scenario)
    sizes = " and ".join(f"{size:,}" for size in summary["sizes"])
    lines = [
        f"== {name}: {scenario.title}; {sizes} per run, "
        f"{summary['rounds']} round(s), median (min..max) =="
    ]
    rows = [["contender", *(m.label for m in metrics)]]
    for contender, found in summary["contenders"].items():
        row = [_label(contender)]
        row += [_cell(found["metrics"].get(m.key), m.digits) for m in metrics]
        if found["failures"]:
            row.append("FAILED: " + "; ".join(found["failures"])[:120])
        rows.append(row)
    columns = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    for row in rows:
        cells = [c.ljust(widths[i]) if i < columns else c for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    if summary["ratios"]:
        lines.append("ratios of medians:")
    for entry in summary["ratios"]:
        parts = [
            f"{m.label} {value:.2f}"
            for m in metrics
            if (value := entry["ratios"][m.key]) is not None
        ]
        pair = f"{_label(entry['contender'])} / {_label(entry['reference'])}"
        lines.append(f"  {pair}: {', '.join(parts) or '-'}")
    for verdict in summary["targets"]:
        met = {True: "met", False: "MISSED", None: "n/a"}[verdict["met"]]
        value = verdict["value"]
        shown = "-" if value is None else f"{value:.2f}"
        lines.append(
            f"target [{met}] {_label(verdict['contender'])}: "
            f"{verdict['target']} (is {shown})"
        )
    return "\n".join(lines)
