"""The bulk methods against the emulator: faults, mixed ids, stopping early."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nuextract_async import (
    APIConnectionError,
    AsyncNuExtract,
    BulkOutcome,
    BulkRun,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    OperationCancelledError,
    PermissionDeniedError,
    ProjectLockedError,
    ProjectResponse,
    RateLimitError,
)
from nuextract_async.emulator import Faults, RunningEmulator, run_emulator

TEMPLATE = {"orderId": "verbatim-string", "items": [{"quantity": "number"}]}


def engine_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t.get_name() == "nuextract-bulk-worker"}


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator() as emu:
        yield emu


def client_for(emu: RunningEmulator, **options: Any) -> AsyncNuExtract:
    return AsyncNuExtract(api_key="test-token", base_url=emu.base_url, **options)


async def test_one_project_copied_many_times(emulator: RunningEmulator) -> None:
    source = emulator.store.add_project(
        owner_user="user-1", name="Orders", template=TEMPLATE
    )

    async with client_for(emulator) as client:
        run = client.projects.duplicate_many([source["id"]], copies=50, concurrency=8)
        async with run as outcomes:
            copies = [outcome async for outcome in outcomes]

    assert sorted(o.index for o in copies) == list(range(50))
    assert all(o.ok and o.project_id == source["id"] for o in copies)
    projects = [o.result for o in copies]
    assert all(isinstance(p, ProjectResponse) for p in projects)
    new_ids = {p.id for p in projects if p is not None}
    assert len(new_ids) == 50
    assert all(emulator.store.get(i)["name"] == "Orders (copy)" for i in new_ids)
    assert emulator.stats.duplicated == {source["id"]: 50}


async def test_duplicate_many_into_an_organization(emulator: RunningEmulator) -> None:
    sources = [
        emulator.store.add_project(owner_user="user-1", name=f"P{n}")["id"]
        for n in range(3)
    ]

    async with client_for(emulator) as client:
        into_mine = [
            o
            async for o in client.projects.duplicate_many(
                sources, copies=2, organization_id="org-1"
            )
        ]
        into_theirs = [
            o
            async for o in client.projects.duplicate_many(
                sources, organization_id="org-2"
            )
        ]

    assert all(o.ok for o in into_mine)
    assert {o.result.owner_organization for o in into_mine if o.result} == {"org-1"}
    assert Counter(o.project_id for o in into_mine) == dict.fromkeys(sources, 2)
    assert len(into_theirs) == 3
    assert all(isinstance(o.error, PermissionDeniedError) for o in into_theirs)
    assert not any(o.may_have_been_applied for o in into_theirs)


async def test_every_copy_is_accounted_for_under_faults() -> None:
    sources_count, copies = 30, 10
    requested = sources_count * copies
    faults = Faults(
        rate_503=0.1,
        rate_429=0.05,
        retry_after="0",
        drop_before=0.04,
        drop_after=0.04,
        slow_rate=0.04,
        slow_seconds=2.5,
        operations={"duplicate"},
        seed=11,
    )
    async with run_emulator(faults=faults) as emu:
        sources = [
            emu.store.add_project(owner_user="user-1", name=f"S{n}")["id"]
            for n in range(sources_count)
        ]
        async with (
            client_for(emu, timeout=1.0) as client,
            client.projects.duplicate_many(
                sources, copies=copies, concurrency=16
            ) as run,
        ):
            outcomes = [outcome async for outcome in run]
        stats = emu.stats
        made = stats.duplicated_total
        per_source = dict(stats.duplicated)
        duplicate_requests = stats.requests["duplicate"]
        faults_seen = stats.faults_by_operation["duplicate"]

    # Every fault kind happened, so the accounting below is not vacuous.
    assert all(faults_seen[kind] > 0 for kind in faults_seen), faults_seen

    assert sorted(o.index for o in outcomes) == list(range(requested))
    succeeded = sum(o.ok for o in outcomes)
    failed = [o for o in outcomes if not o.ok]
    maybe = [o for o in failed if o.may_have_been_applied]
    assert succeeded + len(failed) == requested
    assert run.progress.succeeded == succeeded
    assert run.progress.failed == len(failed)
    assert run.progress.may_have_been_applied == len(maybe)

    # A lost answer is reported, never resent: only a drop before handling
    # made nothing, and the client cannot tell it from a drop after.
    assert all(isinstance(o.error, APIConnectionError) for o in maybe)
    assert made == succeeded + len(maybe) - faults_seen["drop_before"]
    assert succeeded <= made <= succeeded + len(maybe)
    assert all(count <= copies for count in per_source.values())

    # Items that failed without being applied were turned away by 503 or
    # 429 on every attempt; only those answers were ever retried.
    refused = [o for o in failed if not o.may_have_been_applied]
    assert all(
        isinstance(o.error, InternalServerError | RateLimitError) for o in refused
    )
    turned_away = faults_seen["rate_503"] + faults_seen["rate_429"]
    assert duplicate_requests - turned_away == requested - len(refused)


@pytest.fixture
def mixed_ids(emulator: RunningEmulator) -> dict[str, str]:
    add = emulator.store.add_project
    return {
        "mine": add(owner_user="user-1", name="Mine")["id"],
        "locked": add(owner_user="user-1", name="Locked", locked=True)["id"],
        "theirs": add(owner_user="user-2", name="Theirs")["id"],
        "missing": "no/such project",
        "empty": "",
    }


FORBIDDEN = PermissionDeniedError
EXPECTED: dict[str, dict[str, type[Exception] | None]] = {
    "get_many": {"mine": None, "locked": None, "theirs": FORBIDDEN},
    "lock_many": {"mine": None, "locked": None, "theirs": FORBIDDEN},
    "unlock_many": {"mine": None, "locked": None, "theirs": FORBIDDEN},
    "delete_many": {"mine": None, "locked": ProjectLockedError, "theirs": FORBIDDEN},
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
async def test_bulk_methods_with_good_and_bad_ids(
    emulator: RunningEmulator, mixed_ids: dict[str, str], method: str
) -> None:
    names = list(mixed_ids)
    expected = EXPECTED[method] | {
        "missing": NotFoundError,
        "empty": InvalidRequestError,
    }

    async with client_for(emulator) as client:
        run: BulkRun[Any] = getattr(client.projects, method)(
            [mixed_ids[n] for n in names], concurrency=3
        )
        outcomes = {names[o.index]: o async for o in run}

    assert set(outcomes) == set(names)
    for name, error in expected.items():
        outcome = outcomes[name]
        if error is None:
            assert outcome.ok, (name, outcome.error)
        else:
            assert type(outcome.error) is error, (name, outcome.error)
        assert not outcome.may_have_been_applied
    assert outcomes["mine"].project_id == mixed_ids["mine"]

    mine = emulator.store.get(mixed_ids["mine"])
    locked = emulator.store.get(mixed_ids["locked"])
    assert locked is not None
    if method == "get_many":
        result = outcomes["mine"].result
        assert isinstance(result, ProjectResponse)
        assert result.id == mixed_ids["mine"]
    elif method == "delete_many":
        assert mine is None
    else:
        assert mine is not None
        assert mine["lockState"] is locked["lockState"] is (method == "lock_many")


async def _stop(how: str, run: BulkRun[ProjectResponse], keep: int) -> int:
    """Consume ``keep`` outcomes of ``run``, then stop it the way named."""
    received = 0
    if how == "break":
        async for _ in run:
            received += 1
            if received == keep:
                break
    elif how == "aclose":
        while received < keep:
            await anext(run)
            received += 1
        await run.aclose()
    else:
        enough = asyncio.Event()

        async def consume() -> None:
            nonlocal received
            async for _ in run:
                received += 1
                if received == keep:
                    enough.set()

        task = asyncio.create_task(consume())
        await enough.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return received


@pytest.mark.parametrize("how", ["break", "aclose", "cancel"])
async def test_stopping_a_run_under_load(emulator: RunningEmulator, how: str) -> None:
    source = emulator.store.add_project(owner_user="user-1", name="Orders")["id"]
    emulator.set_faults(Faults(latency=0.02, operations={"duplicate"}))
    pool = 4

    async with client_for(emulator, max_connections=pool) as client:
        received = await _stop(
            how,
            client.projects.duplicate_many([source], copies=5_000, concurrency=pool),
            keep=6,
        )

        # The pool is whole again: as many calls as it has slots all succeed.
        async with asyncio.timeout(10):
            checks: list[BulkOutcome[ProjectResponse]] = [
                o async for o in client.projects.get_many([source] * 3 * pool)
            ]
        assert engine_tasks() == set()

    assert received >= 6
    assert all(o.ok for o in checks)
    # Nothing was sent after the stop beyond what was already in flight.
    assert emulator.stats.requests["duplicate"] <= received + pool


async def test_stopping_early_accounts_for_every_copy_made(
    emulator: RunningEmulator,
) -> None:
    # Copies under way when the run stops may have been made: they must be
    # counted as such, never as "not run" (rerunning those would double them).
    source = emulator.store.add_project(owner_user="user-1", template=TEMPLATE)
    emulator.set_faults(Faults(latency=0.05))
    yielded: list[BulkOutcome[ProjectResponse]] = []

    async with client_for(emulator) as client:
        run = client.projects.duplicate_many([source["id"]], copies=40, concurrency=8)
        async with run:
            async for outcome in run:
                yielded.append(outcome)
                if len(yielded) == 5:
                    break
        await asyncio.sleep(0.2)  # let every cancelled request reach its end
        made = emulator.stats.duplicated[source["id"]]
        assert not engine_tasks()

    progress = run.progress
    leftovers = run.unyielded
    assert progress.in_flight == 0
    assert progress.done == len(yielded) + len(leftovers)
    assert (
        progress.succeeded
        <= made
        <= progress.succeeded + (progress.may_have_been_applied)
    )
    assert leftovers, "the run stopped with requests under way"
    for outcome in leftovers:
        if outcome.error is not None:
            assert isinstance(outcome.error, OperationCancelledError)
            assert outcome.may_have_been_applied


async def test_a_stopped_idempotent_item_is_not_reported_as_maybe_applied(
    emulator: RunningEmulator,
) -> None:
    source = emulator.store.add_project(owner_user="user-1", template=TEMPLATE)
    emulator.set_faults(Faults(latency=0.5))

    async with client_for(emulator) as client:
        run = client.projects.get_many([source["id"]] * 4, concurrency=4)
        task = asyncio.create_task(anext(run))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert [type(o.error) for o in run.unyielded] == [OperationCancelledError] * 4
    assert run.progress.may_have_been_applied == 0


@pytest.mark.parametrize("fails", ["input", "callback"])
async def test_an_error_that_stops_the_run_loses_no_finished_outcome(
    emulator: RunningEmulator, fails: str
) -> None:
    source = emulator.store.add_project(owner_user="user-1", template=TEMPLATE)

    def ids() -> Any:
        for _ in range(6):
            yield source["id"]
        if fails == "input":
            raise OSError("the ids file vanished")

    def progress(counters: Any) -> None:
        if fails == "callback" and counters.done == 3:
            raise ValueError("a bug in the callback")

    yielded: list[BulkOutcome[ProjectResponse]] = []

    async def consume(run: BulkRun[ProjectResponse]) -> None:
        async for outcome in run:
            yielded.append(outcome)

    async with client_for(emulator) as client:
        run = client.projects.duplicate_many(ids(), concurrency=2, on_progress=progress)
        with pytest.raises(OSError if fails == "input" else ValueError):
            await consume(run)
        made = emulator.stats.duplicated[source["id"]]

    accounted = yielded + run.unyielded
    assert len({o.index for o in accounted}) == len(accounted) == run.progress.done
    assert (
        run.progress.succeeded
        <= made
        <= run.progress.succeeded + (run.progress.may_have_been_applied)
    )


async def test_an_async_progress_callback_is_refused(
    emulator: RunningEmulator,
) -> None:
    async def progress(counters: Any) -> None: ...

    async with client_for(emulator) as client:
        with pytest.raises(InvalidRequestError, match="plain function"):
            client.projects.duplicate_many(["p"], on_progress=progress)
