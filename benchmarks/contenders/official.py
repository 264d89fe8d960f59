"""The official ``numind`` SDK: its aiohttp client, urllib3 client and models."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ._common import project_bodies, run_pool

if TYPE_CHECKING:
    from .._run import Job, Timed


def duplicate_pool(job: Job, timed: Timed) -> int:
    from numind.openapi_client_async import (
        ApiClient,
        Configuration,
        ProjectManagementApi,
    )

    async def run() -> int:
        configuration = Configuration(host=job.base_url, access_token=job.token)
        async with ApiClient(configuration) as client:
            api = ProjectManagementApi(client)
            await api.get_api_projects_projectid(job.project_id)
            with timed:
                return await run_pool(
                    job.count,
                    job.concurrency,
                    lambda: api.post_api_projects_projectid_duplicate(job.project_id),
                )

    return asyncio.run(run())


def get_sync(job: Job, timed: Timed) -> int:
    from numind.openapi_client import ApiClient, Configuration, ProjectManagementApi

    client = ApiClient(Configuration(host=job.base_url, access_token=job.token))
    try:
        api = ProjectManagementApi(client)
        api.get_api_projects_projectid(job.project_id)
        with timed:
            for _ in range(job.count):
                api.get_api_projects_projectid(job.project_id)
    finally:
        client.rest_client.pool_manager.clear()
    return job.count


def _decode(job: Job, timed: Timed, *, extras: bool) -> int:
    from numind.models import ProjectResponse

    bodies = project_bodies(job.count, extras=extras)
    with timed:
        for body in bodies:
            ProjectResponse.from_json(body)
    return len(bodies)


def decode(job: Job, timed: Timed) -> int:
    return _decode(job, timed, extras=False)


def decode_extras(job: Job, timed: Timed) -> int:
    return _decode(job, timed, extras=True)
