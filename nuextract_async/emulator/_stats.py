"""Counters of what the emulator actually did."""

from __future__ import annotations

from typing import Any

import attrs

from ._faults import FAULT_KINDS, OPERATIONS

__all__ = ["Stats"]


def _per_operation() -> dict[str, int]:
    return dict.fromkeys(OPERATIONS, 0)


def _per_kind() -> dict[str, int]:
    return dict.fromkeys(FAULT_KINDS, 0)


@attrs.define
class Stats:
    """What the emulator did since it started (or since :meth:`reset`).

    ``created`` and ``duplicated`` count changes the store applied, so a
    request dropped after handling counts and one dropped before does not.
    ``requests`` counts every request routed to an operation, ``responses``
    every answer sent, by status.
    """

    created: int = 0
    duplicated: dict[str, int] = attrs.Factory(dict)
    deleted: int = 0
    requests: dict[str, int] = attrs.Factory(_per_operation)
    responses: dict[int, int] = attrs.Factory(dict)
    faults: dict[str, int] = attrs.Factory(_per_kind)
    faults_by_operation: dict[str, dict[str, int]] = attrs.Factory(dict)

    @property
    def duplicated_total(self) -> int:
        """All copies made, whatever their source."""
        return sum(self.duplicated.values())

    def count_fault(self, kind: str, operation: str) -> None:
        """Record one injected fault."""
        self.faults[kind] += 1
        by_kind = self.faults_by_operation.get(operation)
        if by_kind is None:
            by_kind = self.faults_by_operation[operation] = _per_kind()
        by_kind[kind] += 1

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.created = self.deleted = 0
        self.duplicated = {}
        self.requests = _per_operation()
        self.responses = {}
        self.faults = _per_kind()
        self.faults_by_operation = {}

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as plain, JSON-ready dicts."""
        return {
            "created": self.created,
            "duplicated": dict(self.duplicated),
            "duplicated_total": self.duplicated_total,
            "deleted": self.deleted,
            "requests": dict(self.requests),
            "responses": {str(k): v for k, v in sorted(self.responses.items())},
            "faults": dict(self.faults),
            "faults_by_operation": {
                op: dict(kinds) for op, kinds in self.faults_by_operation.items()
            },
        }
