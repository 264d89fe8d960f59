"""Exit statuses of ``nuextract``, and the one-line message for each failure."""

from __future__ import annotations

import enum

from .. import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    NuExtractError,
    PermissionDeniedError,
    ProjectLockedError,
)

__all__ = ["EXIT_TABLE", "CommandError", "ExitStatus", "describe"]


class ExitStatus(enum.IntEnum):
    """What ``nuextract`` exits with; each kind of failure has its own."""

    OK = 0
    ITEMS_FAILED = 1
    USAGE = 2
    UNREADABLE_INPUT = 3
    INVALID_INPUT = 4
    CONFIGURATION = 5
    CONNECTION = 6
    AUTHENTICATION = 7
    PERMISSION = 8
    LOCKED = 9
    NOT_FOUND = 10
    BAD_REQUEST = 11
    SERVICE = 12
    INTERNAL = 70
    INTERRUPTED = 130
    OUTPUT_CLOSED = 141


_MEANINGS = {
    ExitStatus.OK: "success (for a bulk command: every item succeeded)",
    ExitStatus.ITEMS_FAILED: "a bulk command finished, and some items failed",
    ExitStatus.USAGE: "bad command line",
    ExitStatus.UNREADABLE_INPUT: "an input file cannot be read",
    ExitStatus.INVALID_INPUT: "an input is not valid JSON, or holds a bad value",
    ExitStatus.CONFIGURATION: "bad configuration: no API key, bad base URL",
    ExitStatus.CONNECTION: "cannot connect, connection lost, or timed out",
    ExitStatus.AUTHENTICATION: "authentication failed (HTTP 401)",
    ExitStatus.PERMISSION: "permission denied (HTTP 403)",
    ExitStatus.LOCKED: "the project is locked (HTTP 403 Locked)",
    ExitStatus.NOT_FOUND: "no such project (HTTP 404)",
    ExitStatus.BAD_REQUEST: "the service rejected the request (HTTP 400)",
    ExitStatus.SERVICE: "the service failed (429, 5xx, or an answer off contract)",
    ExitStatus.INTERNAL: "internal error (a bug in nuextract: please report it)",
    ExitStatus.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitStatus.OUTPUT_CLOSED: "stdout was closed early (e.g. piped into head)",
}

EXIT_TABLE = "exit status:\n" + "\n".join(
    f"  {status.value:<4} {meaning}" for status, meaning in _MEANINGS.items()
)


class CommandError(Exception):
    """A failure the command reports itself, with its exit status."""

    def __init__(self, status: ExitStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


# Most specific first: a locked project is also a permission error.
_KINDS: tuple[tuple[type[NuExtractError], ExitStatus, str], ...] = (
    (ProjectLockedError, ExitStatus.LOCKED, "project locked"),
    (AuthenticationError, ExitStatus.AUTHENTICATION, "authentication failed"),
    (PermissionDeniedError, ExitStatus.PERMISSION, "permission denied"),
    (NotFoundError, ExitStatus.NOT_FOUND, "not found"),
    (BadRequestError, ExitStatus.BAD_REQUEST, "request rejected"),
    (APITimeoutError, ExitStatus.CONNECTION, "timed out"),
    (APIConnectionError, ExitStatus.CONNECTION, "connection failed"),
    (APIError, ExitStatus.SERVICE, "service error"),
    (ConfigurationError, ExitStatus.CONFIGURATION, "configuration"),
    (InvalidRequestError, ExitStatus.INVALID_INPUT, "invalid input"),
)

_HINTS = {
    ExitStatus.AUTHENTICATION: "check --api-key or NUEXTRACT_API_KEY",
    ExitStatus.LOCKED: "unlock it first with 'nuextract projects unlock ID'",
}


def describe(error: BaseException) -> tuple[ExitStatus, str]:
    """The exit status of ``error`` and one line saying what went wrong."""
    if isinstance(error, CommandError):
        return error.status, _one_line(str(error))
    for cls, status, label in _KINDS:
        if isinstance(error, cls):
            hint = _HINTS.get(status)
            text = f"{label}: {error}" + (f"; {hint}" if hint else "")
            return status, _one_line(text)
    text = f"internal error: {type(error).__name__}: {error}"
    return ExitStatus.INTERNAL, _one_line(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())
