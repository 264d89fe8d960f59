"""``nuextract projects ...``: one handler per project endpoint."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import cattrs

from .. import (
    AsyncNuExtract,
    CreateProjectRequest,
    InvalidRequestError,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    from_wire,
)
from ._exits import CommandError, ExitStatus
from ._inputs import read_json_object
from ._output import Output

__all__ = ["PROJECT_COMMANDS", "Handler"]

Handler = Callable[[AsyncNuExtract, argparse.Namespace, Output], Awaitable[None]]
M = TypeVar("M")

#: Settings options on the command line -> their wire keys.
SETTING_OPTIONS = {
    "temperature": "temperature",
    "rasterization_dpi": "rasterizationDPI",
    "max_output_tokens": "maxOutputTokens",
    "degraded_mode": "degradedMode",
    "max_tokens_smart_example": "maxTokensSmartExample",
}


def _body(
    cls: type[M], args: argparse.Namespace, given: dict[str, Any], what: str
) -> M:
    """A request model from ``--body`` (wire keys) overlaid with the options."""
    data = read_json_object(args.body, what) if args.body else {}
    data.update({key: value for key, value in given.items() if value is not None})
    template = getattr(args, "template", None)
    if template is not None:
        data["template"] = read_json_object(template, "template")
    try:
        return from_wire(cls, data)
    except InvalidRequestError:
        raise
    except Exception as exc:  # cattrs reports every misfit in one group
        raise CommandError(
            ExitStatus.INVALID_INPUT, f"{what}: {_misfits(exc)}"
        ) from exc


def _misfits(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error, path="body"))
    return str(error)


async def list_projects(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> None:
    projects = await client.projects.list(
        organization_id=args.organization, reference=args.reference or None
    )
    out.projects(projects)


async def get(client: AsyncNuExtract, args: argparse.Namespace, out: Output) -> None:
    out.project(await client.projects.get(args.project_id))


async def create(client: AsyncNuExtract, args: argparse.Namespace, out: Output) -> None:
    given = {
        "name": args.name,
        "description": args.description,
        "ownerOrganization": args.organization,
    }
    body = _body(CreateProjectRequest, args, given, "the new project")
    out.project(await client.projects.create(request=body))


async def update(client: AsyncNuExtract, args: argparse.Namespace, out: Output) -> None:
    given = {"name": args.name, "description": args.description}
    body = _body(UpdateProjectRequest, args, given, "the update")
    out.project(await client.projects.update(args.project_id, request=body))


async def settings(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> None:
    given = {wire: getattr(args, option) for option, wire in SETTING_OPTIONS.items()}
    if args.body is None and all(value is None for value in given.values()):
        out.settings(await client.projects.get(args.project_id))
        return
    body = _body(UpdateProjectSettingsRequest, args, given, "the settings")
    project = await client.projects.update_settings(args.project_id, request=body)
    out.settings(project)


async def template(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> None:
    if args.file is None:
        out.template(await client.projects.get(args.project_id))
        return
    new = read_json_object(args.file, "template")
    out.template(await client.projects.replace_template(args.project_id, new))


async def reset_settings(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> None:
    out.settings(await client.projects.reset_settings(args.project_id))


async def duplicate(
    client: AsyncNuExtract, args: argparse.Namespace, out: Output
) -> None:
    out.project(
        await client.projects.duplicate(
            args.project_id, organization_id=args.organization
        )
    )


def _no_answer(operation: str, past: str) -> Handler:
    async def handler(
        client: AsyncNuExtract, args: argparse.Namespace, out: Output
    ) -> None:
        await getattr(client.projects, operation)(args.project_id)
        out.done(operation, args.project_id, past)

    handler.__name__ = operation
    return handler


#: Sub-command -> (handler, one-line help).
PROJECT_COMMANDS: dict[str, tuple[Handler, str]] = {
    "list": (list_projects, "list personal, organization or reference projects"),
    "get": (get, "show one project"),
    "create": (create, "create a project from options and/or a JSON body"),
    "update": (update, "change name, description or template"),
    "settings": (settings, "show settings, or change the ones given"),
    "template": (template, "print the template, or replace it from FILE"),
    "reset-settings": (reset_settings, "put every setting back to its default"),
    "delete": (_no_answer("delete", "deleted"), "delete a project"),
    "duplicate": (duplicate, "copy a project, into --organization if given"),
    "lock": (_no_answer("lock", "locked"), "lock a project against changes"),
    "unlock": (_no_answer("unlock", "unlocked"), "unlock a project"),
    "share": (_no_answer("share", "shared"), "make it a reference (admins only)"),
    "unshare": (_no_answer("unshare", "unshared"), "stop sharing it (admins only)"),
}
