"""The event loop a sync client runs on: hand-written, used by the generated code.

A sync client owns a :class:`Portal`. On the first call it starts one event
loop in a daemon thread (``anyio.run``, asyncio backend, serving an anyio
``BlockingPortal`` until ``close()``); the async client and its connection
pool live on that loop. A call hands one coroutine to the loop with a single
``call_soon_threadsafe`` and sleeps on a lock the coroutine releases when it
ends: one hop there, one wake-up back (``BlockingPortal.call`` takes two
round trips per call).

Code already running on that loop (a progress callback, say) cannot wait for
the loop it blocks, so its calls go to a second loop, started on the first
such call and kept for the next ones, with its own async client. An iterator
stays on the loop chosen when it was made: advancing it from a callback that
this loop waits for raises ``InvalidRequestError`` (it would deadlock).

A client dropped without ``close()``, or still open at interpreter exit, has
its loops stopped and its pools closed, with a ``ResourceWarning``; an
iterator keeps its client open until it is exhausted or closed. A client is
bound to the process that made it: after ``os.fork()`` the child gets
``ClientClosedError`` and nothing starts there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import warnings
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from nuextract_async import (
    AsyncNuExtract,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
)

__all__ = ["ClientBase", "Portal", "Resource"]

log = logging.getLogger("nuextract")

T = TypeVar("T")
Make = Callable[[AsyncNuExtract], Awaitable[T]]

#: Seconds ``close()`` waits for a loop to close its pool and stop.
STOP_TIMEOUT: Final = 10.0
_CLOSED_MESSAGE: Final = "this client is closed; create a new one"
_FORKED_MESSAGE: Final = (
    "this client was created before os.fork(); create one in this process"
)
_WAITING_LOOP_MESSAGE: Final = (
    "this iterator runs on the client's event loop, which is waiting for the "
    "callback advancing it; advance it outside the callback, or create it "
    "inside the callback"
)

#: Threads that run one of the portals' event loops; they must never block
#: on a loop (their own, or one that waits for them).
_LOOP_THREADS: set[int] = set()


def _on_loop_thread() -> bool:
    return threading.get_ident() in _LOOP_THREADS


class _Call(Generic[T]):
    """One coroutine run for a waiting thread, which ``done`` wakes."""

    __slots__ = ("done", "error", "make", "result", "task")

    def __init__(self, make: Make[T]) -> None:
        self.make = make
        self.done = threading.Lock()
        self.done.acquire()
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.result: T

    def start(self, loop: asyncio.AbstractEventLoop, client: AsyncNuExtract) -> None:
        self.task = loop.create_task(self._run(client))

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _run(self, client: AsyncNuExtract) -> None:
        try:
            self.result = await self.make(client)
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            self.done.release()


class _Runner:
    """One event loop in a daemon thread, and the async client living on it."""

    def __init__(
        self, factory: Callable[[], AsyncNuExtract], client: AsyncNuExtract | None
    ) -> None:
        self._factory = factory
        self.client = client
        self._lock = threading.Lock()
        self.closed = False
        self.thread_id: int | None = None
        self.nested: _Runner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._portal: BlockingPortal | None = None
        self._pid = os.getpid()
        self._failure: BaseException | None = None
        self._background: set[asyncio.Task[None]] = set()

    def submit(self, make: Make[T]) -> T:
        """Run ``make(client)`` on this loop and wait for its result."""
        call = _Call(make)
        with self._lock:
            if self.closed:
                raise ClientClosedError(_CLOSED_MESSAGE)
            if self._pid != os.getpid():
                raise ClientClosedError(_FORKED_MESSAGE)
            loop = self._loop or self._start()
            if threading.get_ident() in _LOOP_THREADS:
                self._refuse_a_waiting_loop()
            client = self.client
            assert client is not None
            loop.call_soon_threadsafe(call.start, loop, client)
        try:
            call.done.acquire()
        except BaseException:  # KeyboardInterrupt while waiting
            with contextlib.suppress(RuntimeError):  # the loop is gone already
                loop.call_soon_threadsafe(call.cancel)
            raise
        error = call.error
        if error is None:
            return call.result
        # Its traceback holds the frame of ``call._run``, hence ``call``: unlink
        # them, or the error (and every frame it passes, the portal's too)
        # would live in a cycle until the garbage collector runs.
        call.error = None
        if self.closed and isinstance(error, asyncio.CancelledError):
            raise ClientClosedError(
                "this client was closed while the call was running"
            ) from None
        try:
            raise error
        finally:
            del error

    def _refuse_a_waiting_loop(self) -> None:
        """Raise if the calling thread runs this loop or one nested under it:
        this loop waits for that thread, so waiting for this loop deadlocks."""
        ident = threading.get_ident()
        runner: _Runner | None = self
        while runner is not None:
            if runner.thread_id == ident:
                raise InvalidRequestError(_WAITING_LOOP_MESSAGE)
            runner = runner.nested

    def submit_nowait(self, make: Make[object]) -> None:
        """Start ``make(client)`` on this loop without waiting for it."""
        with self._lock:
            loop = self._loop
            if self.closed or loop is None:
                return
            loop.call_soon_threadsafe(self._spawn_background, make)

    def nested_runner(self) -> _Runner:
        """The runner for calls made from this runner's own loop thread."""
        with self._lock:
            if self.closed:
                raise ClientClosedError(_CLOSED_MESSAGE)
            if self.nested is None:
                self.nested = _Runner(self._factory, None)
            return self.nested

    def close(self, wait: bool) -> bool:
        """Close the client's pool and stop the loop (and any nested one).

        True if this call stopped a loop that had started. In a child of
        ``os.fork()`` the loops belong to the parent: nothing is touched.
        """
        with self._lock:
            first = not self.closed
            self.closed = True
            if self._pid != os.getpid():
                return False
            loop, thread, nested = self._loop, self._thread, self.nested
            if first and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._stop)
        if nested is not None:
            nested.close(wait)
        if wait and thread is not None and thread.ident != threading.get_ident():
            thread.join(STOP_TIMEOUT)
        return first and thread is not None

    def _start(self) -> asyncio.AbstractEventLoop:
        ready = threading.Event()
        thread = threading.Thread(
            target=self._main, args=(ready,), name="nuextract-sync-loop", daemon=True
        )
        self._thread = thread
        thread.start()
        ready.wait()
        if self._loop is None:
            raise ClientClosedError("the client's event loop did not start") from (
                self._failure
            )
        return self._loop

    def _main(self, ready: threading.Event) -> None:
        try:
            anyio.run(self._serve, ready, backend="asyncio")
        except BaseException as exc:  # the thread ends quietly
            self._failure = exc
            if self._loop is not None:
                log.warning("the sync client's event loop failed: %r", exc)
        finally:
            _LOOP_THREADS.discard(threading.get_ident())
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        async with BlockingPortal() as portal:
            if self.client is None:
                self.client = self._factory()
            self._portal = portal
            self.thread_id = threading.get_ident()
            _LOOP_THREADS.add(self.thread_id)
            self._loop = asyncio.get_running_loop()
            ready.set()
            try:
                await portal.sleep_until_stopped()
            finally:
                await self.client.aclose()

    def _stop(self) -> None:
        portal = self._portal
        assert portal is not None
        self._spawn_background(lambda client: portal.stop())

    def _spawn_background(self, make: Make[object]) -> None:
        assert self.client is not None
        assert self._loop is not None
        task = self._loop.create_task(_ignore_result(make(self.client)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def _ignore_result(awaitable: Awaitable[object]) -> None:
    await awaitable


def _finalize(runner: _Runner, label: str) -> None:
    if not runner.close(wait=not _on_loop_thread()):
        return
    warnings.warn(
        f"{label} was never closed; use 'with' or call client.close()",
        ResourceWarning,
        stacklevel=1,
    )


class Portal:
    """Runs the async client's coroutines for the sync facade."""

    def __init__(
        self,
        factory: Callable[..., AsyncNuExtract],
        options: dict[str, Any],
        owner: str,
    ) -> None:
        if options.get("session") is not None:
            raise ConfigurationError(
                "a sync client runs on an event loop of its own and cannot use "
                "an aiohttp session; pass session= to AsyncNuExtract instead"
            )
        self.client = factory(**options)
        name = type(self.client).__name__
        self.label = repr(self.client).replace(name, owner, 1)
        self._main = _Runner(lambda: factory(**options), self.client)
        self._finalizer = weakref.finalize(self, _finalize, self._main, self.label)

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._main.closed

    def run(self, make: Make[T]) -> T:
        """Run ``make(client)`` on the client's loop and return its result."""
        return self._runner().submit(make)

    def iterate(
        self, make: Callable[[AsyncNuExtract], AsyncIterable[T]]
    ) -> Iterator[T]:
        """Iterate over ``make(client)``, pulling each item through the loop.

        Leaving the loop early or closing the iterator closes the async one.
        The iterator keeps this portal, hence the client, open until it ends.
        """
        return self._pull(self._runner(), make)

    def close(self) -> None:
        """Close the pools and stop the loops; safe to call twice."""
        self._finalizer.detach()
        self._main.close(wait=not _on_loop_thread())

    def _pull(
        self, runner: _Runner, make: Callable[[AsyncNuExtract], AsyncIterable[T]]
    ) -> Iterator[T]:
        """``iterate``'s generator; holding ``self`` keeps the client open."""

        async def open_iterator(client: AsyncNuExtract) -> AsyncIterator[T]:
            return aiter(make(client))

        iterator = runner.submit(open_iterator)
        try:
            while True:
                try:
                    item = runner.submit(lambda _: anext(iterator))
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and _on_loop_thread():
                runner.submit_nowait(lambda _: aclose())
            elif aclose is not None:
                with contextlib.suppress(ClientClosedError):  # the loop closes it
                    runner.submit(lambda _: aclose())

    def _runner(self) -> _Runner:
        ident = threading.get_ident()
        runner: _Runner | None = self._main
        while runner is not None:
            if runner.thread_id == ident:
                return runner.nested_runner()
            runner = runner.nested
        return self._main


class ClientBase:
    """The sync client's life cycle: ``close()``, ``with`` and ``repr``."""

    def __init__(
        self, factory: Callable[..., AsyncNuExtract], /, **options: Any
    ) -> None:
        self._portal = Portal(factory, options, type(self).__name__)

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._portal.closed

    def close(self) -> None:
        """Close the connection pool and stop the client's event loop; calls
        then raise ``ClientClosedError``. Safe to call twice."""
        self._portal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return self._portal.label


class Resource:
    """A group of sync methods that run their calls on ``portal``."""

    def __init__(self, portal: Portal) -> None:
        self._portal = portal
