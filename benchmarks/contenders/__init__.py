"""The contenders: each is one function ``(job, timed) -> items that succeeded``.

A contender imports its library only when it runs, in its own process, so
one library's imports never weigh on another's figures. Setup (client,
session, a warm-up call, test data) happens outside ``with timed:``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._run import Job, Timed

__all__ = ["CONTENDERS", "Contender"]

Run = Callable[["Job", "Timed"], int]


@dataclass(frozen=True)
class Contender:
    """A named way of doing a scenario's work, found as ``module:function``."""

    label: str
    target: str

    def load(self) -> Run:
        module, _, function = self.target.partition(":")
        run: Run = getattr(importlib.import_module(module, __name__), function)
        return run


CONTENDERS: dict[str, Contender] = {
    # Many duplicates at once (scenarios bulk, latency, memory).
    "nuextract-bulk": Contender("nuextract duplicate_many", ".ours:duplicate_many"),
    "nuextract-pool": Contender("nuextract duplicate, pool", ".ours:duplicate_pool"),
    "numind-async": Contender("numind async (aiohttp)", ".official:duplicate_pool"),
    "aiohttp-raw": Contender("raw aiohttp (floor)", ".floor:duplicate_pool"),
    # Sequential gets, one at a time (scenario sync).
    "nuextract-sync": Contender("nuextract_sync.NuExtract", ".ours:get_sync"),
    "nuextract-async-seq": Contender("nuextract async, awaited", ".ours:get_async"),
    "numind-sync": Contender("numind sync (urllib3)", ".official:get_sync"),
    "urllib3-raw": Contender("raw urllib3 (floor)", ".floor:get_sync"),
    # Project bodies into models, no network (scenario decode).
    "nuextract-decode": Contender("nuextract converter", ".ours:decode"),
    "nuextract-decode-extras": Contender(
        "nuextract converter, unknown keys", ".ours:decode_extras"
    ),
    "numind-decode": Contender("numind ProjectResponse", ".official:decode"),
    "numind-decode-extras": Contender(
        "numind ProjectResponse, unknown keys", ".official:decode_extras"
    ),
    "json-raw": Contender("json.loads only (floor)", ".floor:decode"),
}
