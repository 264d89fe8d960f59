"""Reading what the commands need: JSON objects and lists of ids, from files or -."""

from __future__ import annotations

import json
import sys
from typing import Any

from ._exits import CommandError, ExitStatus

__all__ = ["read_ids", "read_json_object", "read_text"]


def read_text(source: str, what: str) -> str:
    """The text of file ``source``, or of stdin when it is ``-``.

    A leading byte-order mark (editors on Windows write one) is dropped.
    """
    where = "stdin" if source == "-" else source
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
    except UnicodeDecodeError as exc:
        raise CommandError(
            ExitStatus.INVALID_INPUT, f"{what} from {where} is not UTF-8 text ({exc})"
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CommandError(
            ExitStatus.UNREADABLE_INPUT, f"cannot read {what} {where}: {reason}"
        ) from exc
    return text.removeprefix("\ufeff")


def read_json_object(source: str, what: str) -> dict[str, Any]:
    """A JSON object read from file ``source`` or stdin (``-``)."""
    where = "stdin" if source == "-" else source
    text = read_text(source, what)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            ExitStatus.INVALID_INPUT,
            f"{what} from {where} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})",
        ) from exc
    except RecursionError as exc:
        raise CommandError(
            ExitStatus.INVALID_INPUT, f"{what} from {where} is nested too deeply"
        ) from exc
    if not isinstance(value, dict):
        raise CommandError(
            ExitStatus.INVALID_INPUT,
            f"{what} from {where} must be a JSON object, not {type(value).__name__}",
        )
    return value


def read_ids(source: str) -> list[str]:
    """Project ids, one per line; blank lines and ``#`` comments are skipped."""
    lines = read_text(source, "project ids").splitlines()
    stripped = (line.strip() for line in lines)
    return [line for line in stripped if line and not line.startswith("#")]
