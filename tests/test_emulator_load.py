"""Many concurrent requests from one session: every one is answered correctly."""

from __future__ import annotations

import asyncio

import aiohttp

from nuextract_async.emulator import run_emulator

AUTH = {"Authorization": "Bearer test-token"}
REQUESTS = 2000


async def test_two_thousand_concurrent_requests() -> None:
    async with run_emulator() as emu:
        pid = emu.store.add_project(owner_user="user-1", name="Orders")["id"]
        url = emu.base_url + "/api/projects"
        connector = aiohttp.TCPConnector(limit=100)

        async with aiohttp.ClientSession(connector=connector, headers=AUTH) as session:

            async def one(n: int) -> int:
                if n % 4 == 0:
                    request = session.post(f"{url}/{pid}/duplicate")
                elif n % 4 == 1:
                    request = session.get(f"{url}/{pid}")
                elif n % 4 == 2:
                    body = {"name": f"p{n}", "description": "", "template": {}}
                    request = session.post(url, json=body)
                else:
                    request = session.patch(
                        f"{url}/{pid}/settings", json={"maxOutputTokens": n}
                    )
                async with request as response:
                    await response.read()
                    return response.status

            async with asyncio.timeout(60):
                statuses = await asyncio.gather(*(one(n) for n in range(REQUESTS)))

    assert statuses == [200] * REQUESTS
    assert emu.stats.responses == {200: REQUESTS}
    assert emu.stats.duplicated == {pid: REQUESTS // 4}
    assert emu.stats.created == REQUESTS // 4
    assert len(emu.store) == 1 + REQUESTS // 2
    assert sum(emu.stats.requests.values()) == REQUESTS
