"""Exceptions raised by the client, and the one function that maps answers to them.

The tree::

    NuExtractError
    ├── ConfigurationError (ValueError)     bad client settings, missing API key
    ├── InvalidRequestError (ValueError, TypeError)
    │                                       an argument rejected before any I/O
    ├── ClientClosedError (RuntimeError)    the client was closed
    ├── OperationCancelledError             a bulk item stopped before its answer
    └── APIError                            a request went out (or tried to)
        ├── APIConnectionError (ConnectionError)
        │   └── APITimeoutError (TimeoutError)
        ├── ResponseValidationError          a 2xx body that does not fit the model
        └── APIStatusError                   any non-2xx answer
            ├── BadRequestError              400
            ├── AuthenticationError          401
            ├── PermissionDeniedError        403
            │   └── ProjectLockedError       403 Locked
            ├── NotFoundError                404
            ├── RateLimitError               429
            └── InternalServerError          5xx

Every ``APIError`` knows the HTTP method and the URL (which never holds the
token) and whether the operation *may have been applied* by the server:
true only for create or duplicate when the request was sent and no answer
proved otherwise. Such an operation is never resent automatically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "NuExtractError",
    "OperationCancelledError",
    "PermissionDeniedError",
    "ProjectLockedError",
    "RateLimitError",
    "ResponseValidationError",
    "error_for_status",
]

_SHOWN_BODY_CHARS = 300
_MAYBE_APPLIED_NOTE = (
    "; the operation may have been applied by the server and was not resent"
)


class NuExtractError(Exception):
    """Root of every error this package raises on purpose.

    ``may_have_been_applied`` is true when the operation (a create or a
    duplicate) may have changed state on the server although it failed.
    """

    may_have_been_applied: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without __init__ (keyword-only arguments), so that errors
        # cross process boundaries: a worker's NotFoundError stays one.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(
    cls: type[NuExtractError], args: tuple[Any, ...], state: dict[str, Any]
) -> NuExtractError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(NuExtractError, ValueError):
    """The client's settings cannot work (no API key, a bad base URL...)."""


class InvalidRequestError(NuExtractError, ValueError, TypeError):
    """An argument was rejected before anything was sent."""


class ClientClosedError(NuExtractError, RuntimeError):
    """The client was closed; create a new one."""

    def __init__(self, message: str, *, may_have_been_applied: bool = False) -> None:
        if may_have_been_applied:
            message += _MAYBE_APPLIED_NOTE
        super().__init__(message)
        self.may_have_been_applied = may_have_been_applied


class OperationCancelledError(NuExtractError):
    """A bulk run was stopped while this item's request was under way.

    For a create or duplicate the request may already have reached the
    server, so ``may_have_been_applied`` is true: check before running it
    again.
    """

    def __init__(self, message: str, *, may_have_been_applied: bool) -> None:
        if may_have_been_applied:
            message += _MAYBE_APPLIED_NOTE
        super().__init__(message)
        self.may_have_been_applied = may_have_been_applied


class APIError(NuExtractError):
    """A request was attempted. Carries where it went and what may have happened."""

    method: str
    url: str

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        may_have_been_applied: bool = False,
    ) -> None:
        if may_have_been_applied:
            message += _MAYBE_APPLIED_NOTE
        super().__init__(message)
        self.method = method
        self.url = url
        self.may_have_been_applied = may_have_been_applied


class APIConnectionError(APIError, ConnectionError):
    """No usable answer: the connection failed, broke, or the answer was unreadable.

    ``request_sent`` tells whether the request may have reached the server.
    """

    request_sent: bool

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        request_sent: bool,
        may_have_been_applied: bool = False,
    ) -> None:
        super().__init__(
            message,
            method=method,
            url=url,
            may_have_been_applied=may_have_been_applied,
        )
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request did not complete within its timeout."""


class ResponseValidationError(APIError):
    """A successful answer whose body does not fit the expected model.

    ``body`` is the raw text; ``detail`` the structuring error (a cattrs
    exception group with a note per field), when there is one. For create
    and duplicate the server did answer 2xx, so ``may_have_been_applied``
    is true.
    """

    status: int
    body: str
    detail: BaseException | None

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status: int,
        body: str,
        detail: BaseException | None = None,
        may_have_been_applied: bool = False,
    ) -> None:
        super().__init__(
            f"{message} (HTTP {status})",
            method=method,
            url=url,
            may_have_been_applied=may_have_been_applied,
        )
        self.status = status
        self.body = body
        self.detail = detail


class APIStatusError(APIError):
    """The server answered with a status other than 2xx.

    ``code`` and ``message`` come from a JSON ``{"code", "message"}`` body;
    for any other body ``code`` is ``None`` and ``message`` is its text.
    ``body`` is always the raw text.
    """

    status: int
    code: str | None
    message: str
    body: str
    headers: Mapping[str, str]

    def __init__(
        self,
        *,
        status: int,
        code: str | None,
        message: str,
        body: str,
        headers: Mapping[str, str],
        method: str,
        url: str,
        may_have_been_applied: bool = False,
    ) -> None:
        shown = (
            message
            if len(message) <= _SHOWN_BODY_CHARS
            else (message[:_SHOWN_BODY_CHARS] + "...")
        )
        label = f"{code}: {shown}" if code else shown
        super().__init__(
            f"HTTP {status} from {method} {url}: {label or '(empty body)'}",
            method=method,
            url=url,
            may_have_been_applied=may_have_been_applied,
        )
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.headers = CIMultiDict(headers)  # a copy that can be pickled


class BadRequestError(APIStatusError):
    """400: the request body or query was rejected."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(APIStatusError):
    """403: the caller may not see or change this project or organization."""


class ProjectLockedError(PermissionDeniedError):
    """403 Locked: the project is locked against changes."""


class NotFoundError(APIStatusError):
    """404: no project with that id."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """5xx: the service or a gateway failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def _code_and_message(text: str) -> tuple[str | None, str]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            payload: Any = json.loads(stripped)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            code = payload.get("code")
            message = payload.get("message")
            if isinstance(code, str) or isinstance(message, str):
                return (
                    code if isinstance(code, str) else None,
                    message if isinstance(message, str) else "",
                )
    return None, stripped


def _is_locked(code: str | None, message: str) -> bool:
    # A JSON code decides on its own; a bare text body ("Locked") is read.
    if code is not None:
        return "lock" in code.lower()
    return "lock" in message.lower()


def error_for_status(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    method: str,
    url: str,
    may_have_been_applied: bool = False,
) -> APIStatusError | None:
    """Return the error an answer stands for, or ``None`` for a 2xx status."""
    if 200 <= status < 300:
        return None
    text = body.decode("utf-8", errors="replace")
    code, message = _code_and_message(text)
    if 500 <= status <= 599:
        cls: type[APIStatusError] = InternalServerError
    else:
        cls = _BY_STATUS.get(status, APIStatusError)
    if cls is PermissionDeniedError and _is_locked(code, message):
        cls = ProjectLockedError
    return cls(
        status=status,
        code=code,
        message=message,
        body=text,
        headers=headers,
        method=method,
        url=url,
        may_have_been_applied=may_have_been_applied,
    )
