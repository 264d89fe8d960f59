"""The ``nuextract`` command line, built with argparse.

Global options are accepted before and after the sub-command, so both
``nuextract --json projects list`` and ``nuextract projects list --json``
work.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from ._bulk_commands import BULK_COMMANDS, bulk
from ._commands import PROJECT_COMMANDS
from ._exits import EXIT_TABLE

__all__ = ["build_parser"]

DEFAULT_CONCURRENCY = 16

_DESCRIPTION = """\
Manage NuExtract projects from the command line, one at a time or in bulk.
Every bulk command runs its items --concurrency at a time, draws a progress
bar on stderr when stderr is a terminal, and ends with a summary."""

_EPILOG = f"""\
environment:
  NUEXTRACT_API_KEY, NUMIND_API_KEY   the API key (unless --api-key)
  NUEXTRACT_BASE_URL                  the service (unless --base-url)

output:
  Human text by default. With --json, stdout carries only JSON objects, one
  per line: a project, a list of projects (one per line), or for bulk
  commands one {{"type": "outcome"}} line per item then one
  {{"type": "summary"}} line. Errors are one line on stderr.

{EXIT_TABLE}

examples:
  nuextract --emulator projects list
  nuextract --emulator bulk-duplicate --copies 1000 --concurrency 32
  nuextract projects create --name Orders --template order.json
  nuextract bulk-lock --from-file ids.txt"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add the options every command takes; below the top they only override."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    add = group.add_argument
    add("--base-url", default=default(None), help="the service's base URL")
    add("--api-key", default=default(None), help="the API key")
    add(
        "--emulator",
        action="store_true",
        default=default(False),
        help="run against an emulator started in this process, with sample "
        "projects and the token test-token",
    )
    add(
        "--emulator-faults",
        metavar="SPEC",
        default=default(None),
        help="faults the emulator injects, e.g. rate_503=0.05,drop_after=0.01",
    )
    add(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON object per line on stdout",
    )
    add(
        "--concurrency",
        type=_positive_int,
        default=default(DEFAULT_CONCURRENCY),
        help=f"requests in flight in bulk commands (default {DEFAULT_CONCURRENCY})",
    )
    add(
        "--timeout",
        type=_seconds,
        default=default(None),
        help="seconds each request may take (default 60)",
    )
    add(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log retries (-v) or every request (-vv) on stderr",
    )


def _leaf(
    subparsers: Any, name: str, help_text: str, **kwargs: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text, **kwargs
    )
    _global_options(parser, top=False)
    return parser


def _project_parsers(subparsers: Any) -> None:
    projects = _leaf(subparsers, "projects", "one project endpoint per command")
    commands = projects.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, (handler, help_text) in PROJECT_COMMANDS.items():
        parser = _leaf(commands, name, help_text)
        parser.set_defaults(handler=handler)
        if name not in ("list", "create"):
            parser.add_argument("project_id", metavar="ID", help="the project id")
        _project_options(name, parser)


def _project_options(name: str, parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    body_help = "a JSON body with the API's camelCase keys (- for stdin)"
    if name == "list":
        add("--organization", metavar="ORG", help="list that organization's")
        add("--reference", action="store_true", help="list reference projects")
    elif name in ("create", "update"):
        add("--name")
        add("--description")
        add("--template", metavar="FILE", help="the template as JSON (- for stdin)")
        add("--body", metavar="FILE", help=body_help)
        if name == "create":
            add("--organization", metavar="ORG", help="owning organization")
    elif name == "settings":
        add("--temperature", type=float)
        add("--rasterization-dpi", type=int)
        add("--max-output-tokens", type=int)
        add("--degraded-mode")
        add("--max-tokens-smart-example", type=int)
        add("--body", metavar="FILE", help=body_help)
    elif name == "template":
        add("file", nargs="?", metavar="FILE", help="new template (- for stdin)")
    elif name == "duplicate":
        add("--organization", metavar="ORG", help="copy into this organization")


def _bulk_parsers(subparsers: Any) -> None:
    for name, (_, _, help_text) in BULK_COMMANDS.items():
        parser = _leaf(subparsers, name, help_text)
        parser.set_defaults(handler=bulk)
        add = parser.add_argument
        add("project_ids", nargs="*", metavar="ID", help="project ids")
        add(
            "--from-file",
            metavar="FILE",
            help="read ids from FILE, one per line (- for stdin)",
        )
        if name == "bulk-duplicate":
            add(
                "--copies",
                type=_positive_int,
                default=1,
                help="copies of each project (default 1)",
            )
            add("--organization", metavar="ORG", help="copy into this organization")


def build_parser() -> argparse.ArgumentParser:
    """The ``nuextract`` parser; every command sets ``handler``."""
    parser = argparse.ArgumentParser(
        prog="nuextract",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _project_parsers(subparsers)
    _bulk_parsers(subparsers)
    return parser
