"""The bulk engine: one operation over many project ids, bounded and streaming.

A :class:`BulkRun` keeps at most ``concurrency`` requests in flight and at
most as many finished outcomes waiting for the consumer; it reads its input
only as room frees up and forgets an outcome once it has been yielded, so
its memory does not grow with the number of items. Every item ends as
exactly one :class:`BulkOutcome`, yielded in completion order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sized,
)
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar, cast

import attrs

from ._errors import APIError, InvalidRequestError, NuExtractError

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
        return isinstance(error, APIError) and error.may_have_been_applied


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


def _check_arguments(project_ids: object, copies: int, concurrency: int) -> None:
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


def _repeat(ids: Iterable[str], copies: int) -> Iterator[str]:
    for project_id in ids:
        for _ in range(copies):
            yield project_id


async def _next_id(ids: AsyncIterator[str]) -> object:
    try:
        return await anext(ids)
    except StopAsyncIteration:
        return _END


async def _attempt(
    operation: Callable[[str], Awaitable[T]], index: int, project_id: str
) -> BulkOutcome[T]:
    try:
        result = await operation(project_id)
    except NuExtractError as error:
        return BulkOutcome(index, project_id, error=error)
    return BulkOutcome(index, project_id, result=result)


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

    ``progress`` gives the counters at any time.

    Args:
        operation: Called once per item with its project id.
        project_ids: The ids, read lazily; a sync or async iterable.
        copies: How many times each id is run (consecutive indexes).
        concurrency: Most operations in flight at once.
        on_progress: Called with the counters after every outcome, before
            it is yielded.
    """

    def __init__(
        self,
        operation: Callable[[str], Awaitable[T]],
        project_ids: Iterable[str] | AsyncIterable[str],
        *,
        copies: int = 1,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        _check_arguments(project_ids, copies, concurrency)
        self._operation = operation
        self._concurrency = concurrency
        self._on_progress = on_progress
        self._total: int | None = None
        self._sync_ids: Iterator[str] | None = None
        self._async_ids: AsyncIterator[str] | None = None
        self._copies = copies
        if isinstance(project_ids, AsyncIterable):
            self._async_ids = aiter(project_ids)
        else:
            if isinstance(project_ids, Sized):
                self._total = len(project_ids) * copies
            self._sync_ids = _repeat(project_ids, copies)
        self._pending_id: str | None = None
        self._pending_copies = 0
        self._input_done = False
        self._fetch: asyncio.Task[object] | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._finished: asyncio.Queue[asyncio.Task[Any]] | None = None
        self._next_index = 0
        self._succeeded = 0
        self._failed = 0
        self._maybe_applied = 0
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
            in_flight=self._next_index - done,
            elapsed=0.0
            if started is None
            else (ended or time.perf_counter()) - started,
        )

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BulkOutcome[T]:
        if self._closed:
            raise StopAsyncIteration
        try:
            outcome = await self._next_outcome()
        except BaseException:
            await self.aclose()
            raise
        if outcome is None:
            await self.aclose()
            raise StopAsyncIteration
        return outcome

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
        running, self._running = self._running, set()
        self._fetch = None
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)

    def __del__(self) -> None:
        # Left behind after a ``break``: cancel what is still in flight. The
        # tasks hold no reference to the run, so this happens when the
        # consumer lets go of it.
        for task in getattr(self, "_running", ()):
            with contextlib.suppress(RuntimeError):  # its loop is closed
                task.cancel()

    async def _next_outcome(self) -> BulkOutcome[T] | None:
        if self._finished is None:
            self._finished = asyncio.Queue()
            self._started = time.perf_counter()
        finished = self._finished
        self._fill()
        while self._running:
            task = await finished.get()
            if self._closed:
                return None
            self._running.discard(task)
            if task is self._fetch:
                self._fetch = None
                self._take_fetched(task.result())
                self._fill()
                continue
            outcome: BulkOutcome[T] = task.result()
            self._count(outcome)
            self._fill()
            if self._on_progress is not None:
                self._on_progress(self.progress)
            return outcome
        return None

    def _in_flight(self) -> int:
        return len(self._running) - (self._fetch is not None)

    def _fill(self) -> None:
        """Start operations while there is room and input to read."""
        while not self._input_done and self._in_flight() < self._concurrency:
            project_id = self._read_id()
            if project_id is None:
                return
            self._start(project_id)

    def _read_id(self) -> str | None:
        """The next id to run, or ``None`` if there is none available now."""
        if self._sync_ids is not None:
            project_id = next(self._sync_ids, _END)
            if project_id is _END:
                self._input_done = True
                return None
            return cast(str, project_id)
        if self._pending_copies:
            self._pending_copies -= 1
            return self._pending_id
        if self._fetch is None:
            assert self._async_ids is not None
            self._fetch = self._spawn(_next_id(self._async_ids))
        return None

    def _take_fetched(self, project_id: object) -> None:
        if project_id is _END:
            self._input_done = True
        else:
            self._pending_id = cast(str, project_id)
            self._pending_copies = self._copies

    def _start(self, project_id: str) -> None:
        index = self._next_index
        self._next_index += 1
        self._spawn(_attempt(self._operation, index, project_id))

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        assert self._finished is not None
        task = asyncio.get_running_loop().create_task(coroutine)
        task.add_done_callback(self._finished.put_nowait)
        self._running.add(task)
        return task

    def _count(self, outcome: BulkOutcome[T]) -> None:
        if outcome.ok:
            self._succeeded += 1
        else:
            self._failed += 1
            self._maybe_applied += outcome.may_have_been_applied
