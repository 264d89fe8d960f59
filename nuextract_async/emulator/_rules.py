"""The rules of the project API, without I/O: who may do what, and what it does.

Checks run in this order: the body or query (400), the project id (404), the
caller's rights (403 Forbidden), the lock (403 Locked).

Choices where the contract is silent:

- a personal project belongs to its owner user, an organization project to
  the organization's members; administrators may read and change anything,
  and a lock stops them too (they may unlock);
- lock and unlock need the right to change the project; share and unshare
  are for administrators only, and a 404 comes before that 403;
- unknown keys in request bodies are ignored, a key sent as JSON null counts
  as left out, request Content-Type is not checked, and a bool is never a
  number;
- ``reference`` must be exactly ``true`` or ``false``;
- a copy made without ``organizationId`` is personal, so a copy of an
  organization project made that way keeps its name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._faults import OPERATIONS
from ._identity import Identity
from ._stats import Stats
from ._store import DEFAULT_SETTINGS, Store, timestamp

__all__ = [
    "BAD_BODY",
    "BAD_PROJECT_ID",
    "BAD_REFERENCE",
    "ApiError",
    "Rules",
    "decode_object",
]

BAD_BODY = "Invalid value for: body"
BAD_REFERENCE = "Invalid value for: query parameter reference"
BAD_PROJECT_ID = "Invalid value for: path parameter projectId"

_INT32_MAX = 2**31 - 1

_T = TypeVar("_T")

Handler = Callable[[Identity, str, Mapping[str, str], bytes], Any]


class ApiError(Exception):
    """An error answer: a JSON ``{code, message}``, or plain text when no code."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _bad_body() -> ApiError:
    return ApiError(400, None, BAD_BODY)


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON text but overflows to inf, which JSON cannot carry
    # back out: refuse it, as a number out of range.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a request body that must be one JSON object, or raise a 400."""
    try:
        value = json.loads(
            body.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except (ValueError, RecursionError):
        raise _bad_body() from None
    if type(value) is not dict:
        raise _bad_body()
    return value


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and type(value) is not str:
        raise _bad_body()
    return value


def _template(data: dict[str, Any]) -> dict[str, Any] | None:
    value = data.get("template")
    if value is not None and type(value) is not dict:
        raise _bad_body()
    return value


def _required(value: _T | None) -> _T:
    if value is None:
        raise _bad_body()
    return value


def _int_within(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and low <= value <= high


def _temperature(value: Any) -> bool:
    return type(value) in (int, float) and 0 <= value <= 1


# rasterizationDPI must also be positive, and every int fits in 32 bits:
# emulator choices, the contract names no lower bound and no ceiling.
_SETTINGS: Mapping[str, Callable[[Any], bool]] = {
    "temperature": _temperature,
    "rasterizationDPI": _int_within(1, 300),
    "maxOutputTokens": _int_within(0, _INT32_MAX),
    "degradedMode": lambda value: type(value) is str,
    "maxTokensSmartExample": _int_within(0, 32000),
}


def _member(who: Identity, organization: str) -> bool:
    return who.admin or organization in who.organizations


def _owns(who: Identity, record: dict[str, Any]) -> bool:
    organization = record["ownerOrganization"]
    if organization is None:
        return bool(record["ownerUser"] == who.user_id)
    return organization in who.organizations


class Rules:
    """The 13 operations over a :class:`Store`, counting into :class:`Stats`.

    Each operation takes the caller, the decoded project id, the query and
    the raw body, and returns the JSON payload (None for an empty body).
    """

    def __init__(self, store: Store, stats: Stats) -> None:
        self.store = store
        self.stats = stats
        self.operations: dict[str, Handler] = {
            name: getattr(self, "_" + name) for name in OPERATIONS
        }

    def _find(self, project_id: str) -> dict[str, Any]:
        record = self.store.records.get(project_id)
        if record is None:
            raise ApiError(404, "NotFound", f"Project not found: {project_id}")
        return record

    def _readable(self, who: Identity, project_id: str) -> dict[str, Any]:
        record = self._find(project_id)
        if not (who.admin or record["shared"] or _owns(who, record)):
            raise _forbidden("You do not have access to this project")
        return record

    def _writable(
        self, who: Identity, project_id: str, *, even_locked: bool = False
    ) -> dict[str, Any]:
        record = self._find(project_id)
        if not who.admin:
            if record["shared"]:
                raise _forbidden("Only administrators may change a reference project")
            if not _owns(who, record):
                raise _forbidden("You do not have access to this project")
        if record["lockState"] and not even_locked:
            raise ApiError(403, "Locked", "Project is locked")
        return record

    def _list(
        self, who: Identity, _: str, query: Mapping[str, str], body: bytes
    ) -> list[dict[str, Any]]:
        reference = query.get("reference")
        if reference is not None and reference not in ("true", "false"):
            raise ApiError(400, None, BAD_REFERENCE)

        records = self.store.records.values()
        if reference == "true":
            return [p for p in records if p["shared"]]

        organization = query.get("organizationId")
        if organization is None:
            user = who.user_id
            return [
                p
                for p in records
                if p["ownerOrganization"] is None and p["ownerUser"] == user
            ]
        if not _member(who, organization):
            raise _forbidden(f"You are not a member of organization {organization}")
        return [p for p in records if p["ownerOrganization"] == organization]

    def _create(
        self, who: Identity, _: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        data = decode_object(body)
        name = _required(_text(data, "name"))
        description = _required(_text(data, "description"))
        template = _required(_template(data))
        organization = _text(data, "ownerOrganization")

        if organization is not None and not _member(who, organization):
            raise _forbidden(f"You are not a member of organization {organization}")

        record = self.store.insert(
            owner_user=who.user_id,
            owner_organization=organization,
            name=name,
            description=description,
            template=template,
            settings=dict(DEFAULT_SETTINGS),
        )
        self.stats.created += 1
        return record

    def _get(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        return self._readable(who, project_id)

    def _update(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        data = decode_object(body)
        changes: dict[str, Any] = {}
        for key in ("name", "description"):
            value = _text(data, key)
            if value is not None:
                changes[key] = value
        template = _template(data)
        if template is not None:
            changes["template"] = template

        record = self._writable(who, project_id)
        record.update(changes)
        record["updatedAt"] = timestamp()
        return record

    def _delete(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> None:
        self._writable(who, project_id)
        del self.store.records[project_id]
        self.stats.deleted += 1

    def _update_settings(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        data = decode_object(body)
        changes: dict[str, Any] = {}
        for key, valid in _SETTINGS.items():
            value = data.get(key)
            if value is None:
                continue
            if not valid(value):
                raise _bad_body()
            changes[key] = value

        record = self._writable(who, project_id)
        record["settings"].update(changes)
        record["updatedAt"] = timestamp()
        return record

    def _replace_template(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        template = _required(_template(decode_object(body)))

        record = self._writable(who, project_id)
        record["template"] = template
        record["updatedAt"] = timestamp()
        return record

    def _reset_settings(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        record = self._writable(who, project_id)
        record["settings"] = dict(DEFAULT_SETTINGS)
        record["updatedAt"] = timestamp()
        return record

    def _duplicate(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        source = self._readable(who, project_id)
        target = query.get("organizationId")
        if target is not None and not _member(who, target):
            raise _forbidden(f"You are not a member of organization {target}")

        name = source["name"]
        if target == source["ownerOrganization"]:
            name += " (copy)"
        # Templates are only ever replaced whole, never changed in place, so
        # the copy may share the source's template object.
        record = self.store.insert(
            owner_user=who.user_id,
            owner_organization=target,
            name=name,
            description=source["description"],
            template=source["template"],
            settings=dict(source["settings"]),
        )
        duplicated = self.stats.duplicated
        duplicated[project_id] = duplicated.get(project_id, 0) + 1
        return record

    def _set_lock(self, who: Identity, project_id: str, locked: bool) -> None:
        record = self._writable(who, project_id, even_locked=True)
        record["lockState"] = locked
        record["updatedAt"] = timestamp()

    def _lock(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> None:
        self._set_lock(who, project_id, True)

    def _unlock(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> None:
        self._set_lock(who, project_id, False)

    def _set_shared(self, who: Identity, project_id: str, shared: bool) -> None:
        record = self._find(project_id)
        if not who.admin:
            raise _forbidden("Only administrators may share or unshare projects")
        record["shared"] = shared
        record["updatedAt"] = timestamp()

    def _share(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> None:
        self._set_shared(who, project_id, True)

    def _unshare(
        self, who: Identity, project_id: str, query: Mapping[str, str], body: bytes
    ) -> None:
        self._set_shared(who, project_id, False)
