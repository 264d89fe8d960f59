"""The bulk engine: one operation over many project ids, bounded and streaming.

A :class:`BulkRun` holds at most ``concurrency`` items between reading an id
and yielding its outcome (in flight, or finished and waiting for the
consumer); it reads its input only as room frees up and forgets an outcome
once it has been yielded, so its memory does not grow with the number of
items. Every item ends as exactly one :class:`BulkOutcome`, yielded in
completion order.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import time
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sized,
)
from types import TracebackType
from typing import Final, Generic, Self, TypeVar, cast

import attrs

from ._errors import InvalidRequestError, NuExtractError, OperationCancelledError

__all__ = ["BulkOutcome", "BulkProgress", "BulkRun", "ProgressCallback"]

T = TypeVar("T")

#: Stands for "no more ids" where ``None`` could be a (bad) id of its own.
_END: Final = object()


@attrs.frozen
class BulkOutcome(Generic[T]):
    """How one item of a bulk run ended.

    ``index`` is the item's position in the input (an id copied ``copies``
    times takes that many consecutive positions); exactly one of ``result``
    and ``error`` is meaningful: ``error`` is ``None`` on success.
    """

    index: int
    project_id: str
    result: T | None = None
    error: NuExtractError | None = None

    @property
    def ok(self) -> bool:
        """True if the operation succeeded."""
        return self.error is None

    @property
    def may_have_been_applied(self) -> bool:
        """True if it failed but the server may have carried it out anyway.

        Such an item was not resent; check before running it again.
        """
        error = self.error
        return error is not None and error.may_have_been_applied


@attrs.frozen
class BulkProgress:
    """Counters of a bulk run; ``done == succeeded + failed``.

    ``elapsed`` runs from the first ``__anext__`` and stops when the run ends.
    ``total`` is ``None`` when the input's length is not known in advance.
    ``may_have_been_applied`` counts failed items the server may have
    carried out all the same.
    """

    total: int | None
    done: int
    succeeded: int
    failed: int
    may_have_been_applied: int
    in_flight: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Items finished per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


#: Called with the counters after every outcome, on the thread that runs the
#: client's event loop (the sync client's own loop thread, for ``NuExtract``).
ProgressCallback = Callable[[BulkProgress], object]


def _check_arguments(
    project_ids: object, copies: int, concurrency: int, on_progress: object
) -> None:
    if isinstance(project_ids, str | bytes):
        raise InvalidRequestError(
            "project_ids must be an iterable of ids, not a single string; "
            "wrap one id in a list"
        )
    if not isinstance(project_ids, Iterable | AsyncIterable):
        raise InvalidRequestError(
            f"project_ids must be an iterable, not {type(project_ids).__name__}"
        )
    for name, value in (("copies", copies), ("concurrency", concurrency)):
        if type(value) is not int or value < 1:
            raise InvalidRequestError(f"{name} must be an integer >= 1")
    if on_progress is not None and (
        not callable(on_progress) or inspect.iscoroutinefunction(on_progress)
    ):
        raise InvalidRequestError("on_progress must be a plain function (not async)")


def _repeat(ids: Iterable[str], copies: int) -> Iterator[str]:
    """Each id ``copies`` times in a row, read from ``ids`` only when due."""
    if copies == 1:
        return iter(ids)
    return itertools.chain.from_iterable(
        map(itertools.repeat, ids, itertools.repeat(copies))
    )


class _Workers(Generic[T]):
    """What a run shares with its worker tasks, which never hold the run.

    Each worker takes a slot, reads an id, runs the operation inline and
    queues the outcome, over and over. The consumer gives the slot back when
    it takes the outcome, so at most ``concurrency`` items sit between
    reading and yielding. A worker finding no free slot parks until the
    consumer hands it one.
    """

    def __init__(
        self,
        operation: Callable[[str], Awaitable[T]],
        sync_ids: Iterator[str] | None,
        async_ids: AsyncIterator[str] | None,
        copies: int,
        concurrency: int,
        idempotent: bool,
    ) -> None:
        self.operation = operation
        self.idempotent = idempotent
        self.sync_ids = sync_ids
        self.async_ids = async_ids
        self.copies = copies
        self.input_lock = asyncio.Lock()
        self.pending_id = ""
        self.pending_copies = 0
        self.input_done = False
        self.next_index = 0
        self.free_slots = concurrency
        self.parked: deque[asyncio.Future[bool]] = deque()
        self.outcomes: deque[BulkOutcome[T]] = deque()
        self.consumer: asyncio.Future[None] | None = None
        self.live = 0
        self.error: BaseException | None = None
        self.closed = False

    def give_back_slot(self) -> None:
        """Hand a slot to a parked worker, or keep it for the next one."""
        parked = self.parked
        while parked:
            worker = parked.popleft()
            if not worker.done():
                worker.set_result(True)
                return
        self.free_slots += 1

    def _wake_parked(self) -> None:
        # The input has ended: every parked worker wakes up to stop.
        parked = self.parked
        while parked:
            worker = parked.popleft()
            if not worker.done():
                worker.set_result(False)

    def wake_consumer(self) -> None:
        consumer = self.consumer
        if consumer is not None:
            self.consumer = None
            if not consumer.done():
                consumer.set_result(None)

    async def work(self) -> None:
        """Run items until the input ends; an unexpected error stops the run."""
        loop = asyncio.get_running_loop()
        operation = self.operation
        outcomes = self.outcomes
        sync_ids = self.sync_ids
        try:
            while not self.input_done:
                if self.free_slots:
                    self.free_slots -= 1
                else:
                    slot: asyncio.Future[bool] = loop.create_future()
                    self.parked.append(slot)
                    if not await slot:
                        continue

                if sync_ids is not None:
                    project_id = next(sync_ids, _END)
                else:
                    project_id = await self._next_async_id()
                if project_id is _END:
                    self.input_done = True
                    self.free_slots += 1
                    self._wake_parked()
                    return
                project_id = cast(str, project_id)
                index = self.next_index
                self.next_index = index + 1

                try:
                    result = await operation(project_id)
                except NuExtractError as error:
                    outcomes.append(BulkOutcome(index, project_id, error=error))
                except asyncio.CancelledError:
                    # Stopped under way: still one outcome, saying what the
                    # server may hold.
                    stopped = OperationCancelledError(
                        "the bulk run stopped before this item's answer came",
                        may_have_been_applied=not self.idempotent,
                    )
                    outcomes.append(BulkOutcome(index, project_id, error=stopped))
                    raise
                else:
                    outcomes.append(BulkOutcome(index, project_id, result=result))
                self.wake_consumer()
        except asyncio.CancelledError as error:
            if not self.closed:  # not the run's own doing: report it
                self._fail(error)
            raise
        except Exception as error:
            self._fail(error)
        finally:
            self.live -= 1
            if not self.live:
                self.wake_consumer()

    async def _next_async_id(self) -> object:
        # One worker at a time steps the async iterator; copies are handed
        # out under the same lock so that they take consecutive indexes.
        async with self.input_lock:
            if self.pending_copies:
                self.pending_copies -= 1
                return self.pending_id
            if self.input_done:
                return _END
            assert self.async_ids is not None
            try:
                project_id = await anext(self.async_ids)
            except StopAsyncIteration:
                self.input_done = True
                return _END
            self.pending_id = project_id
            self.pending_copies = self.copies - 1
            return project_id

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.wake_consumer()


class BulkRun(AsyncIterator[BulkOutcome[T]], Generic[T]):
    """An async iterator of :class:`BulkOutcome`, one per item, as they finish.

    Nothing starts before the first ``__anext__``. A failed item never stops
    the others; an error that is not a ``NuExtractError`` (a bug, or one
    raised by ``on_progress`` or the input) cancels the run and propagates.

    Stop it early with ``break``, ``await run.aclose()`` or by cancelling
    the consuming task: no new request starts and the ones in flight are
    cancelled. Only ``aclose()`` (or ``async with``, which calls it) waits
    for them to finish cancelling; after a bare ``break`` they are cancelled
    when the run is garbage-collected (at once in CPython, unless a variable
    still holds it)::

        async with client.projects.duplicate_many(ids, copies=3) as outcomes:
            async for outcome in outcomes:
                ...

    Every id read gets exactly one outcome. Those never handed out because
    the run stopped (finished ones not yet taken, and items cancelled under
    way, whose error is an ``OperationCancelledError``) are in ``unyielded``
    once ``aclose()`` returns, and are counted in ``progress``.

    Args:
        operation: Called once per item with its project id.
        project_ids: The ids, read lazily; a sync or async iterable.
        copies: How many times each id is run (consecutive indexes).
        concurrency: Most operations in flight at once.
        on_progress: Called with the counters after every outcome, before
            it is yielded; a plain function.
        idempotent: Whether running an item twice is harmless; if not, an
            item cancelled under way may have been applied.
    """

    def __init__(
        self,
        operation: Callable[[str], Awaitable[T]],
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        copies: int = 1,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        idempotent: bool = False,
    ) -> None:
        _check_arguments(project_ids, copies, concurrency, on_progress)
        self._on_progress = on_progress
        self._total: int | None = None
        sync_ids: Iterator[str] | None = None
        async_ids: AsyncIterator[str] | None = None
        if isinstance(project_ids, AsyncIterable):
            async_ids = aiter(project_ids)
        else:
            if isinstance(project_ids, Sized):
                self._total = len(project_ids) * copies
            sync_ids = _repeat(project_ids, copies)
        self._concurrency = concurrency
        self._workers = _Workers(
            operation, sync_ids, async_ids, copies, concurrency, idempotent
        )
        self._tasks: list[asyncio.Task[None]] | None = None
        self._succeeded = 0
        self._failed = 0
        self._maybe_applied = 0
        self._unyielded: list[BulkOutcome[T]] = []
        self._started: float | None = None
        self._ended: float | None = None
        self._closed = False

    @property
    def progress(self) -> BulkProgress:
        """The counters now."""
        started, ended = self._started, self._ended
        done = self._succeeded + self._failed
        return BulkProgress(
            total=self._total,
            done=done,
            succeeded=self._succeeded,
            failed=self._failed,
            may_have_been_applied=self._maybe_applied,
            in_flight=self._workers.next_index - done,
            elapsed=0.0
            if started is None
            else (ended or time.perf_counter()) - started,
        )

    @property
    def unyielded(self) -> list[BulkOutcome[T]]:
        """Outcomes the run counted but never handed out, as it was stopped."""
        return sorted(self._unyielded, key=lambda outcome: outcome.index)

    def _count(self, outcome: BulkOutcome[T]) -> None:
        if outcome.error is None:
            self._succeeded += 1
        else:
            self._failed += 1
            self._maybe_applied += outcome.may_have_been_applied

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BulkOutcome[T]:
        if self._closed:
            raise StopAsyncIteration
        if self._tasks is None:
            self._start()
        workers = self._workers
        outcomes = workers.outcomes
        try:
            while not outcomes and workers.live and workers.error is None:
                consumer = asyncio.get_running_loop().create_future()
                workers.consumer = consumer
                await consumer
            if workers.error is not None:
                raise workers.error
            if outcomes and not self._closed:
                outcome = outcomes.popleft()
                workers.give_back_slot()
                self._count(outcome)
                if self._on_progress is not None:
                    try:
                        self._on_progress(self.progress)
                    except BaseException:
                        self._unyielded.append(outcome)  # counted, not lost
                        raise
                return outcome
        except BaseException:
            await self.aclose()
            raise
        await self.aclose()
        raise StopAsyncIteration

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: start nothing more, cancel what is in flight and wait for it."""
        if not self._closed and self._started is not None:
            self._ended = time.perf_counter()
        self._closed = True
        self._workers.closed = True
        tasks, self._tasks = self._tasks or [], []
        running = [task for task in tasks if not task.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        outcomes = self._workers.outcomes
        while outcomes:  # finished or cancelled, never taken: keep them
            outcome = outcomes.popleft()
            self._count(outcome)
            self._unyielded.append(outcome)

    def __del__(self) -> None:
        # Left behind after a ``break``: cancel what is still in flight. The
        # workers hold no reference to the run, so this happens when the
        # consumer lets go of it.
        workers = getattr(self, "_workers", None)
        if workers is not None:
            workers.closed = True
        for task in getattr(self, "_tasks", None) or ():
            with contextlib.suppress(RuntimeError):  # its loop is closed
                task.cancel()

    def _start(self) -> None:
        self._started = time.perf_counter()
        count = self._concurrency
        if self._total is not None:
            count = min(count, self._total)
        loop = asyncio.get_running_loop()
        workers = self._workers
        workers.live = count
        self._tasks = [
            loop.create_task(workers.work(), name="nuextract-bulk-worker")
            for _ in range(count)
        ]
