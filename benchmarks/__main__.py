"""``python -m benchmarks``: every scenario, every contender, several rounds.

Each contender runs in a process of its own per round, against an emulator
in another process on 127.0.0.1; the order of the contenders rotates from
one round to the next. The table goes to stdout, progress to stderr, and
the same figures to a JSON file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ._emulator import Server, child_environment, serve
from ._report import render, summarize
from ._run import Job
from ._scenarios import SCENARIOS, Scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
Record = dict[str, Any]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark this client against the official SDK and raw "
        "aiohttp, on a local emulator.",
    )
    add = parser.add_argument
    add("--rounds", type=int, help="rounds per scenario (default 5; 1 with --quick)")
    add("--quick", action="store_true", help="tiny counts: checks that it all runs")
    add(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="SCENARIO",
        help=f"run this scenario only (repeatable): {', '.join(SCENARIOS)}",
    )
    add(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help="where to write the figures (default benchmarks/results/latest.json)",
    )
    return parser


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _run_job(job: Job, timeout: float) -> Record:
    command = [sys.executable, "-m", "benchmarks._run", json.dumps(asdict(job))]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=child_environment(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return asdict(job) | {"failure": f"timed out after {timeout:.0f} s"}
    try:
        result: Record = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = done.stderr.strip()[-300:]
        return asdict(job) | {"failure": f"exit {done.returncode}: {tail}"}
    return result


def _one_run(
    scenario: Scenario, contender: str, size: int, server: Server | None
) -> Record:
    job = Job(
        contender=contender,
        scenario=scenario.name,
        count=size,
        concurrency=scenario.concurrency,
        base_url=server.base_url if server else "",
        token=server.token if server else "",
        project_id=server.project_id if server else "",
    )
    return _run_job(job, scenario.timeout)


def _round(
    scenario: Scenario, number: int, sizes: Sequence[int], quick: bool
) -> list[Record]:
    """One run of every contender, in an order that rotates with ``number``.

    Each run gets a fresh emulator, so every contender meets the same empty
    server; a quick round shares one among all its runs.
    """
    shift = number % len(scenario.contenders)
    order = scenario.contenders[shift:] + scenario.contenders[:shift]
    shared = scenario.network and quick
    runs: list[Record] = []
    with serve(scenario.latency) if shared else contextlib.nullcontext() as server:
        for contender in order:
            for index, size in enumerate(sizes):
                if scenario.network and not shared:
                    with serve(scenario.latency) as fresh:
                        run = _one_run(scenario, contender, size, fresh)
                else:
                    run = _one_run(scenario, contender, size, server)
                run |= {"round": number, "size": index, "latency": scenario.latency}
                _progress(_describe(run))
                runs.append(run)
    return runs


def _describe(run: Record) -> str:
    where = f"{run['scenario']} round {run['round'] + 1} {run['contender']}"
    if "failure" in run:
        return f"{where}: FAILED {run['failure']}"
    return (
        f"{where}: {run['count']} in {run['wall_s']:.3f} s, "
        f"CPU {run['cpu_s']:.3f} s, peak RSS {run['maxrss_mb']:.1f} MB"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    if rounds < 1:
        _parser().error("--rounds must be at least 1")
    names = args.only or list(SCENARIOS)
    report: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "quick": args.quick,
        "scenarios": {},
    }
    tables = []
    for name in names:
        scenario = SCENARIOS[name]
        sizes = scenario.quick_sizes if args.quick else scenario.sizes
        runs = []
        for number in range(min(rounds, scenario.max_rounds or rounds)):
            runs += _round(scenario, number, sizes, args.quick)
        summary = summarize(scenario, runs)
        report["scenarios"][name] = summary
        tables.append(render(name, scenario, summary))
        print(tables[-1] + "\n", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    _progress(f"wrote {args.json}")
    failed = any(
        found["failures"]
        for summary in report["scenarios"].values()
        for found in summary["contenders"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
