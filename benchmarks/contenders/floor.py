"""The floors: plain aiohttp, plain urllib3 and ``json.loads``, nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from ._common import project_bodies, run_pool

if TYPE_CHECKING:
    from .._run import Job, Timed


def duplicate_pool(job: Job, timed: Timed) -> int:
    import aiohttp

    headers = {"Authorization": f"Bearer {job.token}"}
    project = f"{job.base_url}/api/projects/{job.project_id}"
    url = f"{project}/duplicate"

    async def run() -> int:
        connector = aiohttp.TCPConnector(limit=job.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def duplicate() -> None:
                async with session.post(url, headers=headers) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"status {response.status}")
                    json.loads(body)

            async with session.get(project, headers=headers) as response:
                await response.read()
            with timed:
                return await run_pool(job.count, job.concurrency, duplicate)

    return asyncio.run(run())


def get_sync(job: Job, timed: Timed) -> int:
    import urllib3

    headers = {"Authorization": f"Bearer {job.token}"}
    url = f"{job.base_url}/api/projects/{job.project_id}"
    with urllib3.PoolManager(maxsize=1) as pool:
        pool.request("GET", url, headers=headers)
        with timed:
            for _ in range(job.count):
                response = pool.request("GET", url, headers=headers)
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
                json.loads(response.data)
    return job.count


def decode(job: Job, timed: Timed) -> int:
    bodies = project_bodies(job.count)
    with timed:
        for body in bodies:
            json.loads(body)
    return len(bodies)
