"""``python -m benchmarks --quick`` runs every scenario and contender end to end.

Tiny counts and one round: this checks that the harness works and reports
everything, not how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks._scenarios import SCENARIOS
from benchmarks.contenders import CONTENDERS

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_prints_and_writes_every_scenario_and_contender(
    tmp_path: Path,
) -> None:
    report = tmp_path / "nested" / "figures.json"

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(report.read_text())
    assert figures["quick"] is True
    assert list(figures["scenarios"]) == list(SCENARIOS)
    for name, scenario in SCENARIOS.items():
        assert f"== {name}: " in done.stdout
        summary = figures["scenarios"][name]
        assert list(summary["contenders"]) == list(scenario.contenders)
        for contender, found in summary["contenders"].items():
            assert CONTENDERS[contender].label in done.stdout
            assert found["failures"] == []
            assert set(found["metrics"]) >= {m.key for m in scenario.metrics}
        assert len(summary["targets"]) == len(scenario.targets)
        assert all(t["met"] is not None for t in summary["targets"])
    assert "ratios of medians:" in done.stdout


def test_unknown_scenario_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "invalid choice" in done.stderr
