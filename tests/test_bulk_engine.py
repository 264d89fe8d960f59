"""The bulk engine on fake in-memory operations: accounting, bounds, stopping."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from nuextract_async import (
    APIConnectionError,
    BulkOutcome,
    BulkProgress,
    BulkRun,
    InvalidRequestError,
    NotFoundError,
)


def not_found(project_id: str) -> NotFoundError:
    return NotFoundError(
        status=404,
        code="NotFound",
        message=f"no project {project_id}",
        body="",
        headers={},
        method="GET",
        url=f"http://127.0.0.1/api/projects/{project_id}",
    )


def lost(project_id: str) -> APIConnectionError:
    return APIConnectionError(
        "connection lost",
        method="POST",
        url=f"http://127.0.0.1/api/projects/{project_id}/duplicate",
        request_sent=True,
        may_have_been_applied=True,
    )


class Recorder:
    """A fake operation: counts calls, concurrency and cancellations."""

    def __init__(self, *, hang_after: int | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.active = 0
        self.most_active = 0
        self.cancelled = 0
        self.hang_after = hang_after
        self.release = asyncio.Event()

    async def __call__(self, project_id: str) -> str:
        self.calls[project_id] += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.hang_after is not None and self.calls.total() > self.hang_after:
                await self.release.wait()
            await asyncio.sleep(0)
            if project_id.startswith("missing"):
                raise not_found(project_id)
            if project_id.startswith("lost"):
                raise lost(project_id)
            return project_id.upper()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1


@pytest.fixture
async def tasks_before() -> set[asyncio.Task[Any]]:
    """The tasks alive when the test started."""
    return asyncio.all_tasks()


def new_tasks(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` that are still alive (the test's own aside)."""
    return asyncio.all_tasks() - before - {asyncio.current_task()}


def ids(count: int, prefix: str = "p") -> Iterator[str]:
    return (f"{prefix}{n}" for n in range(count))


async def collect(run: BulkRun[Any]) -> list[BulkOutcome[Any]]:
    return [outcome async for outcome in run]


async def test_every_item_ends_as_exactly_one_outcome(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    items = [f"p{n}" for n in range(60)] + ["missing-1", "lost-1", "missing-2"]
    operation = Recorder()

    outcomes = await collect(BulkRun(operation, items, concurrency=7))

    assert sorted(o.index for o in outcomes) == list(range(len(items)))
    assert all(items[o.index] == o.project_id for o in outcomes)
    ok = [o for o in outcomes if o.ok]
    assert {o.project_id: o.result for o in ok} == {i: i.upper() for i in items[:60]}
    failed = {o.project_id: o for o in outcomes if not o.ok}
    assert set(failed) == {"missing-1", "lost-1", "missing-2"}
    assert isinstance(failed["missing-1"].error, NotFoundError)
    assert failed["missing-1"].result is None
    assert not failed["missing-1"].may_have_been_applied
    assert failed["lost-1"].may_have_been_applied
    assert operation.calls == Counter(items)
    assert new_tasks(tasks_before) == set()


async def test_copies_run_each_id_that_many_times_at_consecutive_indexes() -> None:
    operation = Recorder()

    outcomes = await collect(BulkRun(operation, ["a", "b"], copies=3, concurrency=2))

    by_index = {o.index: o.project_id for o in outcomes}
    assert by_index == {0: "a", 1: "a", 2: "a", 3: "b", 4: "b", 5: "b"}
    assert operation.calls == {"a": 3, "b": 3}


async def test_async_iterable_input_with_copies(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    pulled = 0

    async def source() -> AsyncIterator[str]:
        nonlocal pulled
        for n in range(50):
            pulled += 1
            await asyncio.sleep(0)
            yield "missing-x" if n == 7 else f"p{n}"

    run = BulkRun(Recorder(), source(), copies=2, concurrency=5)
    assert run.progress.total is None

    outcomes = await collect(run)

    assert sorted(o.index for o in outcomes) == list(range(100))
    assert [o.project_id for o in sorted(outcomes, key=lambda o: o.index)][14:16] == [
        "missing-x",
        "missing-x",
    ]
    assert run.progress.succeeded == 98
    assert run.progress.failed == 2
    assert pulled == 50
    assert new_tasks(tasks_before) == set()


async def test_concurrency_and_input_reading_stay_bounded(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    pulled = 0

    def source() -> Iterator[str]:
        nonlocal pulled
        for n in range(2_000):
            pulled += 1
            yield f"p{n}"

    operation = Recorder()
    seen = 0
    most_tasks = 0
    async for _ in BulkRun(operation, source(), concurrency=9):
        seen += 1
        most_tasks = max(most_tasks, len(new_tasks(tasks_before)))
        # Input is read only as room frees up, never ahead of the bound.
        assert pulled <= seen + 9

    assert seen == 2_000
    assert operation.most_active == 9
    assert most_tasks <= 9


async def test_a_paused_consumer_holds_the_run_back(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    pulled = 0

    def source() -> Iterator[str]:
        nonlocal pulled
        for n in range(1_000):
            pulled += 1
            yield f"p{n}"

    async def loop_turns() -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    operation = Recorder()
    run = BulkRun(operation, source(), concurrency=4)

    await anext(run)
    await loop_turns()
    # Finished outcomes count against the bound: one taken, four waiting.
    assert pulled == operation.calls.total() == 5
    await anext(run)
    await loop_turns()
    assert pulled == operation.calls.total() == 6

    await run.aclose()
    assert new_tasks(tasks_before) == set()


async def test_progress_counts_every_outcome() -> None:
    items = ["p1", "missing-1", "lost-1", "p2", "lost-2"]
    reports: list[BulkProgress] = []

    run = BulkRun(Recorder(), items, concurrency=2, on_progress=reports.append)
    await collect(run)

    assert [r.done for r in reports] == [1, 2, 3, 4, 5]
    assert all(r.total == 5 for r in reports)
    assert all(r.done == r.succeeded + r.failed for r in reports)
    last = reports[-1]
    assert (last.succeeded, last.failed, last.may_have_been_applied) == (2, 3, 2)
    assert last.in_flight == 0
    assert run.progress.done == 5


async def test_empty_input_ends_at_once() -> None:
    run = BulkRun(Recorder(), [], concurrency=3)

    assert await collect(run) == []
    assert run.progress == BulkProgress(
        total=0,
        done=0,
        succeeded=0,
        failed=0,
        may_have_been_applied=0,
        in_flight=0,
        elapsed=run.progress.elapsed,
    )


@pytest.mark.parametrize(
    ("project_ids", "copies", "concurrency", "message"),
    [
        ("abc", 1, 1, "single string"),
        (42, 1, 1, "iterable"),
        (["a"], 0, 1, "copies"),
        (["a"], 1, 0, "concurrency"),
        (["a"], True, 1, "copies"),
        (["a"], 1, 2.0, "concurrency"),
    ],
)
def test_bad_arguments_are_rejected_before_anything_runs(
    project_ids: Any, copies: Any, concurrency: Any, message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        BulkRun(Recorder(), project_ids, copies=copies, concurrency=concurrency)


async def test_an_unexpected_error_cancels_the_rest_and_propagates(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    operation = Recorder(hang_after=3)

    async def broken(project_id: str) -> str:
        if project_id == "p2":
            raise ZeroDivisionError("bug")
        return await operation(project_id)

    with pytest.raises(ZeroDivisionError):
        await collect(BulkRun(broken, ids(100), concurrency=10))

    assert operation.cancelled > 0
    assert new_tasks(tasks_before) == set()


async def _failing_async_input() -> AsyncIterator[str]:
    yield "p0"
    yield "p1"
    raise ValueError("broken input")


def _failing_sync_input() -> Iterator[str]:
    yield "p0"
    yield "p1"
    raise ValueError("broken input")


@pytest.mark.parametrize("source", [_failing_sync_input, _failing_async_input])
async def test_an_error_from_the_input_cancels_the_rest_and_propagates(
    tasks_before: set[asyncio.Task[Any]], source: Any
) -> None:
    operation = Recorder(hang_after=1)

    with pytest.raises(ValueError, match="broken input"):
        await collect(BulkRun(operation, source(), concurrency=4))

    assert operation.active == 0
    assert new_tasks(tasks_before) == set()


async def test_a_failing_progress_callback_stops_the_run(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    def callback(progress: BulkProgress) -> None:
        raise RuntimeError("callback bug")

    operation = Recorder(hang_after=2)

    with pytest.raises(RuntimeError, match="callback bug"):
        await collect(BulkRun(operation, ids(50), concurrency=5, on_progress=callback))

    assert new_tasks(tasks_before) == set()


async def test_break_stops_new_work_and_cancels_what_is_in_flight(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    operation = Recorder(hang_after=5)

    async for _ in BulkRun(operation, ids(100_000), concurrency=50):
        break

    # The run is unreferenced now; it cancelled its tasks as it went.
    assert operation.calls.total() <= 51
    await asyncio.sleep(0)
    assert new_tasks(tasks_before) == set()
    assert operation.active == 0
    assert operation.cancelled == operation.calls.total() - 5


async def test_aclose_cancels_in_flight_work_and_waits_for_it(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    operation = Recorder(hang_after=5)
    run = BulkRun(operation, ids(100_000), concurrency=50)

    received = [await anext(run) for _ in range(3)]
    await run.aclose()

    assert len(received) == 3
    assert new_tasks(tasks_before) == set()
    assert operation.active == 0
    assert operation.calls.total() <= 53
    assert await collect(run) == []


async def test_async_with_closes_the_run_on_leaving_the_block(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    operation = Recorder(hang_after=5)

    async with BulkRun(operation, ids(100_000), concurrency=50) as outcomes:
        async for _ in outcomes:
            break
        assert operation.active > 0

    assert new_tasks(tasks_before) == set()
    assert operation.active == 0


async def test_cancelling_the_consumer_cancels_in_flight_work(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    operation = Recorder(hang_after=20)
    received = 0
    all_received = asyncio.Event()

    async def consume() -> None:
        nonlocal received
        async for _ in BulkRun(operation, ids(100_000), concurrency=50):
            received += 1
            if received == 20:
                all_received.set()

    consumer = asyncio.create_task(consume())
    await all_received.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert received == 20
    assert new_tasks(tasks_before) == set()
    assert operation.active == 0
    assert operation.calls.total() <= 70
    assert operation.cancelled == operation.calls.total() - 20


async def test_cancelling_while_waiting_for_async_input(
    tasks_before: set[asyncio.Task[Any]],
) -> None:
    waiting = asyncio.Event()
    closed = False

    async def source() -> AsyncIterator[str]:
        nonlocal closed
        waiting.set()
        try:
            await asyncio.Event().wait()
            yield "never"
        finally:
            closed = True

    consumer = asyncio.create_task(collect(BulkRun(Recorder(), source())))
    await waiting.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert closed
    assert new_tasks(tasks_before) == set()


async def _instant(project_id: str) -> str:
    return project_id


async def _peak_growth(count: int) -> int:
    """Peak memory allocated while ``count`` items run through the engine."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        done = 0
        async for outcome in BulkRun(_instant, ids(count), concurrency=64):
            done += outcome.ok
        assert done == count
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


async def test_memory_does_not_grow_with_the_number_of_items() -> None:
    ten_thousand = await _peak_growth(10_000)
    hundred_thousand = await _peak_growth(100_000)

    # Holding one object per item would make this ratio about 10.
    assert hundred_thousand < 2 * ten_thousand, (ten_thousand, hundred_thousand)
