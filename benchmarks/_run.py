"""Run one contender once and print its measurement as one JSON line.

``python -m benchmarks._run '<job as JSON>'``. Only the timed section of the
contender counts towards wall and CPU time; peak RSS covers the process.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

__all__ = ["Job", "Timed", "main"]


@dataclass(frozen=True)
class Job:
    """What one contender process is asked to do."""

    contender: str
    scenario: str
    count: int
    concurrency: int = 1
    base_url: str = ""
    token: str = ""
    project_id: str = ""


class Timed:
    """Wall and CPU time (all threads of this process) of a ``with`` block."""

    wall = 0.0
    cpu = 0.0

    def __enter__(self) -> Timed:
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def measure(job: Job) -> dict[str, Any]:
    """Run the job's contender and return its measurement."""
    from .contenders import CONTENDERS

    timed = Timed()
    ok = CONTENDERS[job.contender].load()(job, timed)
    return {
        **asdict(job),
        "ok": ok,
        "errors": job.count - ok,
        "wall_s": timed.wall,
        "cpu_s": timed.cpu,
        # Linux reports kilobytes.
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str]) -> int:
    job = Job(**json.loads(argv[0]))
    try:
        result = measure(job)
    except Exception as exc:
        traceback.print_exc()
        result = {**asdict(job), "failure": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(result), flush=True)
    return 0 if "failure" not in result else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
