"""The five scenarios: who runs, how much, what is measured, and the targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SCENARIOS", "Metric", "Scenario", "Target"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Metric:
    """One figure taken from each run; ``size`` picks the run size it reads."""

    key: str
    label: str
    value: Callable[[Record], float]
    digits: int = 0
    higher_is_better: bool = False
    size: int = 0


@dataclass(frozen=True)
class Target:
    """``contender``'s median ``metric``, divided by ``reference``'s if given,
    compared with ``limit`` (``at_least`` or at most)."""

    text: str
    contender: str
    metric: str
    limit: float
    at_least: bool
    reference: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    contenders: tuple[str, ...]
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    metrics: tuple[Metric, ...]
    concurrency: int = 1
    latency: float = 0.0
    network: bool = True
    max_rounds: int | None = None
    timeout: float = 120.0
    #: (contender, reference) pairs whose medians are divided.
    ratios: tuple[tuple[str, str], ...] = ()
    targets: tuple[Target, ...] = field(default=())


def _ops_per_s(run: Record) -> float:
    return float(run["ok"] / run["wall_s"])


def _cpu_us(run: Record) -> float:
    return float(run["cpu_s"] / run["count"] * 1e6)


def _wall_us(run: Record) -> float:
    return float(run["wall_s"] / run["count"] * 1e6)


def _wall_s(run: Record) -> float:
    return float(run["wall_s"])


def _rss(run: Record) -> float:
    return float(run["maxrss_mb"])


def _times_ideal(run: Record) -> float:
    ideal = run["count"] / run["concurrency"] * run["latency"]
    return float(run["wall_s"] / ideal)


OPS = Metric("ops_per_s", "ops/s", _ops_per_s, higher_is_better=True)
CPU = Metric("cpu_us_per_op", "CPU µs/op", _cpu_us)
ASYNC_CONTENDERS = ("nuextract-bulk", "nuextract-pool", "numind-async", "aiohttp-raw")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="bulk",
            title="zero latency: duplicates at concurrency 32",
            contenders=ASYNC_CONTENDERS,
            sizes=(2000,),
            quick_sizes=(40,),
            concurrency=32,
            metrics=(OPS, CPU),
            ratios=(
                ("nuextract-bulk", "aiohttp-raw"),
                ("nuextract-bulk", "numind-async"),
                ("nuextract-pool", "aiohttp-raw"),
                ("nuextract-bulk", "nuextract-pool"),
            ),
            targets=(
                Target(
                    "ops/s >= 0.85 x raw aiohttp",
                    "nuextract-bulk",
                    "ops_per_s",
                    0.85,
                    True,
                    "aiohttp-raw",
                ),
                Target(
                    "ops/s >= 3 x numind async",
                    "nuextract-bulk",
                    "ops_per_s",
                    3.0,
                    True,
                    "numind-async",
                ),
                Target(
                    "CPU/op <= 1.2 x raw aiohttp",
                    "nuextract-bulk",
                    "cpu_us_per_op",
                    1.2,
                    False,
                    "aiohttp-raw",
                ),
            ),
        ),
        Scenario(
            name="latency",
            title="20 ms server latency: duplicates at concurrency 64",
            contenders=ASYNC_CONTENDERS,
            sizes=(1000,),
            quick_sizes=(64,),
            concurrency=64,
            latency=0.02,
            metrics=(
                Metric("wall_s", "wall s", _wall_s, digits=3),
                Metric("x_ideal", "x ideal", _times_ideal, digits=2),
                CPU,
            ),
            ratios=(
                ("nuextract-bulk", "aiohttp-raw"),
                ("nuextract-bulk", "numind-async"),
                ("nuextract-pool", "aiohttp-raw"),
            ),
            targets=(
                Target(
                    "wall <= 1.1 x raw aiohttp",
                    "nuextract-bulk",
                    "wall_s",
                    1.1,
                    False,
                    "aiohttp-raw",
                ),
            ),
        ),
        Scenario(
            name="sync",
            title="sequential gets, one at a time",
            contenders=(
                "nuextract-sync",
                "numind-sync",
                "urllib3-raw",
                "nuextract-async-seq",
            ),
            sizes=(500,),
            quick_sizes=(20,),
            metrics=(OPS, Metric("us_per_op", "wall µs/op", _wall_us), CPU),
            ratios=(
                ("nuextract-sync", "numind-sync"),
                ("nuextract-sync", "urllib3-raw"),
                ("nuextract-sync", "nuextract-async-seq"),
            ),
            targets=(
                Target(
                    "ops/s >= 1 x numind sync",
                    "nuextract-sync",
                    "ops_per_s",
                    1.0,
                    True,
                    "numind-sync",
                ),
            ),
        ),
        Scenario(
            name="memory",
            title="peak RSS of duplicates at concurrency 32",
            contenders=("nuextract-bulk", "numind-async", "aiohttp-raw"),
            sizes=(2000, 20000),
            quick_sizes=(40, 400),
            concurrency=32,
            metrics=(
                Metric("rss_small_mb", "RSS MB, small", _rss, digits=1, size=0),
                Metric("rss_big_mb", "RSS MB, 10x", _rss, digits=1, size=1),
            ),
            max_rounds=2,
            timeout=300.0,
            targets=(
                Target(
                    "growth from 2,000 to 20,000 < 20 MB",
                    "nuextract-bulk",
                    "growth_mb",
                    20.0,
                    False,
                ),
            ),
        ),
        Scenario(
            name="decode",
            title="project bodies (JSON bytes) into models, no network",
            contenders=(
                "nuextract-decode",
                "numind-decode",
                "nuextract-decode-extras",
                "numind-decode-extras",
                "json-raw",
            ),
            sizes=(10000,),
            quick_sizes=(50,),
            network=False,
            metrics=(Metric("us_per_op", "µs/body", _wall_us, digits=1),),
            ratios=(
                ("nuextract-decode", "numind-decode"),
                ("nuextract-decode-extras", "numind-decode-extras"),
                ("nuextract-decode-extras", "nuextract-decode"),
                ("nuextract-decode", "json-raw"),
            ),
            targets=(
                Target(
                    "time <= 1 x numind models",
                    "nuextract-decode",
                    "us_per_op",
                    1.0,
                    False,
                    "numind-decode",
                ),
                Target(
                    "with unknown keys, time <= 1 x numind models",
                    "nuextract-decode-extras",
                    "us_per_op",
                    1.0,
                    False,
                    "numind-decode-extras",
                ),
            ),
        ),
    )
}
