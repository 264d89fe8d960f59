"""The 13 operations and pure request building: no I/O here.

One row per endpoint says its HTTP method, path, whether it may be resent
safely, what it answers with, and its upstream name; the resource methods,
the compatibility layer and the bulk engine all read this table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

import attrs

from ._errors import InvalidRequestError

__all__ = [
    "OPERATIONS",
    "Answer",
    "Operation",
    "PreparedRequest",
    "build_request",
    "encode_segment",
]

#: Longest project or organization id accepted; longer ones are a caller bug.
MAX_ID_LENGTH: Final = 1024


class Answer(enum.Enum):
    """What a successful answer carries."""

    PROJECT = "project"
    PROJECTS = "projects"
    NOTHING = "nothing"


@attrs.frozen
class Operation:
    name: str
    method: str
    path: str
    idempotent: bool
    answer: Answer
    upstream_name: str

    @property
    def needs_project_id(self) -> bool:
        return "{project_id}" in self.path


def _op(
    name: str, method: str, path: str, answer: Answer, upstream: str
) -> tuple[str, Operation]:
    idempotent = name not in ("create", "duplicate")
    return name, Operation(name, method, path, idempotent, answer, upstream)


_ONE = "/api/projects/{project_id}"
OPERATIONS: Final[Mapping[str, Operation]] = dict(
    [
        _op("list", "GET", "/api/projects", Answer.PROJECTS, "get_api_projects"),
        _op("create", "POST", "/api/projects", Answer.PROJECT, "post_api_projects"),
        _op("get", "GET", _ONE, Answer.PROJECT, "get_api_projects_projectid"),
        _op("update", "PATCH", _ONE, Answer.PROJECT, "patch_api_projects_projectid"),
        _op("delete", "DELETE", _ONE, Answer.NOTHING, "delete_api_projects_projectid"),
        _op(
            "update_settings",
            "PATCH",
            _ONE + "/settings",
            Answer.PROJECT,
            "patch_api_projects_projectid_settings",
        ),
        _op(
            "replace_template",
            "PUT",
            _ONE + "/template",
            Answer.PROJECT,
            "put_api_projects_projectid_template",
        ),
        _op(
            "reset_settings",
            "POST",
            _ONE + "/reset-settings",
            Answer.PROJECT,
            "post_api_projects_projectid_reset_settings",
        ),
        _op(
            "duplicate",
            "POST",
            _ONE + "/duplicate",
            Answer.PROJECT,
            "post_api_projects_projectid_duplicate",
        ),
        _op(
            "lock",
            "POST",
            _ONE + "/lock",
            Answer.NOTHING,
            "post_api_projects_projectid_lock",
        ),
        _op(
            "unlock",
            "POST",
            _ONE + "/unlock",
            Answer.NOTHING,
            "post_api_projects_projectid_unlock",
        ),
        _op(
            "share",
            "POST",
            _ONE + "/share",
            Answer.NOTHING,
            "post_api_projects_projectid_share",
        ),
        _op(
            "unshare",
            "POST",
            _ONE + "/unshare",
            Answer.NOTHING,
            "post_api_projects_projectid_unshare",
        ),
    ]
)


@attrs.frozen
class PreparedRequest:
    """Everything the transport needs to send one operation."""

    operation: Operation
    method: str
    target: str  # path plus query, already percent-encoded
    body: bytes | None


def _check_id(value: object, what: str) -> str:
    if type(value) is not str:
        raise InvalidRequestError(
            f"{what} must be a string, not {type(value).__name__}"
        )
    if value in ("", ".", ".."):
        raise InvalidRequestError(f"{what} {value!r} cannot name anything")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequestError(
            f"{what} is {len(value)} characters long; at most {MAX_ID_LENGTH}"
        )
    if "\x00" in value:
        raise InvalidRequestError(f"{what} must not contain a NUL character")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise InvalidRequestError(f"{what} is not valid Unicode text") from exc
    return value


def encode_segment(project_id: object) -> str:
    """Percent-encode a project id as exactly one path segment.

    Every character outside the unreserved set is encoded, ``/`` and ``%``
    included, so the server decodes the very same string.
    """
    return quote(_check_id(project_id, "project_id"), safe="")


def _query(
    organization_id: str | None, reference: bool | None
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if organization_id is not None:
        pairs.append(("organizationId", _check_id(organization_id, "organization_id")))
    if reference is not None:
        if type(reference) is not bool:
            raise InvalidRequestError(
                f"reference must be True, False or None, not {reference!r:.40}"
            )
        pairs.append(("reference", "true" if reference else "false"))
    return pairs


def build_request(
    operation: Operation,
    project_id: str | None = None,
    *,
    organization_id: str | None = None,
    reference: bool | None = None,
    body: bytes | None = None,
) -> PreparedRequest:
    """Turn an operation and its arguments into method, target and body."""
    path = operation.path
    if operation.needs_project_id:
        path = path.replace("{project_id}", encode_segment(project_id))
    pairs = _query(organization_id, reference)
    if pairs:
        path += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
    return PreparedRequest(operation, operation.method, path, body)
