"""Fault injection: what to break, and the seeded decision for each request.

Determinism: the n-th request (counting from 0 since the faults were set) of
an operation gets its faults from a BLAKE2b digest of ``seed``, the operation
name and n. Each fault kind reads its own 64 bits of that digest, so the same
sequence of requests to the same operations meets the same faults, the order
of different operations relative to each other does not matter, and changing
one rate does not move the requests another kind hits.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any, NamedTuple

import attrs

__all__ = ["FAULT_KINDS", "OPERATIONS", "Decision", "Faults", "decide"]

OPERATIONS: tuple[str, ...] = (
    "list",
    "create",
    "get",
    "update",
    "delete",
    "update_settings",
    "replace_template",
    "reset_settings",
    "duplicate",
    "lock",
    "unlock",
    "share",
    "unshare",
)

FAULT_KINDS: tuple[str, ...] = (
    "drop_before",
    "rate_503",
    "rate_429",
    "slow",
    "drop_after",
)


def _to_operations(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = frozenset(name.strip() for name in value if name.strip())
    unknown = names.difference(OPERATIONS)
    if unknown:
        raise ValueError(f"unknown operations: {', '.join(sorted(unknown))}")
    return names


def _fraction(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within 0..1, got {value!r}")


def _seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be >= 0 seconds, got {value!r}")


def _header_value(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError(f"{attribute.name} must fit in one header line")


@attrs.frozen
class Faults:
    """What the emulator breaks, and how often.

    Rates are fractions of the requests of the chosen ``operations`` (all of
    them when None). ``latency`` delays every such request before it is
    handled; ``slow_seconds`` delays a ``slow_rate`` share of the answers
    after the request was handled. ``drop_before`` closes the connection
    without handling the request; ``drop_after`` handles it (the store
    changes) and then closes the connection without answering. 503 and 429
    answers carry ``Retry-After: <retry_after>`` unless it is None.
    """

    latency: float = attrs.field(default=0.0, validator=_seconds)
    rate_503: float = attrs.field(default=0.0, validator=_fraction)
    rate_429: float = attrs.field(default=0.0, validator=_fraction)
    retry_after: str | None = attrs.field(default="0", validator=_header_value)
    drop_before: float = attrs.field(default=0.0, validator=_fraction)
    drop_after: float = attrs.field(default=0.0, validator=_fraction)
    slow_rate: float = attrs.field(default=0.0, validator=_fraction)
    slow_seconds: float = attrs.field(default=0.0, validator=_seconds)
    operations: frozenset[str] | None = attrs.field(
        default=None, converter=_to_operations
    )
    seed: int = 0

    @property
    def active(self) -> bool:
        """Whether any request can be delayed or broken at all."""
        return bool(
            self.latency
            or self.rate_503
            or self.rate_429
            or self.drop_before
            or self.drop_after
            or self.slow_rate
        )

    def applies_to(self, operation: str) -> bool:
        """Whether these faults cover ``operation``."""
        return self.operations is None or operation in self.operations


class Decision(NamedTuple):
    """The faults one request meets."""

    drop_before: bool
    status: int | None
    slow: bool
    drop_after: bool


NO_FAULT = Decision(False, None, False, False)

_SCALE = 2.0**-64


def decide(faults: Faults, operation: str, index: int) -> Decision:
    """Return the faults of the ``index``-th request of ``operation``."""
    key = f"{faults.seed}:{operation}:{index}".encode()
    digest = hashlib.blake2b(key, digest_size=40).digest()
    draws = [int.from_bytes(digest[i : i + 8], "big") * _SCALE for i in range(0, 40, 8)]

    if draws[0] < faults.drop_before:
        return Decision(True, None, False, False)
    if draws[1] < faults.rate_503:
        return Decision(False, 503, False, False)
    if draws[2] < faults.rate_429:
        return Decision(False, 429, False, False)
    return Decision(
        False, None, draws[3] < faults.slow_rate, draws[4] < faults.drop_after
    )
