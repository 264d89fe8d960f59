"""This project's client: the async one, its bulk engine, the sync facade."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from nuextract_async import AsyncNuExtract

from ._common import project_bodies, run_pool

if TYPE_CHECKING:
    from .._run import Job, Timed


def _client(job: Job) -> AsyncNuExtract:
    return AsyncNuExtract(api_key=job.token, base_url=job.base_url)


def duplicate_many(job: Job, timed: Timed) -> int:
    async def run() -> int:
        ok = 0
        async with _client(job) as client:
            await client.projects.get(job.project_id)
            with timed:
                async with client.projects.duplicate_many(
                    [job.project_id], copies=job.count, concurrency=job.concurrency
                ) as outcomes:
                    async for outcome in outcomes:
                        ok += outcome.ok
        return ok

    return asyncio.run(run())


def duplicate_pool(job: Job, timed: Timed) -> int:
    async def run() -> int:
        async with _client(job) as client:
            await client.projects.get(job.project_id)
            with timed:
                return await run_pool(
                    job.count,
                    job.concurrency,
                    lambda: client.projects.duplicate(job.project_id),
                )

    return asyncio.run(run())


def get_async(job: Job, timed: Timed) -> int:
    async def run() -> int:
        async with _client(job) as client:
            await client.projects.get(job.project_id)
            with timed:
                for _ in range(job.count):
                    await client.projects.get(job.project_id)
        return job.count

    return asyncio.run(run())


def get_sync(job: Job, timed: Timed) -> int:
    from nuextract_sync import NuExtract

    with NuExtract(api_key=job.token, base_url=job.base_url) as client:
        client.projects.get(job.project_id)
        with timed:
            for _ in range(job.count):
                client.projects.get(job.project_id)
    return job.count


def _decode(job: Job, timed: Timed, *, extras: bool) -> int:
    from nuextract_async._operations import OPERATIONS, build_request
    from nuextract_async._projects import decode_answer

    bodies = project_bodies(job.count, extras=extras)
    request = build_request(OPERATIONS["get"], "p")
    url = "http://127.0.0.1/api/projects/p"
    with timed:
        for body in bodies:
            decode_answer(request, url, 200, body)
    return len(bodies)


def decode(job: Job, timed: Timed) -> int:
    return _decode(job, timed, extras=False)


def decode_extras(job: Job, timed: Timed) -> int:
    return _decode(job, timed, extras=True)
