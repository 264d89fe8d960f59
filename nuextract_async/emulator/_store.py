"""The in-memory project store, holding projects in their wire shape."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_SETTINGS", "Store", "timestamp"]

DEFAULT_SETTINGS: Mapping[str, Any] = {
    "temperature": 0.0,
    "rasterizationDPI": 115,
    "maxOutputTokens": 0,
    "degradedMode": "Reject",
    "maxTokensSmartExample": 16000,
}

_UNNAMEABLE = frozenset({"", ".", ".."})


def timestamp() -> str:
    """Return the current UTC time as ISO-8601 with microseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """Projects by id, in insertion order.

    ``records`` holds the live wire-shape dicts the emulator answers with;
    the public methods hand out deep copies, so tests cannot change the
    store behind its back.
    """

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, project_id: object) -> bool:
        return project_id in self.records

    def insert(
        self,
        *,
        owner_user: str,
        owner_organization: str | None,
        name: str,
        description: str,
        template: dict[str, Any],
        settings: dict[str, Any],
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a new, unlocked, unshared project and return its live record."""
        if project_id is None:
            project_id = str(uuid.uuid4())
        elif project_id in _UNNAMEABLE:
            raise ValueError(f"{project_id!r} can never name a project")
        if project_id in self.records:
            raise ValueError(f"a project with id {project_id!r} already exists")

        now = timestamp()
        record = {
            "id": project_id,
            "name": name,
            "description": description,
            "template": template,
            "ownerUser": owner_user,
            "ownerOrganization": owner_organization,
            "createdAt": now,
            "updatedAt": now,
            "lockState": False,
            "shared": False,
            "settings": settings,
        }
        self.records[project_id] = record
        return record

    def add_project(
        self,
        *,
        owner_user: str,
        name: str = "Project",
        template: Mapping[str, Any] | None = None,
        description: str = "",
        owner_organization: str | None = None,
        locked: bool = False,
        shared: bool = False,
        settings: Mapping[str, Any] | None = None,
        project_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Seed a project directly (no request, no stats) and return a copy.

        ``settings`` is merged over the defaults without validation, and
        ``extra`` adds top-level keys, so a test can serve keys the contract
        does not know yet.
        """
        record = self.insert(
            owner_user=owner_user,
            owner_organization=owner_organization,
            name=name,
            description=description,
            template=copy.deepcopy(dict(template or {})),
            settings={**DEFAULT_SETTINGS, **copy.deepcopy(dict(settings or {}))},
            project_id=project_id,
        )
        record["lockState"] = locked
        record["shared"] = shared
        if extra:
            record.update(copy.deepcopy(dict(extra)))
        return copy.deepcopy(record)

    def get(self, project_id: str) -> dict[str, Any] | None:
        """Return a copy of one project, or None."""
        record = self.records.get(project_id)
        return None if record is None else copy.deepcopy(record)

    def projects(self) -> list[dict[str, Any]]:
        """Return copies of every project, oldest first."""
        return [copy.deepcopy(record) for record in self.records.values()]

    def clear(self) -> None:
        """Forget every project."""
        self.records.clear()
