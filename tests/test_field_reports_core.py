"""Field reports C01, C02, C07, C08 and C11-C17 against the client core."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
import pytest_asyncio
from aiohttp import web
from core_support import API, client, loopback_server, mocked_api, project_wire

from nuextract_async import (
    AsyncNuExtract,
    ClientClosedError,
    ProjectResponse,
    UpdateProjectSettingsRequest,
)
from nuextract_async._converter import from_wire, to_wire
from nuextract_async.emulator import Identity, RunningEmulator, run_emulator

C01_IDS = ["a/b", "x?y=1", "q#f", "s p", "é", "100%"]
C01_SEGMENTS = ["a%2Fb", "x%3Fy%3D1", "q%23f", "s%20p", "%C3%A9", "100%25"]


class Recorder:
    """A project server that notes what each request looked like on arrival."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/projects", self.handle)
        app.router.add_get("/api/projects/{project_id}", self.handle)
        app.router.add_delete("/api/projects/{project_id}", self.handle)
        app.router.add_post("/api/projects/{project_id}/lock", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "project_id": request.match_info.get("project_id"),
                "query": dict(request.query),
            }
        )
        if request.method != "GET":
            return web.Response()
        if "project_id" in request.match_info:
            return web.json_response(project_wire(id=request.match_info["project_id"]))
        return web.json_response([])


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, AsyncNuExtract]]:
    recording = Recorder()
    runner = web.AppRunner(recording.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with client(base_url=url) as nuextract:
            yield recording, nuextract
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("project_id", "segment"), list(zip(C01_IDS, C01_SEGMENTS, strict=True))
)
async def test_c01_ids_arrive_as_one_segment(
    recorder: tuple[Recorder, AsyncNuExtract], project_id: str, segment: str
) -> None:
    recording, nuextract = recorder

    project = await nuextract.projects.get(project_id)
    await nuextract.projects.delete(project_id)
    await nuextract.projects.lock(project_id)

    assert project.id == project_id
    assert recording.seen == [
        {
            "method": "GET",
            "raw_path": f"/api/projects/{segment}",
            "project_id": project_id,
            "query": {},
        },
        {
            "method": "DELETE",
            "raw_path": f"/api/projects/{segment}",
            "project_id": project_id,
            "query": {},
        },
        {
            "method": "POST",
            "raw_path": f"/api/projects/{segment}/lock",
            "project_id": project_id,
            "query": {},
        },
    ]


async def test_c02_reference_is_sent_lowercase(
    recorder: tuple[Recorder, AsyncNuExtract],
) -> None:
    recording, nuextract = recorder

    await nuextract.projects.list(reference=False)
    await nuextract.projects.list(reference=True)
    await nuextract.projects.list("org:1", reference=False)

    assert [seen["raw_path"] for seen in recording.seen] == [
        "/api/projects?reference=false",
        "/api/projects?reference=true",
        "/api/projects?organizationId=org%3A1&reference=false",
    ]
    assert recording.seen[2]["query"] == {
        "organizationId": "org:1",
        "reference": "false",
    }


async def test_c07_cancelled_calls_free_their_connection_slots() -> None:
    stop = asyncio.Event()
    in_flight = 0
    two_hung = asyncio.Event()
    pair_arrived = asyncio.Event()
    mode = "hang"

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight
        if mode == "hang":
            in_flight += 1
            if in_flight == 2:
                two_hung.set()
            await stop.wait()
        elif mode == "pair":
            in_flight += 1
            if in_flight == 2:
                pair_arrived.set()
            await pair_arrived.wait()
        return web.json_response(project_wire())

    async with loopback_server(handler) as url:
        try:
            async with client(base_url=url, max_connections=2) as nuextract:
                tasks = [
                    asyncio.create_task(nuextract.projects.get(f"p-{n}"))
                    for n in range(5)
                ]
                async with asyncio.timeout(5):
                    await two_hung.wait()
                await asyncio.sleep(0.05)
                for task in tasks:
                    task.cancel()
                outcomes = await asyncio.gather(*tasks, return_exceptions=True)
                hung_requests = in_flight

                mode = "fast"
                async with asyncio.timeout(5):
                    after = await nuextract.projects.get("p-1")
                    mode, in_flight = "pair", 0
                    both = await asyncio.gather(
                        nuextract.projects.get("p-2"), nuextract.projects.get("p-3")
                    )
        finally:
            stop.set()
        gc.collect()

    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert hung_requests == 2
    assert after.id == "p-1"
    assert [p.id for p in both] == ["p-1", "p-1"]


def _list_twice_with_asyncio_run(nuextract: AsyncNuExtract) -> list[int]:
    counts = [len(asyncio.run(nuextract.projects.list())) for _ in range(2)]
    asyncio.run(nuextract.aclose())
    return counts


def test_c08_client_built_in_sync_code_works_across_asyncio_runs(
    nuextract_emulator_thread: RunningEmulator,
) -> None:
    emu = nuextract_emulator_thread
    emu.store.add_project(owner_user="user-1", name="Mine")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nuextract = AsyncNuExtract(api_key="test-token", base_url=emu.base_url)
        counts = _list_twice_with_asyncio_run(nuextract)
        del nuextract
        gc.collect()

    assert counts == [1, 1]
    assert [str(w.message) for w in caught] == []


def test_c08_a_loop_still_in_use_gets_a_clear_error(
    nuextract_emulator_thread: RunningEmulator,
) -> None:
    emu = nuextract_emulator_thread
    nuextract = AsyncNuExtract(api_key="test-token", base_url=emu.base_url)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with asyncio.Runner() as first:
            first.run(nuextract.projects.list())
            with pytest.raises(ClientClosedError, match="another event loop"):
                asyncio.run(nuextract.projects.list())
        after_first_closed = asyncio.run(nuextract.projects.list())
        asyncio.run(nuextract.aclose())

    assert after_first_closed == []
    assert [str(w.message) for w in caught] == []


def test_c11_owner_organization_missing_or_null() -> None:
    missing = {k: v for k, v in project_wire().items() if k != "ownerOrganization"}

    assert from_wire(ProjectResponse, missing).owner_organization is None
    assert from_wire(ProjectResponse, project_wire()).owner_organization is None
    assert (
        from_wire(
            ProjectResponse, project_wire(ownerOrganization="org-1")
        ).owner_organization
        == "org-1"
    )


async def test_c12_partial_updates_send_only_what_was_given() -> None:
    with mocked_api() as mocked:
        mocked.patch(re.compile(".*"), body=json.dumps(project_wire()), repeat=True)
        async with client() as nuextract:
            await nuextract.projects.update("p-1", name="Renamed")
            await nuextract.projects.update("p-1", description="")

        bodies = [c.kwargs["data"] for calls in mocked.requests.values() for c in calls]

    assert bodies == [b'{"name":"Renamed"}', b'{"description":""}']


C13_BODY = project_wire(
    archived=False,
    settings=project_wire()["settings"] | {"enableThinking": True},
)


def test_c13_unknown_keys_are_kept_and_written_back() -> None:
    project = from_wire(ProjectResponse, C13_BODY)

    assert project.extra_fields == {"archived": False}
    assert project.settings.extra_fields == {"enableThinking": True}
    assert to_wire(project) == C13_BODY


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        (
            "2026-12-04T15:28:47.976578Z",
            datetime(2026, 12, 4, 15, 28, 47, 976578, tzinfo=UTC),
        ),
        ("2026-12-04T15:28:47Z", datetime(2026, 12, 4, 15, 28, 47, tzinfo=UTC)),
        (
            "2026-12-04T15:28:47+02:00",
            datetime(2026, 12, 4, 13, 28, 47, tzinfo=UTC),
        ),
        # RFC 3339 allows lowercase "t" and "z".
        ("2026-12-04t15:28:47z", datetime(2026, 12, 4, 15, 28, 47, tzinfo=UTC)),
    ],
)
def test_c14_datetimes_are_aware_instants(text: str, instant: datetime) -> None:
    project = from_wire(ProjectResponse, project_wire(createdAt=text))

    written = to_wire(project)["createdAt"]

    assert project.created_at.tzinfo is not None
    assert project.created_at == instant
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?(Z|[+-]\d\d:\d\d)", written
    )
    assert datetime.fromisoformat(written) == instant
    assert from_wire(ProjectResponse, project_wire(createdAt=written)) == project


def test_c14_utc_is_written_with_z() -> None:
    project = from_wire(ProjectResponse, project_wire())
    zones = [UTC, timezone(timedelta(0)), timezone(timedelta(hours=-3))]

    written = [
        to_wire(attrs.evolve(project, created_at=datetime(2026, 1, 1, tzinfo=zone)))
        for zone in zones
    ]

    assert [w["createdAt"] for w in written] == [
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00-03:00",
    ]


def test_c15_rasterization_dpi_keeps_its_capitals() -> None:
    project = from_wire(ProjectResponse, project_wire())
    request = UpdateProjectSettingsRequest(rasterization_dpi=300)

    assert project.settings.rasterization_dpi == 115
    assert "rasterizationDPI" in to_wire(project)["settings"]
    assert to_wire(request) == {"rasterizationDPI": 300}
    assert "rasterizationDpi" not in json.dumps(to_wire(project))


async def _list_org_1(nuextract: AsyncNuExtract) -> list[ProjectResponse]:
    projects = await nuextract.projects.list("org:1")
    assert [(p.name, p.owner_organization) for p in projects] == [("Shared", "org:1")]
    return projects


async def test_c16_organization_listing_matches_the_mock() -> None:
    with mocked_api() as mocked:
        mocked.get(
            API + "/api/projects?organizationId=org:1",
            payload=[project_wire(name="Shared", ownerOrganization="org:1")],
        )
        async with client() as nuextract:
            await _list_org_1(nuextract)


async def test_c16_organization_listing_passes_on_the_emulator() -> None:
    member = {"org-token": Identity("user-9", frozenset({"org:1"}))}
    async with run_emulator(identities=member) as emu:
        emu.store.add_project(
            owner_user="user-9", owner_organization="org:1", name="Shared"
        )
        emu.store.add_project(owner_user="user-9", name="Personal")
        async with AsyncNuExtract(
            api_key="org-token", base_url=emu.base_url
        ) as nuextract:
            await _list_org_1(nuextract)


async def test_c13_extra_keys_survive_the_emulator_round_trip() -> None:
    async with run_emulator() as emu:
        seeded = emu.store.add_project(
            owner_user="user-1",
            extra={"archived": False},
            settings={"enableThinking": True},
        )
        async with AsyncNuExtract(
            api_key="test-token", base_url=emu.base_url
        ) as nuextract:
            project = await nuextract.projects.get(seeded["id"])

    assert to_wire(project) == seeded
    assert project.extra_fields == {"archived": False}
    assert project.settings.extra_fields == {"enableThinking": True}


# C17: one client fixture shared by several async tests, all on one loop.


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared() -> AsyncIterator[tuple[AsyncNuExtract, asyncio.AbstractEventLoop]]:
    async with (
        run_emulator() as emu,
        AsyncNuExtract(api_key="test-token", base_url=emu.base_url) as nuextract,
    ):
        yield nuextract, asyncio.get_running_loop()


@pytest.mark.parametrize("round_", range(3))
async def test_c17_a_shared_client_serves_every_test(
    shared: tuple[AsyncNuExtract, asyncio.AbstractEventLoop], round_: int
) -> None:
    nuextract, loop = shared

    created = await nuextract.projects.create(f"Project {round_}", {"a": "string"})
    listed = await nuextract.projects.list()

    assert asyncio.get_running_loop() is loop
    assert created.id in {p.id for p in listed}
    assert len(listed) == round_ + 1
