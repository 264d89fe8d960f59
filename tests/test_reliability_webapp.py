"""A web application holding one client for its lifetime, under load.

The app opens its ``AsyncNuExtract`` in a cleanup context and closes it on
shutdown, the way the README tells users to. 500 concurrent incoming
requests each call the API (the emulator, answering after 20 ms): every one
is served, all through the one session, and shutdown leaves nothing open.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from nuextract_async import AsyncNuExtract, NotFoundError
from nuextract_async.emulator import Faults, run_emulator

CLIENT = web.AppKey("nuextract", AsyncNuExtract)
SESSIONS = web.AppKey("sessions", set[aiohttp.ClientSession | None])
INCOMING = 500


def make_app(base_url: str) -> web.Application:
    async def nuextract(app: web.Application) -> AsyncIterator[None]:
        async with AsyncNuExtract(api_key="test-token", base_url=base_url) as client:
            app[CLIENT] = client
            yield

    async def show(request: web.Request) -> web.Response:
        client = request.app[CLIENT]
        try:
            project = await client.projects.get(request.match_info["id"])
        except NotFoundError:
            raise web.HTTPNotFound() from None
        request.app[SESSIONS].add(client._transport._session)
        return web.json_response({"id": project.id, "name": project.name})

    app = web.Application()
    app[SESSIONS] = set()
    app.cleanup_ctx.append(nuextract)
    app.router.add_get("/projects/{id}", show)
    return app


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_one_client_serves_500_concurrent_requests() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with run_emulator(faults=Faults(latency=0.02)) as emu:
            ids = [
                emu.store.add_project(owner_user="user-1", name=f"P{n}")["id"]
                for n in range(50)
            ]
            app = make_app(emu.base_url)
            runner, url = await _serve(app)
            try:
                connector = aiohttp.TCPConnector(limit=INCOMING)
                async with aiohttp.ClientSession(url, connector=connector) as users:

                    async def visit(n: int) -> tuple[int, dict[str, str]]:
                        async with users.get(f"/projects/{ids[n % 50]}") as answer:
                            return answer.status, await answer.json()

                    async with asyncio.timeout(60):
                        served = await asyncio.gather(*map(visit, range(INCOMING)))
                        async with users.get("/projects/missing") as missing:
                            assert missing.status == 404
                client = app[CLIENT]
                assert not client.is_closed
            finally:
                await runner.cleanup()

            requests = emu.stats.requests["get"]
        gc.collect()

    assert [status for status, _ in served] == [200] * INCOMING
    assert [body["id"] for _, body in served] == [ids[n % 50] for n in range(INCOMING)]
    assert requests == INCOMING + 1
    (session,) = app[SESSIONS]  # the objects are kept, so one means one
    assert session is not None
    assert session.closed
    assert client.is_closed
    assert not client._transport.owns_open_session
    assert [str(w.message) for w in caught] == []
