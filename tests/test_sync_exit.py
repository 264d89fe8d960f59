"""Field report C09: a sync script that never closes its client exits cleanly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nuextract_async.emulator import RunningEmulator
from nuextract_sync import NuExtract

SCRIPT = textwrap.dedent(
    """
    import sys
    from nuextract_sync import NuExtract

    client = NuExtract(api_key="test-token", base_url=sys.argv[1])
    client.projects.get(sys.argv[2])
    client.projects.get(sys.argv[2])
    print(client.projects.duplicate(sys.argv[2]).name)
    """
)


@pytest.fixture
def emulator(nuextract_emulator_thread: RunningEmulator) -> RunningEmulator:
    return nuextract_emulator_thread


@pytest.fixture
def project_id(emulator: RunningEmulator) -> str:
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        return client.projects.create("Invoices", {"total": "number"}, "").id


def _run_unclosed(
    tmp_path: Path, emulator: RunningEmulator, project_id: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "unclosed.py"
    script.write_text(SCRIPT)
    # The timeout only guards against a hang; it is not a measurement.
    return subprocess.run(
        [sys.executable, *flags, str(script), emulator.base_url, project_id],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unclosed_client_exits_cleanly_and_silently(
    tmp_path: Path, emulator: RunningEmulator, project_id: str
) -> None:
    done = _run_unclosed(tmp_path, emulator, project_id)

    assert (done.returncode, done.stdout, done.stderr) == (0, "Invoices (copy)\n", "")
    assert emulator.stats.snapshot()["duplicated"] == {project_id: 1}


@pytest.mark.parametrize("flags", [("-X", "dev"), ("-X", "dev", "-W", "always")])
def test_unclosed_client_says_to_close_it_and_nothing_else(
    tmp_path: Path, emulator: RunningEmulator, project_id: str, flags: tuple[str, ...]
) -> None:
    done = _run_unclosed(tmp_path, emulator, project_id, *flags)

    assert (done.returncode, done.stdout) == (0, "Invoices (copy)\n")
    warning, *source = done.stderr.splitlines()
    assert "ResourceWarning: NuExtract(base_url=" in warning
    assert "was never closed; use 'with' or call client.close()" in warning
    assert len(source) <= 1  # the line warnings shows under it, if any
