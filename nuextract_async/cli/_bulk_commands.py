"""``nuextract bulk-*``: one operation over many ids, with progress and a summary.

Human output: failures and the progress bar on stderr, the summary on
stdout. With ``--json``, stdout holds one ``{"type": "outcome", ...}``
line per item, in completion order, then one ``{"type": "summary", ...}``
line.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, Final

from .. import (
    APIConnectionError,
    APIStatusError,
    AsyncNuExtract,
    AuthenticationError,
    BulkOutcome,
    BulkProgress,
    BulkRun,
    ConfigurationError,
    NuExtractError,
    ProjectResponse,
)
from ._exits import CommandError, ExitStatus, describe
from ._inputs import read_ids
from ._output import Output, ProgressBar, project_json

__all__ = ["BULK_COMMANDS", "bulk"]

#: Failures shown one by one in human output; the rest are only counted.
SHOWN_FAILURES: Final = 10

#: Sub-command -> (client method, past tense, one-line help).
BULK_COMMANDS: dict[str, tuple[str, str, str]] = {
    "bulk-duplicate": ("duplicate_many", "duplicated", "duplicate projects in bulk"),
    "bulk-get": ("get_many", "fetched", "fetch projects in bulk"),
    "bulk-lock": ("lock_many", "locked", "lock projects in bulk"),
    "bulk-unlock": ("unlock_many", "unlocked", "unlock projects in bulk"),
    "bulk-delete": ("delete_many", "deleted", "delete projects in bulk"),
}


def outcome_json(outcome: BulkOutcome[Any]) -> dict[str, Any]:
    """One outcome as a JSON object of ``type`` ``outcome``."""
    line: dict[str, Any] = {
        "type": "outcome",
        "index": outcome.index,
        "project_id": outcome.project_id,
        "ok": outcome.ok,
        "may_have_been_applied": outcome.may_have_been_applied,
    }
    error = outcome.error
    if error is None:
        result = outcome.result
        line["result"] = (
            project_json(result) if isinstance(result, ProjectResponse) else None
        )
    else:
        status, message = describe(error)
        line["error"] = {
            "type": type(error).__name__,
            "status": error.status if isinstance(error, APIStatusError) else None,
            "exit_status": int(status),
            "message": message,
        }
    return line


def _fatal(outcome: BulkOutcome[Any], progress: BulkProgress) -> bool:
    """Whether this failure means the other items cannot succeed either."""
    error = outcome.error
    if isinstance(error, AuthenticationError | ConfigurationError):
        return True
    return (
        isinstance(error, APIConnectionError)
        and not error.request_sent
        and progress.succeeded == 0
    )


async def _ids(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> list[str]:
    ids = list(args.project_ids)
    if args.from_file is not None:
        ids.extend(read_ids(args.from_file))
    if ids or args.from_file is not None:
        return ids
    if not args.emulator:
        raise CommandError(
            ExitStatus.USAGE, "give project ids, or --from-file FILE (- for stdin)"
        )
    sample = (await client.projects.list())[0]
    out.note(f"no ids given: using the emulator's sample project {sample.name!r}")
    return [sample.id]


async def bulk(client: AsyncNuExtract, args: argparse.Namespace, out: Output) -> None:
    """Run one bulk command to the end (or to a fatal error) and summarize it."""
    method, past, _ = BULK_COMMANDS[args.command]
    ids = await _ids(client, args, out)
    options: dict[str, Any] = {"concurrency": args.concurrency}
    if method == "duplicate_many":
        options.update(copies=args.copies, organization_id=args.organization)
    bar = ProgressBar(out.stderr, args.command) if out.stderr.isatty() else None

    run: BulkRun[Any] = getattr(client.projects, method)(
        ids, on_progress=bar.update if bar else None, **options
    )
    requested = len(ids) * options.get("copies", 1)
    shown = 0
    fatal: NuExtractError | None = None
    interrupted = False
    try:
        async with run:
            if bar:
                bar.update(run.progress, force=True)
            async for outcome in run:
                if out.as_json:
                    out.json(outcome_json(outcome))
                if outcome.ok:
                    continue
                if _fatal(outcome, run.progress):
                    fatal = outcome.error  # reported once, as the error line
                    break
                if not out.as_json:
                    shown += _show_failure(out, bar, outcome, shown, client.base_url)
    except asyncio.CancelledError:
        interrupted = True
        raise
    finally:
        if bar:
            bar.clear()
        if out.as_json:  # stopped early: what was under way is listed too
            for outcome in run.unyielded:
                out.json(outcome_json(outcome))
        _summarize(out, args.command, past, run.progress, requested, interrupted)
    if fatal is not None:
        raise fatal
    if run.progress.failed:
        raise CommandError(
            ExitStatus.ITEMS_FAILED,
            f"{run.progress.failed} of {requested} items failed",
        )


def _show_failure(
    out: Output,
    bar: ProgressBar | None,
    outcome: BulkOutcome[Any],
    shown: int,
    base_url: str,
) -> int:
    if shown > SHOWN_FAILURES:
        return 0
    if bar:
        bar.clear()
    if shown == SHOWN_FAILURES:
        text = "more failures are counted in the summary (--json lists them all)"
    else:
        assert outcome.error is not None
        _, message = describe(outcome.error)
        message = message.replace(base_url, "")  # the same on every line
        text = f"item {outcome.index} ({outcome.project_id}): {message}"
    print(text, file=out.stderr, flush=True)
    return 1


def _summarize(
    out: Output,
    command: str,
    past: str,
    progress: BulkProgress,
    requested: int,
    interrupted: bool,
) -> None:
    not_run = requested - progress.done
    if out.as_json:
        out.json(
            {
                "type": "summary",
                "command": command,
                "requested": requested,
                "succeeded": progress.succeeded,
                "failed": progress.failed,
                "may_have_been_applied": progress.may_have_been_applied,
                "not_run": not_run,
                "elapsed_seconds": round(progress.elapsed, 3),
                "per_second": round(progress.rate, 1),
                "interrupted": interrupted,
            }
        )
        return
    out.line(
        f"{command}: {progress.succeeded} of {requested} {past}, "
        f"{progress.failed} failed, "
        f"{progress.may_have_been_applied} may have been applied"
        + (f", {not_run} not run" if not_run else "")
    )
    out.line(
        f"  {progress.elapsed:.2f} s, {progress.rate:,.0f} per second"
        + (" (interrupted)" if interrupted else "")
    )
    if progress.may_have_been_applied:
        out.line(
            f"  {progress.may_have_been_applied} item(s) lost their answer after "
            "being sent: the service may have applied them; they were not "
            "resent (--json lists them)"
        )
