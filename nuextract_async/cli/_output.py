"""What the commands print: human text by default, JSON lines with ``--json``.

With ``--json`` stdout carries only JSON objects, one per line; notes,
progress and errors go to stderr.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from .. import BulkProgress, ProjectResponse, to_wire

__all__ = ["Output", "ProgressBar", "project_json"]


def project_json(project: ProjectResponse) -> dict[str, Any]:
    """A project in its wire shape (camelCase keys, unknown keys kept)."""
    return to_wire(project)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _yes_no(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


def _template_summary(template: Mapping[str, Any]) -> str:
    keys = list(template)
    shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
    return f"{len(keys)} field{'s' * (len(keys) != 1)}: {shown}" if keys else "empty"


def _settings_lines(project: ProjectResponse) -> list[tuple[str, str]]:
    settings = project.settings
    tokens = settings.max_output_tokens
    rows = [
        ("temperature", str(settings.temperature)),
        ("rasterization DPI", str(settings.rasterization_dpi)),
        ("max output tokens", f"{tokens} (no limit)" if tokens == 0 else str(tokens)),
        ("degraded mode", settings.degraded_mode),
        ("smart example tokens", str(settings.max_tokens_smart_example)),
    ]
    rows.extend(
        (key, json.dumps(value)) for key, value in settings.extra_fields.items()
    )
    return rows


class Output:
    """Prints results on stdout and notes on stderr, as text or JSON lines."""

    def __init__(
        self,
        *,
        as_json: bool,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.as_json = as_json
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    def line(self, text: str = "") -> None:
        """A line of the result (stdout)."""
        print(text, file=self.stdout, flush=True)

    def json(self, value: Any) -> None:
        """One JSON object on one line of stdout."""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """A remark for a person (stderr); silent with ``--json``."""
        if not self.as_json:
            print(text, file=self.stderr, flush=True)

    def project(self, project: ProjectResponse) -> None:
        """One project: all its fields."""
        if self.as_json:
            self.json(project_json(project))
            return
        owner = project.owner_user
        if project.owner_organization:
            owner += f", organization {project.owner_organization}"
        rows = [
            ("id", project.id),
            ("description", project.description or "(none)"),
            ("owner", owner),
            (
                "state",
                _yes_no(project.lock_state, "locked", "unlocked")
                + ", "
                + _yes_no(project.shared, "shared (reference)", "not shared"),
            ),
            ("created", _when(project.created_at)),
            ("updated", _when(project.updated_at)),
            ("template", _template_summary(project.template)),
        ]
        rows.extend((k, json.dumps(v)) for k, v in project.extra_fields.items())
        self.line(project.name)
        self._rows(rows)
        self.line("  settings")
        self._rows(_settings_lines(project), indent=4)

    def projects(self, projects: Iterable[ProjectResponse]) -> None:
        """A list of projects: a table, or one JSON object per line."""
        projects = list(projects)
        if self.as_json:
            for project in projects:
                self.json(project_json(project))
            return
        if not projects:
            self.note("no projects")
            return
        width = max(len(p.id) for p in projects)
        self.line(f"{'ID':<{width}}  STATE   ORGANIZATION  NAME")
        for p in projects:
            state = ("L" if p.lock_state else "-") + ("S" if p.shared else "-")
            organization = p.owner_organization or "-"
            self.line(f"{p.id:<{width}}  {state:<6}  {organization:<12}  {p.name}")

    def settings(self, project: ProjectResponse) -> None:
        """The settings of a project."""
        if self.as_json:
            self.json(to_wire(project.settings))
        else:
            self._rows(_settings_lines(project))

    def template(self, project: ProjectResponse) -> None:
        """The template of a project, as JSON (indented for a person)."""
        if self.as_json:
            self.json(project.template)
        else:
            self.line(json.dumps(project.template, indent=2, ensure_ascii=False))

    def done(self, operation: str, project_id: str, past: str) -> None:
        """An operation without an answer body went through."""
        if self.as_json:
            self.json({"ok": True, "operation": operation, "project_id": project_id})
        else:
            self.line(f"{past} {project_id}")

    def _rows(self, rows: list[tuple[str, str]], indent: int = 2) -> None:
        width = max(len(key) for key, _ in rows)
        for key, value in rows:
            self.line(f"{' ' * indent}{key:<{width}}  {value}")


class ProgressBar:
    """A one-line progress bar redrawn on a terminal, at most ten times a second."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self._drawn_at = 0.0
        self._visible = False

    def update(self, progress: BulkProgress, *, force: bool = False) -> None:
        """Redraw with ``progress``, unless it was redrawn a moment ago."""
        now = time.monotonic()
        if not force and now - self._drawn_at < 0.1:
            return
        self._drawn_at = now
        columns = shutil.get_terminal_size((80, 24)).columns
        counts = f" {progress.done}"
        if progress.total is not None:
            counts += f"/{progress.total}"
        counts += f"  ok {progress.succeeded}  failed {progress.failed}"
        counts += f"  {progress.rate:,.0f}/s"
        eta = self._eta(progress)
        if eta:
            counts += f"  eta {eta}"
        bar = ""
        room = columns - len(self.label) - len(counts) - 4
        if progress.total and room >= 10:
            size = min(room, 40)
            filled = size * progress.done // progress.total
            bar = " [" + "#" * filled + "." * (size - filled) + "]"
        self.stream.write(f"\r{self.label}{bar}{counts}"[:columns] + "\x1b[K")
        self.stream.flush()
        self._visible = True

    def clear(self) -> None:
        """Erase the bar, so other text can be written on that line."""
        if self._visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._visible = False
            self._drawn_at = 0.0

    @staticmethod
    def _eta(progress: BulkProgress) -> str:
        if not progress.total or not progress.rate or progress.done < 1:
            return ""
        seconds = (progress.total - progress.done) / progress.rate
        return f"{seconds:.0f}s" if seconds >= 1 else ""
