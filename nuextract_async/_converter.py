"""The one cattrs converter: wire names, strict primitives, datetimes, extras.

Structuring is strict on purpose: a string where a bool belongs is an error,
not ``True``. Keys a response model does not know land in ``extra_fields``
and are written back when the model is unstructured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import UnionType
from typing import Any, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import InvalidRequestError
from ._models import (
    CreateProjectRequest,
    ProjectResponse,
    ProjectSettingsResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from ._types import NotGiven

__all__ = ["WIRE_NAMES", "converter", "dump_json", "from_wire", "to_wire"]

T = TypeVar("T")

#: Attribute name -> wire key, where the two differ. The only such table.
WIRE_NAMES: Mapping[str, str] = {
    "owner_user": "ownerUser",
    "owner_organization": "ownerOrganization",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "lock_state": "lockState",
    "rasterization_dpi": "rasterizationDPI",
    "max_output_tokens": "maxOutputTokens",
    "degraded_mode": "degradedMode",
    "max_tokens_smart_example": "maxTokensSmartExample",
}


def _type_error(expected: str, value: object) -> TypeError:
    return TypeError(f"expected {expected}, got {type(value).__name__}: {value!r:.60}")


def _structure_str(value: Any, _: object) -> str:
    if type(value) is not str:
        raise _type_error("a string", value)
    return value


def _structure_int(value: Any, _: object) -> int:
    if type(value) is not int:
        raise _type_error("an integer", value)
    return value


def _structure_bool(value: Any, _: object) -> bool:
    if type(value) is not bool:
        raise _type_error("a boolean", value)
    return value


def _structure_float(value: Any, _: object) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _type_error("a number", value)


def _structure_object(value: Any, _: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _type_error("a JSON object", value)
    return value


def _structure_datetime(value: Any, _: object) -> datetime:
    if type(value) is not str:
        raise _type_error("an ISO-8601 date-time string", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # RFC 3339 allows a lowercase "t" and "z"; fromisoformat does not.
        parsed = datetime.fromisoformat(value.upper())
    # A time without an offset is taken as UTC, the service's own zone.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _unstructure_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _identity(value: T) -> T:
    return value


def _is_list_type(tp: Any) -> bool:
    return get_origin(tp) is list


def _strict_list_factory(tp: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # cattrs would iterate any iterable: an object or a string would become
    # a list of its keys or characters (and "{}" an empty list).
    base = list_structure_factory(tp, conv)

    def structure(value: Any, _: object) -> Any:
        if type(value) is not list:
            raise _type_error("a JSON array", value)
        return base(value, tp)

    return structure


def _wire_overrides(cls: type, **extra: Any) -> dict[str, Any]:
    names = {
        a.name: override(rename=WIRE_NAMES[a.name])
        for a in cls.__attrs_attrs__  # type: ignore[attr-defined]
        if a.name in WIRE_NAMES
    }
    return names | extra


def _wire_keys(cls: type) -> tuple[list[str], list[str]]:
    """The wire keys of a response model: required ones, then optional ones."""
    required: list[str] = []
    optional: list[str] = []
    for a in cls.__attrs_attrs__:  # type: ignore[attr-defined]
        if a.name != "extra_fields":
            keys = required if a.default is attrs.NOTHING else optional
            keys.append(WIRE_NAMES.get(a.name, a.name))
    return required, optional


def _register_response_model(conv: cattrs.Converter, cls: type[T]) -> None:
    overrides = _wire_overrides(cls, extra_fields=override(omit=True))
    # The quick function stops at the first misfit; only then does the
    # detailed one run, to report every misfit with its attribute.
    quick = make_dict_structure_fn(
        cls, conv, _cattrs_detailed_validation=False, **overrides
    )
    detailed = make_dict_structure_fn(cls, conv, **overrides)
    required, optional = _wire_keys(cls)
    every_key = tuple(required + optional)
    name = cls.__name__

    def structure(data: Any, _: object) -> T:
        if type(data) is not dict:
            raise _type_error(f"a JSON object for {name}", data)
        try:
            instance = quick(data, cls)
        except Exception:
            instance = detailed(data, cls)
        # Built, so every required key is there: any more keys are unknown.
        known = len(required)
        for key in optional:
            known += key in data
        if len(data) > known:
            extra = data.copy()
            for key in every_key:
                extra.pop(key, None)
            object.__setattr__(instance, "extra_fields", extra)
        return instance

    unstructure_known = make_dict_unstructure_fn(
        cls, conv, **_wire_overrides(cls, extra_fields=override(omit=True))
    )

    def unstructure(instance: Any) -> dict[str, Any]:
        wire = unstructure_known(instance)
        for key, value in instance.extra_fields.items():
            wire.setdefault(key, value)  # a known field always wins
        return wire

    conv.register_structure_hook(cls, structure)
    conv.register_unstructure_hook(cls, unstructure)


def _register_request_model(
    conv: cattrs.Converter, cls: type[Any], omit_if_default: Sequence[str] = ()
) -> None:
    omit = {
        n: override(rename=WIRE_NAMES.get(n), omit_if_default=True)
        for n in omit_if_default
    }
    conv.register_unstructure_hook(
        cls, make_dict_unstructure_fn(cls, conv, **_wire_overrides(cls, **omit))
    )
    base = make_dict_structure_fn(
        cls, conv, _cattrs_forbid_extra_keys=True, **_wire_overrides(cls)
    )

    def structure(data: Any, _: object) -> Any:
        if not isinstance(data, Mapping):
            raise _type_error(f"a JSON object for {cls.__name__}", data)
        return base(data, cls)

    conv.register_structure_hook(cls, structure)


def _is_json_object_type(tp: Any) -> bool:
    return bool(tp == dict[str, Any] or tp == Mapping[str, Any])


def _is_optional_field(tp: Any) -> bool:
    return get_origin(tp) in (Union, UnionType) and NotGiven in get_args(tp)


def _structure_given_factory(conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # ``X | NotGiven``: a key that is present always holds an X.
    def structure(value: Any, tp: Any) -> Any:
        given = tuple(a for a in get_args(tp) if a is not NotGiven)
        target = given[0] if len(given) == 1 else Union[given]  # noqa: UP007
        return conv.structure(value, cast(type[Any], target))

    return structure


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    hooks: dict[Any, Callable[[Any, Any], Any]] = {
        str: _structure_str,
        int: _structure_int,
        bool: _structure_bool,
        float: _structure_float,
        datetime: _structure_datetime,
    }
    for tp, hook in hooks.items():
        conv.register_structure_hook(tp, hook)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    # Templates are free-form JSON objects: checked at the top, passed through.
    conv.register_structure_hook_func(_is_json_object_type, _structure_object)
    conv.register_unstructure_hook_func(_is_json_object_type, _identity)
    conv.register_structure_hook_factory(_is_list_type, _strict_list_factory)
    conv.register_structure_hook_func(
        _is_optional_field, _structure_given_factory(conv)
    )

    _register_response_model(conv, ProjectSettingsResponse)
    _register_response_model(conv, ProjectResponse)
    _register_request_model(conv, CreateProjectRequest, ("owner_organization",))
    for cls in (UpdateProjectRequest, UpdateProjectSettingsRequest):
        fields = [a.name for a in cls.__attrs_attrs__]
        _register_request_model(conv, cls, fields)
    _register_request_model(conv, UpdateProjectTemplateRequest)
    return conv


converter = _make_converter()


def to_wire(model: object) -> dict[str, Any]:
    """Unstructure a model into its wire dict (camelCase keys)."""
    wire: dict[str, Any] = converter.unstructure(model)
    return wire


def from_wire(cls: type[T], data: Any) -> T:
    """Structure a wire value into ``cls``; raises cattrs errors on misfit."""
    return converter.structure(data, cls)


def dump_json(model: object) -> bytes:
    """Encode a request model as compact JSON, rejecting what JSON cannot carry."""
    try:
        text = json.dumps(
            to_wire(model), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
        return text.encode()  # a lone surrogate fails here
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"the request body is not valid JSON: {exc}") from exc
