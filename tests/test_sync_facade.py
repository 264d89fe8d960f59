"""The sync facade against the emulator: calls, threads, loops, iterators, close."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

import nuextract_async
from nuextract_async.emulator import Faults, RunningEmulator
from nuextract_sync import (
    BulkProgress,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    NuExtract,
    PermissionDeniedError,
    ProjectLockedError,
    ProjectManagementApi,
    ProjectResponse,
)

TEMPLATE = {"orderId": "verbatim-string", "items": [{"qty": "number"}]}


@pytest.fixture
def emulator(nuextract_emulator_thread: RunningEmulator) -> RunningEmulator:
    return nuextract_emulator_thread


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[NuExtract]:
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        yield client


@pytest.fixture
def project(client: NuExtract) -> ProjectResponse:
    return client.projects.create("Invoices", TEMPLATE, "")


def test_project_lifecycle(emulator: RunningEmulator, client: NuExtract) -> None:
    projects = client.projects
    created = projects.create("Invoices", TEMPLATE, "monthly")
    pid = created.id
    assert projects.get(pid) == created
    assert [p.id for p in projects.list()] == [pid]

    renamed = projects.update(pid, name="Bills")
    assert renamed.name == "Bills"
    assert renamed.description == "monthly"

    tuned = projects.update_settings(pid, temperature=0.5, rasterization_dpi=200)
    assert (tuned.settings.temperature, tuned.settings.rasterization_dpi) == (0.5, 200)
    assert projects.replace_template(pid, {"total": "number"}).template == {
        "total": "number"
    }
    assert projects.reset_settings(pid).settings.rasterization_dpi == 115

    copy = projects.duplicate(pid)
    assert (copy.name, copy.template) == ("Bills (copy)", {"total": "number"})

    projects.lock(pid)
    assert projects.get(pid).lock_state is True
    with pytest.raises(ProjectLockedError):
        projects.update(pid, name="Blocked")
    projects.unlock(pid)
    assert projects.update(pid, name="Open again").name == "Open again"

    with pytest.raises(PermissionDeniedError):
        projects.share(pid)
    with NuExtract(api_key="admin-token", base_url=emulator.base_url) as admin:
        admin.projects.share(pid)
        assert [p.id for p in projects.list(reference=True)] == [pid]
        admin.projects.unshare(pid)
    assert projects.get(pid).shared is False

    projects.delete(pid)
    with pytest.raises(NotFoundError) as caught:
        projects.get(pid)
    assert type(caught.value) is nuextract_async.NotFoundError


def test_compat_api_runs_on_the_same_client(
    client: NuExtract, project: ProjectResponse
) -> None:
    api = ProjectManagementApi(client)
    copy = api.post_api_projects_projectid_duplicate(project.id)
    patched = api.patch_api_projects_projectid(copy.id, {"name": "Renamed"})
    assert patched.name == "Renamed"
    assert {p.id for p in api.get_api_projects()} == {project.id, copy.id}


def test_threads_share_one_client_and_one_session(emulator: RunningEmulator) -> None:
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        transport = client._portal.client._transport
        project = client.projects.create("Invoices", TEMPLATE, "")
        sessions = {transport._session}
        threads_before = threading.active_count()

        def fifty_gets(_: int) -> set[str]:
            ids = set()
            for _ in range(50):
                ids.add(client.projects.get(project.id).id)
                sessions.add(transport._session)
            return ids

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(fifty_gets, range(8)))

        assert results == [{project.id}] * 8
        assert emulator.stats.snapshot()["requests"]["get"] == 400
        assert threading.active_count() == threads_before
        (session,) = sessions  # every call went through the first session
        assert session is not None
        assert not session.closed
    assert session.closed


def test_call_from_a_thread_running_its_own_event_loop(
    client: NuExtract, project: ProjectResponse
) -> None:
    async def main() -> ProjectResponse:
        # A sync helper inside an async framework, or a Jupyter cell.
        first = client.projects.get(project.id)
        await asyncio.sleep(0)
        return client.projects.get(first.id)

    assert asyncio.run(main()).id == project.id


def test_call_from_a_callback_on_the_clients_own_loop(
    client: NuExtract, project: ProjectResponse
) -> None:
    ids = [project.id] * 100
    seen: list[tuple[bool, str, int]] = []

    def on_progress(progress: BulkProgress) -> None:
        asyncio.get_running_loop()  # runs on the facade's loop: raises otherwise
        name = client.projects.get(project.id).name
        seen.append((progress.done > 0, name, threading.active_count()))

    outcomes = list(
        client.projects.get_many(ids, concurrency=4, on_progress=on_progress)
    )

    assert all(o.ok for o in outcomes)
    assert len(seen) == 100
    assert {(done, name) for done, name, _ in seen} == {(True, "Invoices")}
    threads = threading.active_count()
    assert {count for _, _, count in seen} == {threads}
    for _ in range(100):
        client.projects.get(project.id)
    assert threading.active_count() == threads


@pytest.mark.parametrize("depth", [1, 2])
def test_iterator_advanced_from_a_callback_its_loop_waits_for_is_refused(
    client: NuExtract, project: ProjectResponse, depth: int
) -> None:
    ids = [project.id]
    outer = client.projects.get_many(ids * 3)

    def advance_outer(_: BulkProgress) -> None:
        next(outer)

    def call_from_the_second_loop(_: BulkProgress) -> None:
        list(client.projects.get_many(ids, on_progress=advance_outer))

    callback = advance_outer if depth == 1 else call_from_the_second_loop
    errors: list[BaseException] = []

    def run() -> None:
        try:
            list(client.projects.get_many(ids, on_progress=callback))
        except BaseException as exc:
            errors.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(60)  # guards against a deadlock; not a measurement

    assert not caller.is_alive()
    assert [type(e) for e in errors] == [InvalidRequestError]
    assert "advance it outside the callback" in str(errors[0])
    assert client.projects.get(project.id).id == project.id


def test_iterator_created_inside_a_callback_runs(
    client: NuExtract, project: ProjectResponse
) -> None:
    ids = [project.id] * 2
    pulled: list[bool] = []

    def on_progress(_: BulkProgress) -> None:
        pulled.extend(o.ok for o in client.projects.get_many(ids))

    assert all(o.ok for o in client.projects.get_many(ids, on_progress=on_progress))
    assert pulled == [True] * 4


def test_construction_starts_no_thread(emulator: RunningEmulator) -> None:
    before = threading.active_count()
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        assert threading.active_count() == before
        client.projects.list()
        assert threading.active_count() == before + 1
    assert threading.active_count() == before


def test_sequential_calls_keep_the_thread_count(
    client: NuExtract, project: ProjectResponse
) -> None:
    threads = threading.active_count()
    for _ in range(100):
        client.projects.get(project.id)
    assert threading.active_count() == threads


def test_calls_after_close_raise_client_closed_error(
    emulator: RunningEmulator,
) -> None:
    before = threading.active_count()
    with NuExtract(api_key="test-token", base_url=emulator.base_url) as client:
        client.projects.list()
        assert not client.is_closed
    assert client.is_closed
    assert threading.active_count() == before
    with pytest.raises(ClientClosedError, match="closed"):
        client.projects.list()
    with pytest.raises(ClientClosedError):
        ProjectManagementApi(client).get_api_projects()
    client.close()
    assert client.is_closed


def test_close_before_any_call(emulator: RunningEmulator) -> None:
    client = NuExtract(api_key="test-token", base_url=emulator.base_url)
    client.close()
    with pytest.raises(ClientClosedError):
        client.projects.list()


def test_close_while_a_call_is_in_flight(
    emulator: RunningEmulator, client: NuExtract, project: ProjectResponse
) -> None:
    emulator.set_faults(Faults(latency=0.5))
    errors: list[BaseException] = []

    def slow_get() -> None:
        try:
            client.projects.get(project.id)
        except BaseException as exc:
            errors.append(exc)

    caller = threading.Thread(target=slow_get)
    caller.start()
    while emulator.stats.snapshot()["requests"].get("get", 0) == 0:
        threading.Event().wait(0.01)
    client.close()
    caller.join()

    assert [type(e) for e in errors] == [ClientClosedError]


def test_errors_are_raised_in_the_callers_thread(client: NuExtract) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.projects.get("no-such-project")
    assert caught.value.url.endswith("/api/projects/no-such-project")


def test_invalid_configuration_fails_at_construction() -> None:
    before = threading.active_count()
    with pytest.raises(ConfigurationError):
        NuExtract(api_key="k", base_url="ftp://example.invalid")
    assert threading.active_count() == before


def test_a_given_aiohttp_session_is_refused() -> None:
    async def refuse() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(ConfigurationError, match="own"):
                NuExtract(api_key="k", base_url="http://127.0.0.1:9", session=session)

    asyncio.run(refuse())


def test_dropped_client_warns_and_stops_its_loop(
    emulator: RunningEmulator,
) -> None:
    before = threading.active_count()
    holder = [NuExtract(api_key="test-token", base_url=emulator.base_url)]
    holder[0].projects.list()
    assert threading.active_count() == before + 1

    with pytest.warns(ResourceWarning, match=r"never closed.*close\(\)"):
        holder.clear()

    assert threading.active_count() == before


def test_resource_outliving_its_client_keeps_working(
    emulator: RunningEmulator,
) -> None:
    before = threading.active_count()
    held = [NuExtract(api_key="test-token", base_url=emulator.base_url).projects]
    gc.collect()
    created = held[0].create("Kept", TEMPLATE, "")
    assert held[0].get(created.id).name == "Kept"

    with pytest.warns(ResourceWarning, match="never closed"):
        held.clear()

    assert threading.active_count() == before


def test_bulk_iterator_yields_every_outcome(
    client: NuExtract, project: ProjectResponse
) -> None:
    outcomes = list(client.projects.duplicate_many([project.id], copies=5))
    assert sorted(o.index for o in outcomes) == list(range(5))
    assert {o.result.name for o in outcomes if o.result} == {"Invoices (copy)"}


def test_leaving_a_bulk_iterator_early_stops_the_run(
    emulator: RunningEmulator, client: NuExtract, project: ProjectResponse
) -> None:
    threads = threading.active_count()
    outcomes = client.projects.get_many([project.id] * 50, concurrency=2)
    for outcome in outcomes:
        assert outcome.ok
        break
    outcomes.close()  # type: ignore[attr-defined]
    client.projects.list()

    # The one yielded and at most two in flight when it stopped; none after.
    assert emulator.stats.snapshot()["requests"]["get"] <= 3
    assert threading.active_count() == threads


def test_break_closes_the_async_iterator(client: NuExtract) -> None:
    steps: list[str] = []

    async def numbers(_: Any) -> AsyncIterator[int]:
        try:
            for number in range(10):
                yield number
        finally:
            steps.append("closed")

    for number in client._portal.iterate(numbers):
        if number == 2:
            break
    assert steps == ["closed"]

    iterator = client._portal.iterate(numbers)
    assert next(iterator) == 0
    iterator.close()  # type: ignore[attr-defined]
    assert steps == ["closed", "closed"]
