"""The API's models as frozen attrs classes, named as upstream.

Response models keep every key the client does not know in ``extra_fields``
so that nothing the service sends is lost. Request models check their
argument types when built, and leave out of the wire body whatever the
caller did not give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._errors import InvalidRequestError
from ._types import NOT_GIVEN, NotGiven

__all__ = [
    "CreateProjectRequest",
    "ProjectResponse",
    "ProjectSettingsResponse",
    "UpdateProjectRequest",
    "UpdateProjectSettingsRequest",
    "UpdateProjectTemplateRequest",
]

_NO_EXTRA: Mapping[str, Any] = {}


@attrs.frozen
class ProjectSettingsResponse:
    """A project's inference settings."""

    temperature: float
    rasterization_dpi: int
    max_output_tokens: int
    degraded_mode: str
    max_tokens_smart_example: int
    extra_fields: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, kw_only=True)


@attrs.frozen
class ProjectResponse:
    """A project as the service returns it."""

    id: str
    name: str
    description: str
    template: dict[str, Any]
    owner_user: str
    created_at: datetime
    updated_at: datetime
    lock_state: bool
    shared: bool
    settings: ProjectSettingsResponse
    owner_organization: str | None = None
    extra_fields: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, kw_only=True)


# Request models: strict type checks, so a bad argument fails before I/O.


def _fail(attribute: attrs.Attribute[Any], expected: str, value: object) -> None:
    raise InvalidRequestError(
        f"{attribute.name} must be {expected}, not {type(value).__name__} "
        f"({value!r:.60})"
    )


def _check_str(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not NOT_GIVEN and type(value) is not str:
        _fail(attribute, "a string", value)


def _check_optional_str(
    instance: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is not None:
        _check_str(instance, attribute, value)


def _check_int(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not NOT_GIVEN and (type(value) is bool or not isinstance(value, int)):
        _fail(attribute, "an integer", value)


def _check_number(
    instance: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if value is NOT_GIVEN:
        return
    if type(value) is bool or not isinstance(value, int | float):
        _fail(attribute, "a number", value)
    if not math.isfinite(value):
        _fail(attribute, "a finite number", value)


_JSON_SCALARS = (str, int, float, bool, type(None))


def _check_template(
    instance: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    # Walked with a stack, not recursion: any depth is checked, and every
    # key must be a string (JSON would turn 1 into "1", next to a real "1").
    if value is NOT_GIVEN:
        return
    if not isinstance(value, Mapping):
        _fail(attribute, "a JSON object (a mapping)", value)
    pending: list[Any] = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            for key, item in node.items():
                if type(key) is not str:
                    _fail(attribute, "a mapping with string keys only", key)
                pending.append(item)
        elif isinstance(node, list | tuple):
            pending.extend(node)
        elif not isinstance(node, _JSON_SCALARS):
            _fail(attribute, "made of JSON values only", node)


def _template_copy(value: Any) -> Any:
    # A plain dict snapshot: later edits by the caller do not leak in.
    return dict(value) if isinstance(value, Mapping) else value


@attrs.frozen
class CreateProjectRequest:
    """Body of ``projects.create``."""

    name: str = attrs.field(validator=_check_str)
    template: Mapping[str, Any] = attrs.field(
        converter=_template_copy, validator=_check_template
    )
    description: str = attrs.field(default="", validator=_check_str)
    owner_organization: str | None = attrs.field(
        default=None, validator=_check_optional_str
    )


@attrs.frozen
class UpdateProjectRequest:
    """Body of ``projects.update``; a field left out is not changed."""

    name: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_check_str)
    description: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_check_str)
    template: Mapping[str, Any] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_template_copy, validator=_check_template
    )


@attrs.frozen
class UpdateProjectSettingsRequest:
    """Body of ``projects.update_settings``; a field left out is not changed.

    Types are checked here; the bounds are the service's to enforce.
    """

    temperature: float | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_check_number
    )
    rasterization_dpi: int | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_check_int
    )
    max_output_tokens: int | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_check_int
    )
    degraded_mode: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_check_str)
    max_tokens_smart_example: int | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_check_int
    )


@attrs.frozen
class UpdateProjectTemplateRequest:
    """Body of ``projects.replace_template``."""

    template: Mapping[str, Any] = attrs.field(
        converter=_template_copy, validator=_check_template
    )
