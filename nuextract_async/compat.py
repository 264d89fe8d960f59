"""``ProjectManagementApi``: the official SDK's operation names, for porting.

Code written against the upstream ``ProjectManagementApi`` runs on this
client with a changed import and ``await``. Bodies may be the request models
or plain dicts with the wire (camelCase) keys, as in the upstream examples.
No logic lives here: each method hands over to ``client.projects``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs

from ._client import AsyncNuExtract
from ._converter import from_wire
from ._errors import InvalidRequestError
from ._models import (
    CreateProjectRequest,
    ProjectResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)

__all__ = ["ProjectManagementApi"]

M = TypeVar("M")


def _as_model(cls: type[M], body: M | Mapping[str, Any]) -> M:
    if isinstance(body, cls):
        return body
    if not isinstance(body, Mapping):
        raise InvalidRequestError(
            f"expected a {cls.__name__} or a dict, not {type(body).__name__}"
        )
    try:
        return from_wire(cls, body)
    except InvalidRequestError:
        raise
    except Exception as exc:
        problems = "; ".join(cattrs.transform_error(exc))
        raise InvalidRequestError(f"not a valid {cls.__name__}: {problems}") from exc


class ProjectManagementApi:
    """The 13 project operations under their upstream names."""

    def __init__(self, client: AsyncNuExtract) -> None:
        self._projects = client.projects

    async def get_api_projects(
        self, organization_id: str | None = None, reference: bool | None = None
    ) -> list[ProjectResponse]:
        return await self._projects.list(organization_id, reference)

    async def post_api_projects(
        self, create_project_request: CreateProjectRequest | Mapping[str, Any]
    ) -> ProjectResponse:
        body = _as_model(CreateProjectRequest, create_project_request)
        return await self._projects.create(request=body)

    async def get_api_projects_projectid(self, project_id: str) -> ProjectResponse:
        return await self._projects.get(project_id)

    async def patch_api_projects_projectid(
        self,
        project_id: str,
        update_project_request: UpdateProjectRequest | Mapping[str, Any],
    ) -> ProjectResponse:
        body = _as_model(UpdateProjectRequest, update_project_request)
        return await self._projects.update(project_id, request=body)

    async def delete_api_projects_projectid(self, project_id: str) -> None:
        await self._projects.delete(project_id)

    async def patch_api_projects_projectid_settings(
        self,
        project_id: str,
        update_project_settings_request: UpdateProjectSettingsRequest
        | Mapping[str, Any],
    ) -> ProjectResponse:
        body = _as_model(UpdateProjectSettingsRequest, update_project_settings_request)
        return await self._projects.update_settings(project_id, request=body)

    async def put_api_projects_projectid_template(
        self,
        project_id: str,
        update_project_template_request: UpdateProjectTemplateRequest
        | Mapping[str, Any],
    ) -> ProjectResponse:
        body = _as_model(UpdateProjectTemplateRequest, update_project_template_request)
        return await self._projects.replace_template(project_id, request=body)

    async def post_api_projects_projectid_reset_settings(
        self, project_id: str
    ) -> ProjectResponse:
        return await self._projects.reset_settings(project_id)

    async def post_api_projects_projectid_duplicate(
        self, project_id: str, organization_id: str | None = None
    ) -> ProjectResponse:
        return await self._projects.duplicate(project_id, organization_id)

    async def post_api_projects_projectid_lock(self, project_id: str) -> None:
        await self._projects.lock(project_id)

    async def post_api_projects_projectid_unlock(self, project_id: str) -> None:
        await self._projects.unlock(project_id)

    async def post_api_projects_projectid_share(self, project_id: str) -> None:
        await self._projects.share(project_id)

    async def post_api_projects_projectid_unshare(self, project_id: str) -> None:
        await self._projects.unshare(project_id)
