"""How long a sync client lives: iterators keep it open, drops and forks leak
no loop thread and no file descriptor."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuextract_async.emulator import RunningEmulator
from nuextract_sync import BulkOutcome, ClientClosedError, NuExtract, ProjectResponse


@pytest.fixture
def emulator(nuextract_emulator_thread: RunningEmulator) -> RunningEmulator:
    return nuextract_emulator_thread


@pytest.fixture
def project_id(emulator: RunningEmulator) -> str:
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        return client.projects.create("Invoices", {"total": "number"}, "").id


def _resources() -> tuple[int, int]:
    """Threads, and open descriptors other than sockets (an event loop holds an
    epoll descriptor until it closes; sockets close on the emulator's time)."""
    directory = "/proc/self/fd"
    descriptors = []
    for name in os.listdir(directory):
        try:
            descriptors.append(os.readlink(f"{directory}/{name}"))
        except FileNotFoundError:  # the directory's own descriptor, gone
            continue
    others = [d for d in descriptors if not d.startswith("socket:")]
    return threading.active_count(), len(others)


def _finish(held: list[Iterator[BulkOutcome[ProjectResponse]]], how: str) -> list[bool]:
    """Take the only reference to an iterator from ``held``, pull from it and
    let it go as a caller would."""
    outcomes = held.pop()
    if how == "exhausted":
        return [o.ok for o in outcomes]
    first = next(outcomes).ok
    if how == "closed":
        outcomes.close()  # type: ignore[attr-defined]
    del outcomes  # dropped, or closed then dropped
    return [first]


@pytest.mark.parametrize("how", ["exhausted", "closed", "dropped"])
def test_one_liner_iterator_keeps_its_client_until_it_ends(
    emulator: RunningEmulator, project_id: str, how: str
) -> None:
    before = _resources()

    client = NuExtract(api_key="test-token", base_url=emulator.base_url)
    held = [client.projects.get_many([project_id] * 3, concurrency=1)]
    del client  # as in `for o in NuExtract().projects.get_many(ids)`

    with pytest.warns(ResourceWarning, match="never closed"):
        oks = _finish(held, how)

    assert oks == [True] * (3 if how == "exhausted" else 1)
    assert _resources() == before


@pytest.mark.parametrize("used", [False, True])
def test_iterator_outlives_the_resource_it_came_from(
    emulator: RunningEmulator, project_id: str, used: bool
) -> None:
    before = _resources()
    held = [NuExtract(api_key="test-token", base_url=emulator.base_url).projects]
    if used:
        held[0].get(project_id)
    outcomes = held[0].get_many([project_id] * 3)
    held.clear()

    with pytest.warns(ResourceWarning, match="never closed"):
        assert [o.ok for o in outcomes] == [True] * 3

    assert _resources() == before


def test_client_dropped_before_any_call_cannot_start_later(
    emulator: RunningEmulator,
) -> None:
    before = _resources()
    client = NuExtract(api_key="test-token", base_url=emulator.base_url)
    runner = client._portal._main

    del client  # nothing ran, so nothing to warn about

    assert runner.closed
    with pytest.raises(ClientClosedError):
        runner.submit(lambda c: c.projects.list())
    assert _resources() == before


FORK_SCRIPT = textwrap.dedent(
    """
    import os, sys, threading
    from nuextract_sync import ClientClosedError, NuExtract

    fresh = NuExtract(api_key="test-token", base_url=sys.argv[1])
    used = NuExtract(api_key="test-token", base_url=sys.argv[1])
    used.projects.list()
    pid = os.fork()
    if pid == 0:
        for client in (fresh, used):
            try:
                client.projects.list()
            except ClientClosedError as exc:
                print("refused:", exc)
        print("child threads:", threading.active_count())
        fresh.close()
        used.close()
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    used.projects.list()
    print("parent still works")
    fresh.close()
    used.close()
    """
)


def test_client_inherited_through_fork_is_refused_without_starting_anything(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)

    # The timeout only guards against a hang; it is not a measurement.
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", str(script), emulator.base_url],
        capture_output=True,
        text=True,
        timeout=60,
    )

    refusal = "refused: this client was created before os.fork(); create one in"
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"{refusal} this process",
        f"{refusal} this process",
        "child threads: 1",
        "parent still works",
    ]
