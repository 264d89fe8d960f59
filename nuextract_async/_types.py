"""Small shared types: the "not given" sentinel and the timeout argument."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias

__all__ = ["NOT_GIVEN", "NotGiven", "Timeout"]


class NotGiven(enum.Enum):
    """Marks an argument the caller left out, as distinct from ``None``."""

    NOT_GIVEN = enum.auto()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
NotGivenType: TypeAlias = Literal[NotGiven.NOT_GIVEN]

#: A per-call ``timeout=``: seconds, ``None`` for no limit, or left out to use
#: the client's.
Timeout: TypeAlias = float | NotGiven | None
