"""What every contender shares: the worker pool and the test bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["project_bodies", "run_pool"]


async def run_pool(
    count: int, concurrency: int, call: Callable[[], Awaitable[object]]
) -> int:
    """Await ``call()`` ``count`` times with ``concurrency`` workers."""
    remaining = count
    done = 0

    async def worker() -> None:
        nonlocal remaining, done
        while remaining > 0:
            remaining -= 1
            await call()
            done += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, count)):
            group.create_task(worker())
    return done


def project_bodies(count: int, *, extras: bool = False) -> list[bytes]:
    """``count`` JSON project bodies as the emulator sends them, ids differing.

    With ``extras``, each also carries keys the models do not declare (at
    the top and in its settings), as a newer service might.
    """
    from nuextract_async.emulator import TEMPLATES, Store

    record: dict[str, Any] = Store().add_project(
        owner_user="user-1",
        owner_organization="org-1",
        name="Order delivery",
        description="Orders and their delivery",
        template=TEMPLATES["order-delivery"],
    )
    if extras:
        record["examplesCount"] = 12
        record["lastExtractionAt"] = record["updatedAt"]
        record["tags"] = ["orders", "delivery"]
        record["settings"] = {**record["settings"], "modelVersion": "2.1"}
    bodies = []
    for number in range(count):
        record["id"] = f"{number:08d}-0000-4000-8000-000000000000"
        bodies.append(json.dumps(record).encode())
    return bodies
