"""The ``nuextract`` command, run as a subprocess: output, summaries, exit statuses."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nuextract_async import BulkProgress
from nuextract_async.cli import ExitStatus
from nuextract_async.cli._output import ProgressBar
from nuextract_async.emulator import Faults, RunningEmulator, run_emulator_in_thread

TEMPLATE = {"orderId": "verbatim-string", "items": [{"quantity": "number"}]}


class Result:
    """What one run of the command left behind."""

    def __init__(self, completed: subprocess.CompletedProcess[str]) -> None:
        self.status = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    def error_line(self) -> str:
        """The one line the command wrote on stderr."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("nuextract: error: "), lines[0]
        return lines[0]


def nuextract(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
    """Run ``python -m nuextract_async.cli`` with ``args``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUEXTRACT_API_KEY", "NUMIND_API_KEY", "NUEXTRACT_BASE_URL")
    }
    completed = subprocess.run(
        [sys.executable, "-m", "nuextract_async.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean | (env or {}),
        timeout=120,
        check=False,
    )
    result = Result(completed)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator_in_thread() as emu:
        yield emu


@pytest.fixture
def api(emulator: RunningEmulator) -> tuple[str, ...]:
    """Options that point the command at the test's emulator as user-1."""
    return ("--base-url", emulator.base_url, "--api-key", "test-token")


@pytest.fixture
def mine(emulator: RunningEmulator) -> str:
    return emulator.store.add_project(
        owner_user="user-1", name="Orders", template=TEMPLATE
    )["id"]


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_help_documents_every_exit_status() -> None:
    result = nuextract("--help")

    assert result.status == 0
    for status in ExitStatus:
        assert f"\n  {status.value:<4} " in result.stdout


def test_json_bulk_duplicate_prints_one_line_per_copy_then_a_summary() -> None:
    result = nuextract(
        "--emulator",
        "--json",
        "bulk-duplicate",
        "--copies",
        "200",
        "--concurrency",
        "32",
    )

    assert result.status == 0, result.stderr
    *outcomes, summary = result.json_lines()
    assert len(outcomes) == 200
    assert {line["type"] for line in outcomes} == {"outcome"}
    assert sorted(line["index"] for line in outcomes) == list(range(200))
    assert all(line["ok"] and line["result"]["id"] for line in outcomes)
    assert len({line["result"]["id"] for line in outcomes}) == 200
    assert summary["type"] == "summary"
    assert summary["requested"] == summary["succeeded"] == 200
    assert summary["failed"] == summary["may_have_been_applied"] == 0
    assert result.stderr == ""


def test_human_bulk_duplicate_ends_with_a_summary() -> None:
    result = nuextract("--emulator", "bulk-duplicate", "--copies", "50")

    assert result.status == 0
    assert "bulk-duplicate: 50 of 50 duplicated, 0 failed, 0 may have been" in (
        result.stdout
    )
    assert "per second" in result.stdout
    assert "\r" not in result.stderr  # no progress bar when stderr is a file


def test_global_options_after_the_command(api: tuple[str, ...], mine: str) -> None:
    result = nuextract("bulk-get", mine, mine, *api, "--json", "--concurrency", "2")

    assert result.status == 0
    assert [line["type"] for line in result.json_lines()] == ["outcome"] * 2 + [
        "summary"
    ]


def test_some_items_failed(api: tuple[str, ...], mine: str) -> None:
    result = nuextract(
        *api, "--json", "bulk-duplicate", mine, "no-such-id", "--copies", "2"
    )

    assert result.status == ExitStatus.ITEMS_FAILED
    *outcomes, summary = result.json_lines()
    failed = [line for line in outcomes if not line["ok"]]
    assert len(outcomes) == 4
    assert {line["project_id"] for line in failed} == {"no-such-id"}
    assert {line["error"]["status"] for line in failed} == {404}
    assert summary["succeeded"] == summary["failed"] == 2
    assert "2 of 4 items failed" in result.error_line()


def test_human_bulk_failures_are_listed_on_stderr(
    api: tuple[str, ...], mine: str
) -> None:
    result = nuextract(*api, "bulk-lock", mine, "gone-1", "gone-2")

    assert result.status == ExitStatus.ITEMS_FAILED
    assert "bulk-lock: 1 of 3 locked, 2 failed" in result.stdout
    failures = [line for line in result.stderr.splitlines() if "(gone-" in line]
    assert len(failures) == 2
    assert all("404" in line for line in failures)


def test_wrong_api_key(emulator: RunningEmulator, mine: str) -> None:
    listing = nuextract("--emulator", "--api-key", "wrong", "projects", "list")
    bulk = nuextract(
        *("--base-url", emulator.base_url, "--api-key", "wrong", "--json"),
        *("bulk-duplicate", mine, "--copies", "100", "--concurrency", "4"),
    )

    assert listing.status == bulk.status == ExitStatus.AUTHENTICATION
    assert "401" in listing.error_line()
    assert "401" in bulk.error_line()
    # The run stops at the first 401 instead of failing every item.
    summary = bulk.json_lines()[-1]
    assert summary["type"] == "summary"
    assert summary["not_run"] > 0


def test_not_found(api: tuple[str, ...]) -> None:
    result = nuextract(*api, "projects", "get", "no-such-project")

    assert result.status == ExitStatus.NOT_FOUND
    assert "404" in result.error_line()


def test_locked(api: tuple[str, ...], emulator: RunningEmulator) -> None:
    locked = emulator.store.add_project(owner_user="user-1", locked=True)["id"]

    deleted = nuextract(*api, "projects", "delete", locked)
    renamed = nuextract(*api, "projects", "update", locked, "--name", "New")

    assert deleted.status == renamed.status == ExitStatus.LOCKED
    assert "locked" in deleted.error_line()
    assert emulator.store.get(locked) is not None


def test_permission_denied(emulator: RunningEmulator, mine: str) -> None:
    result = nuextract(
        "--base-url",
        emulator.base_url,
        "--api-key",
        "other-token",
        "projects",
        "get",
        mine,
    )

    assert result.status == ExitStatus.PERMISSION
    assert "403" in result.error_line()


def test_connection_refused(closed_port_url: str) -> None:
    single = nuextract(
        "--base-url", closed_port_url, "--api-key", "k", "projects", "list"
    )
    bulk = nuextract(
        *("--base-url", closed_port_url, "--api-key", "k", "--json"),
        *("bulk-duplicate", "a", "b", "c", "--concurrency", "1"),
    )

    assert single.status == bulk.status == ExitStatus.CONNECTION
    assert "could not connect" in single.error_line()
    assert "could not connect" in bulk.error_line()
    assert bulk.json_lines()[-1]["not_run"] == 2


def test_no_api_key() -> None:
    result = nuextract("projects", "list")

    assert result.status == ExitStatus.CONFIGURATION
    assert "--api-key" in result.error_line()


def test_bad_template_file(api: tuple[str, ...], tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text('{"orderId": "verbatim-string",}')
    a_list = tmp_path / "list.json"
    a_list.write_text("[1, 2]")

    missing = nuextract(*api, "projects", "create", "--name", "X", "--template", "nope")
    broken = nuextract(
        *api, "projects", "create", "--name", "X", "--template", str(not_json)
    )
    listed = nuextract(
        *api, "projects", "create", "--name", "X", "--template", str(a_list)
    )

    assert missing.status == ExitStatus.UNREADABLE_INPUT
    assert "cannot read template nope" in missing.error_line()
    assert broken.status == listed.status == ExitStatus.INVALID_INPUT
    assert "line 1, column 31" in broken.error_line()
    assert "must be a JSON object" in listed.error_line()


def test_invalid_json_on_stdin(api: tuple[str, ...], mine: str) -> None:
    template = nuextract(*api, "projects", "template", mine, "-", stdin="{oops")
    body = nuextract(*api, "projects", "create", "--body", "-", stdin="")

    assert template.status == body.status == ExitStatus.INVALID_INPUT
    assert "template from stdin is not valid JSON" in template.error_line()
    assert "from stdin is not valid JSON" in body.error_line()


def test_a_body_that_does_not_fit(api: tuple[str, ...]) -> None:
    result = nuextract(
        *api,
        *("projects", "create", "--body", "-"),
        stdin='{"name": 3, "description": "", "template": {}}',
    )

    assert result.status == ExitStatus.INVALID_INPUT
    assert "name" in result.error_line()


@pytest.mark.parametrize(
    "args",
    [
        ("--emulator", "--base-url", "http://127.0.0.1:1", "projects", "list"),
        ("--api-key", "k", "bulk-duplicate"),
        ("--emulator", "bulk-duplicate", "--copies", "0"),
        ("--emulator-faults", "rate_503=0.1", "projects", "list"),
        ("projects", "create", "--body", "-", "--template", "-"),
    ],
)
def test_usage_errors(args: tuple[str, ...]) -> None:
    result = nuextract(*args)

    assert result.status == ExitStatus.USAGE
    assert result.stderr.strip()


def test_project_commands_end_to_end(
    api: tuple[str, ...], emulator: RunningEmulator, tmp_path: Path
) -> None:
    template_file = tmp_path / "template.json"
    template_file.write_text(json.dumps(TEMPLATE))

    def lines(*args: str, stdin: str = "") -> list[Any]:
        result = nuextract(*api, "--json", "projects", *args, stdin=stdin)
        assert result.status == 0, result.stderr
        return result.json_lines()

    def run(*args: str, stdin: str = "") -> Any:
        (line,) = lines(*args, stdin=stdin)
        return line

    created = run("create", "--name", "Invoices", "--template", str(template_file))
    pid = created["id"]
    assert created["template"] == TEMPLATE
    assert created["lockState"] is False

    assert run("get", pid)["name"] == "Invoices"
    assert run("update", pid, "--description", "Q4")["description"] == "Q4"
    settings = run("settings", pid, "--rasterization-dpi", "200")
    assert settings["rasterizationDPI"] == 200
    assert run("settings", pid) == settings
    new_template = {"total": "number"}
    assert run("template", pid, "-", stdin=json.dumps(new_template)) == new_template
    assert run("template", pid) == new_template
    assert run("reset-settings", pid)["rasterizationDPI"] == 115
    copy = run("duplicate", pid, "--organization", "org-1")
    assert copy["ownerOrganization"] == "org-1"
    assert copy["name"] == "Invoices"
    assert run("lock", pid) == {"ok": True, "operation": "lock", "project_id": pid}
    assert emulator.store.get(pid)["lockState"] is True
    run("unlock", pid)
    listed = lines("list", "--organization", "org-1")
    assert copy["id"] in [p["id"] for p in listed]
    run("delete", pid)
    assert emulator.store.get(pid) is None


def test_human_project_output(api: tuple[str, ...], mine: str) -> None:
    shown = nuextract(*api, "projects", "get", mine)
    listed = nuextract(*api, "projects", "list")

    assert shown.status == listed.status == 0
    assert shown.stdout.splitlines()[0] == "Orders"
    assert re.search(rf"^  id +{mine}$", shown.stdout, re.MULTILINE)
    assert re.search(r"^    rasterization DPI +115$", shown.stdout, re.MULTILINE)
    assert listed.stdout.startswith("ID ")
    assert any(line.startswith(mine) for line in listed.stdout.splitlines())


def test_ids_from_a_file_and_from_stdin(
    api: tuple[str, ...], emulator: RunningEmulator, tmp_path: Path
) -> None:
    ids = [emulator.store.add_project(owner_user="user-1")["id"] for _ in range(5)]
    id_file = tmp_path / "ids.txt"
    id_file.write_text("# to lock\n" + "\n".join(ids[:3]) + "\n\n")

    from_file = nuextract(*api, "bulk-lock", "--from-file", str(id_file))
    from_stdin = nuextract(
        *api, "bulk-delete", "--from-file", "-", stdin="\n".join(ids[3:])
    )

    assert from_file.status == from_stdin.status == 0
    assert all(emulator.store.get(i)["lockState"] for i in ids[:3])
    assert all(emulator.store.get(i) is None for i in ids[3:])
    assert "bulk-delete: 2 of 2 deleted" in from_stdin.stdout


def test_an_ids_file_with_a_byte_order_mark_and_crlf_lines(
    api: tuple[str, ...], emulator: RunningEmulator, tmp_path: Path
) -> None:
    ids = [emulator.store.add_project(owner_user="user-1")["id"] for _ in range(2)]
    id_file = tmp_path / "ids.txt"
    id_file.write_bytes(("\ufeff" + "\r\n".join(ids) + "\r\n").encode())

    locked = nuextract(*api, "bulk-lock", "--from-file", str(id_file))

    assert locked.status == 0, locked.stderr
    assert all(emulator.store.get(i)["lockState"] for i in ids)


def test_emulator_faults_are_accounted_for_in_the_summary() -> None:
    result = nuextract(
        *("--emulator", "--json", "--timeout", "5"),
        *("--emulator-faults", "drop_after=0.2,rate_503=0.2,seed=3"),
        *("bulk-duplicate", "--copies", "100"),
    )

    *outcomes, summary = result.json_lines()
    maybe = [line for line in outcomes if line["may_have_been_applied"]]
    assert len(outcomes) == summary["requested"] == 100
    assert summary["succeeded"] + summary["failed"] == 100
    assert summary["may_have_been_applied"] == len(maybe) > 0
    assert result.status == ExitStatus.ITEMS_FAILED


def test_progress_bar_draws_counts_and_clears() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, "bulk-lock")
    progress = BulkProgress(
        total=200,
        done=50,
        succeeded=48,
        failed=2,
        may_have_been_applied=0,
        in_flight=8,
        elapsed=2.0,
    )

    bar.update(progress, force=True)
    bar.update(progress)  # within a tenth of a second: not redrawn
    bar.clear()

    drawn = stream.getvalue()
    assert drawn.count("\rbulk-lock") == 1
    assert "50/200" in drawn
    assert "failed 2" in drawn
    assert "25/s" in drawn
    assert drawn.endswith("\r\x1b[K")


def test_an_interrupted_bulk_run_counts_what_it_may_have_made(
    api: tuple[str, ...], emulator: RunningEmulator
) -> None:
    source = emulator.store.add_project(owner_user="user-1", template=TEMPLATE)
    emulator.set_faults(Faults(latency=0.3))
    before = emulator.stats.requests["duplicate"]  # the emulator is shared
    try:
        run = ["bulk-duplicate", source["id"], "--copies", "40", "--concurrency", "4"]
        command = subprocess.Popen(
            [sys.executable, "-m", "nuextract_async.cli", *api, "--json", *run],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while emulator.stats.requests["duplicate"] < before + 4:  # four under way
            time.sleep(0.02)
        command.send_signal(signal.SIGINT)
        stdout, stderr = command.communicate(timeout=60)
        time.sleep(0.5)  # the cut-off requests end on the server's side too
    finally:
        emulator.set_faults(Faults())

    made = emulator.stats.duplicated.get(source["id"], 0)
    lines = [json.loads(line) for line in stdout.splitlines()]
    summary = lines[-1]
    assert command.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert summary["type"] == "summary"
    assert summary["interrupted"]
    assert len(lines) - 1 == summary["succeeded"] + summary["failed"]
    assert made > 0, "the interrupt came while copies were under way"
    assert summary["succeeded"] <= made
    assert made <= summary["succeeded"] + summary["may_have_been_applied"]
    assert summary["not_run"] == 40 - summary["succeeded"] - summary["failed"]


def test_an_unknown_emulator_fault_names_the_known_ones() -> None:
    result = nuextract("--emulator", "--emulator-faults", "bogus=1", "projects", "list")

    assert result.status == ExitStatus.USAGE
    assert "unknown fault 'bogus'" in result.stderr
    assert "rate_503" in result.stderr
