"""``client.projects``: one coroutine per project endpoint."""

from __future__ import annotations

import builtins
import functools
import json
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from ._bulk import BulkRun, ProgressCallback
from ._converter import converter, dump_json
from ._errors import InvalidRequestError, ResponseValidationError
from ._models import (
    CreateProjectRequest,
    ProjectResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from ._operations import OPERATIONS, Answer, PreparedRequest, build_request
from ._transport import Transport
from ._types import NOT_GIVEN, NotGiven, Timeout

__all__ = ["AsyncProjects"]

M = TypeVar("M")


def request_model(cls: type[M], request: M | None, **fields: Any) -> M:
    """The caller's request model, or one built from the fields they gave."""
    given = {k: v for k, v in fields.items() if v is not NOT_GIVEN}
    if request is not None:
        if given:
            raise InvalidRequestError(
                f"pass either request= or {', '.join(sorted(given))}, not both"
            )
        if not isinstance(request, cls):
            raise InvalidRequestError(
                f"request must be a {cls.__name__}, not {type(request).__name__}"
            )
        return request
    try:
        return cls(**given)
    except TypeError as exc:
        if isinstance(exc, InvalidRequestError):
            raise
        raise InvalidRequestError(f"{cls.__name__}: {exc}") from exc


def _not_json(constant: str) -> Any:
    # Python's json module accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{constant} is not a JSON value")


# One decoder for every answer: ``json.loads`` with an option builds a new
# one on each call.
_DECODER = json.JSONDecoder(parse_constant=_not_json)


def _load_json(body: bytes) -> Any:
    # What json.loads does with bytes: UTF-8, -16 or -32, with or without BOM.
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


# Looked up once: the hot path skips the converter's dispatch.
_structure_project = converter.get_structure_hook(ProjectResponse)
_structure_projects = converter.get_structure_hook(list[ProjectResponse])


def decode_answer(request: PreparedRequest, url: str, status: int, body: bytes) -> Any:
    """Decode a 2xx body into the operation's model, or raise a typed error."""
    answer = request.operation.answer
    if answer is Answer.NOTHING:
        return None
    expected = "a project" if answer is Answer.PROJECT else "a list of projects"
    try:
        data = _load_json(body)
    except (ValueError, RecursionError) as exc:
        raise _invalid(
            request, url, status, body, f"is not JSON ({expected})", exc
        ) from exc
    try:
        if answer is Answer.PROJECT:
            return _structure_project(data, ProjectResponse)
        return _structure_projects(data, list[ProjectResponse])
    except Exception as exc:  # cattrs reports misfits as exception groups
        raise _invalid(request, url, status, body, f"is not {expected}", exc) from exc


def _invalid(
    request: PreparedRequest,
    url: str,
    status: int,
    body: bytes,
    reason: str,
    detail: Exception,
) -> ResponseValidationError:
    error = ResponseValidationError(
        f"the answer {reason}",
        method=request.method,
        url=url,
        status=status,
        body=body.decode("utf-8", errors="replace"),
        detail=detail,
        may_have_been_applied=not request.operation.idempotent,
    )
    return error


class AsyncProjects:
    """The project endpoints. Reach them as ``client.projects``.

    Every method takes ``timeout=`` (seconds, or ``None`` for no limit) to
    override, for each attempt of that call, the client's timeout.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def _call(
        self,
        operation: str,
        project_id: str | None = None,
        *,
        organization_id: str | None = None,
        reference: bool | None = None,
        body: object | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> Any:
        request = build_request(
            OPERATIONS[operation],
            project_id,
            organization_id=organization_id,
            reference=reference,
            body=None if body is None else dump_json(body),
        )
        status, payload = await self._transport.send(request, timeout)
        url = self._transport.base_url + request.target
        return decode_answer(request, url, status, payload)

    async def list(
        self,
        organization_id: str | None = None,
        reference: bool | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> builtins.list[ProjectResponse]:
        """List projects: personal ones by default, an organization's, or
        with ``reference=True`` the reference projects (``organization_id``
        is then ignored by the service)."""
        result: builtins.list[ProjectResponse] = await self._call(
            "list",
            organization_id=organization_id,
            reference=reference,
            timeout=timeout,
        )
        return result

    async def create(
        self,
        name: str | NotGiven = NOT_GIVEN,
        template: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        owner_organization: str | NotGiven | None = NOT_GIVEN,
        *,
        request: CreateProjectRequest | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> ProjectResponse:
        """Create a project, owned by ``owner_organization`` when given.

        Not idempotent: it is resent only when the service cannot have
        received it; otherwise a failure says it may have been applied.
        """
        body = request_model(
            CreateProjectRequest,
            request,
            name=name,
            template=template,
            description=description,
            owner_organization=owner_organization,
        )
        result: ProjectResponse = await self._call("create", body=body, timeout=timeout)
        return result

    async def get(
        self, project_id: str, *, timeout: Timeout = NOT_GIVEN
    ) -> ProjectResponse:
        """Fetch one project."""
        result: ProjectResponse = await self._call("get", project_id, timeout=timeout)
        return result

    async def update(
        self,
        project_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        template: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        request: UpdateProjectRequest | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> ProjectResponse:
        """Change name, description or template; only what is given is sent."""
        body = request_model(
            UpdateProjectRequest,
            request,
            name=name,
            description=description,
            template=template,
        )
        result: ProjectResponse = await self._call(
            "update", project_id, body=body, timeout=timeout
        )
        return result

    async def delete(self, project_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Delete a project with its examples and playground items."""
        await self._call("delete", project_id, timeout=timeout)

    async def update_settings(
        self,
        project_id: str,
        *,
        temperature: float | NotGiven = NOT_GIVEN,
        rasterization_dpi: int | NotGiven = NOT_GIVEN,
        max_output_tokens: int | NotGiven = NOT_GIVEN,
        degraded_mode: str | NotGiven = NOT_GIVEN,
        max_tokens_smart_example: int | NotGiven = NOT_GIVEN,
        request: UpdateProjectSettingsRequest | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> ProjectResponse:
        """Change inference settings; only what is given is sent."""
        body = request_model(
            UpdateProjectSettingsRequest,
            request,
            temperature=temperature,
            rasterization_dpi=rasterization_dpi,
            max_output_tokens=max_output_tokens,
            degraded_mode=degraded_mode,
            max_tokens_smart_example=max_tokens_smart_example,
        )
        result: ProjectResponse = await self._call(
            "update_settings", project_id, body=body, timeout=timeout
        )
        return result

    async def replace_template(
        self,
        project_id: str,
        template: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        *,
        request: UpdateProjectTemplateRequest | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> ProjectResponse:
        """Replace the project's template as a whole."""
        body = request_model(UpdateProjectTemplateRequest, request, template=template)
        result: ProjectResponse = await self._call(
            "replace_template", project_id, body=body, timeout=timeout
        )
        return result

    async def reset_settings(
        self, project_id: str, *, timeout: Timeout = NOT_GIVEN
    ) -> ProjectResponse:
        """Put every setting back to its default."""
        result: ProjectResponse = await self._call(
            "reset_settings", project_id, timeout=timeout
        )
        return result

    async def duplicate(
        self,
        project_id: str,
        organization_id: str | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> ProjectResponse:
        """Copy a project, into ``organization_id`` when given; returns the copy.

        Not idempotent: it is resent only when the service cannot have
        received it; otherwise a failure says it may have been applied.
        """
        result: ProjectResponse = await self._call(
            "duplicate", project_id, organization_id=organization_id, timeout=timeout
        )
        return result

    async def lock(self, project_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Lock a project against changes (reading and duplicating still work)."""
        await self._call("lock", project_id, timeout=timeout)

    async def unlock(self, project_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Unlock a project."""
        await self._call("unlock", project_id, timeout=timeout)

    async def share(self, project_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Make a project a reference project (administrators only)."""
        await self._call("share", project_id, timeout=timeout)

    async def unshare(self, project_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Stop sharing a reference project (administrators only)."""
        await self._call("unshare", project_id, timeout=timeout)

    # Bulk: one engine (``BulkRun``) for every per-project operation.

    def _many(
        self,
        operation: Callable[..., Awaitable[M]],
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        copies: int = 1,
        concurrency: int,
        on_progress: ProgressCallback | None,
        timeout: Timeout,
        **arguments: Any,
    ) -> BulkRun[M]:
        return BulkRun(
            functools.partial(operation, timeout=timeout, **arguments),
            project_ids,
            copies=copies,
            concurrency=concurrency,
            on_progress=on_progress,
            idempotent=OPERATIONS[operation.__name__].idempotent,
        )

    def duplicate_many(
        self,
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        copies: int = 1,
        organization_id: str | None = None,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BulkRun[ProjectResponse]:
        """Duplicate each project ``copies`` times, ``concurrency`` at a time.

        Returns an iterator of ``BulkOutcome``, one per copy, in completion
        order; a success's ``result`` is the new project. A copy whose
        outcome ``may_have_been_applied`` was not resent: the server may hold
        it. Leaving the loop or closing the iterator cancels what is in
        flight and starts nothing new.
        """
        return self._many(
            self.duplicate,
            project_ids,
            copies=copies,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
            organization_id=organization_id,
        )

    def get_many(
        self,
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BulkRun[ProjectResponse]:
        """Fetch many projects; one ``BulkOutcome`` per id, as each finishes."""
        return self._many(
            self.get,
            project_ids,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
        )

    def lock_many(
        self,
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BulkRun[None]:
        """Lock many projects; one ``BulkOutcome`` per id, as each finishes."""
        return self._many(
            self.lock,
            project_ids,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
        )

    def unlock_many(
        self,
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BulkRun[None]:
        """Unlock many projects; one ``BulkOutcome`` per id, as each finishes."""
        return self._many(
            self.unlock,
            project_ids,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
        )

    def delete_many(
        self,
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> BulkRun[None]:
        """Delete many projects; one ``BulkOutcome`` per id, as each finishes."""
        return self._many(
            self.delete,
            project_ids,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
        )
