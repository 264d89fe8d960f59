"""``main()``: parse, run one command on one client, turn failures into exits."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from .. import AsyncNuExtract
from ._exits import CommandError, ExitStatus, describe
from ._output import Output
from ._parser import build_parser

__all__ = ["main"]

EMULATOR_TOKEN = "test-token"
_KEY_VARIABLES = ("NUEXTRACT_API_KEY", "NUMIND_API_KEY")
_STDIN_OPTIONS = ("body", "template", "file", "from_file")


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.emulator and args.base_url:
        parser.error("--emulator and --base-url cannot be used together")
    if args.emulator_faults and not args.emulator:
        parser.error("--emulator-faults needs --emulator")
    stdin_uses = [o for o in _STDIN_OPTIONS if getattr(args, o, None) == "-"]
    if len(stdin_uses) > 1:
        parser.error("stdin (-) can feed only one input per command")


def _faults(spec: str) -> Any:
    """The emulator's ``Faults`` from ``key=value,...``."""
    from ..emulator import Faults

    known = sorted(attrs.fields_dict(Faults))
    fields: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key not in known:
            raise ValueError(f"unknown fault {key!r}; known: {', '.join(known)}")
        if key == "seed":
            fields[key] = int(value)
        elif key == "retry_after":
            fields[key] = value
        elif key == "operations":
            fields[key] = value.split("+")
        else:
            fields[key] = float(value)
    return Faults(**fields)


def _configure_logging(verbosity: int) -> None:
    logger = logging.getLogger("nuextract")
    if verbosity == 0:
        logger.addHandler(logging.NullHandler())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("nuextract: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)


async def _with_client(
    args: argparse.Namespace, out: Output, base_url: str | None, api_key: str | None
) -> None:
    if not api_key and not any(os.environ.get(v) for v in _KEY_VARIABLES):
        raise CommandError(
            ExitStatus.CONFIGURATION,
            "no API key: pass --api-key, set NUEXTRACT_API_KEY, or try --emulator",
        )
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    async with AsyncNuExtract(
        api_key=api_key,
        base_url=base_url,
        max_connections=args.concurrency,
        **options,
    ) as client:
        await args.handler(client, args, out)


async def _run(args: argparse.Namespace, out: Output) -> None:
    if not args.emulator:
        await _with_client(args, out, args.base_url, args.api_key)
        return
    from ..emulator import run_emulator

    faults = _faults(args.emulator_faults) if args.emulator_faults else None
    async with run_emulator(seed_samples=True, faults=faults) as emulator:
        await _with_client(args, out, emulator.base_url, args.api_key or EMULATOR_TOKEN)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nuextract`` with ``argv`` (default: the command line); the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    if args.emulator_faults:
        try:
            _faults(args.emulator_faults)
        except (TypeError, ValueError) as exc:
            parser.error(f"--emulator-faults: {exc}")
    _configure_logging(args.verbose)

    try:
        asyncio.run(_run(args, Output(as_json=args.json)))
    except KeyboardInterrupt:
        print("nuextract: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): stop quietly, and keep
        # the interpreter from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.OUTPUT_CLOSED
    except Exception as exc:
        status, message = describe(exc)
        print(f"nuextract: error: {message}", file=sys.stderr)
        return status
    return ExitStatus.OK
