"""Async-first client of the NuExtract project API.

    async with AsyncNuExtract() as client:
        copy = await client.projects.duplicate(project_id)

The sync facade with the same surface is ``nuextract_sync.NuExtract``.
"""

import logging

from ._bulk import BulkOutcome, BulkProgress, BulkRun, ProgressCallback
from ._client import AsyncNuExtract
from ._converter import from_wire, to_wire
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    NuExtractError,
    OperationCancelledError,
    PermissionDeniedError,
    ProjectLockedError,
    RateLimitError,
    ResponseValidationError,
)
from ._models import (
    CreateProjectRequest,
    ProjectResponse,
    ProjectSettingsResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from ._projects import AsyncProjects
from ._types import NOT_GIVEN, NotGiven, Timeout
from ._version import __version__
from .compat import ProjectManagementApi

# A library stays quiet until the application configures logging.
logging.getLogger("nuextract").addHandler(logging.NullHandler())

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncNuExtract",
    "AsyncProjects",
    "AuthenticationError",
    "BadRequestError",
    "BulkOutcome",
    "BulkProgress",
    "BulkRun",
    "ClientClosedError",
    "ConfigurationError",
    "CreateProjectRequest",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "NotGiven",
    "NuExtractError",
    "OperationCancelledError",
    "PermissionDeniedError",
    "ProjectLockedError",
    "ProjectManagementApi",
    "ProjectResponse",
    "ProgressCallback",
    "ProjectSettingsResponse",
    "RateLimitError",
    "Timeout",
    "ResponseValidationError",
    "UpdateProjectRequest",
    "UpdateProjectSettingsRequest",
    "UpdateProjectTemplateRequest",
    "__version__",
    "from_wire",
    "to_wire",
]
