"""The retry table and timeouts against a real loopback aiohttp server."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from email.utils import formatdate
from typing import Any

import pytest
from aiohttp import web
from core_support import (
    client,
    drop_connection,
    fast_retries,
    loopback_server,
    never,
    project_wire,
    refused_url,
)

from nuextract_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncProjects,
    ClientClosedError,
    InternalServerError,
    NuExtractError,
    RateLimitError,
)

Call = Callable[[AsyncProjects], Awaitable[Any]]
TIMEOUT = 0.05  # for answers that never come
# Faults other than "slow" must never be mistaken for a timeout on a busy box.
AMPLE_TIMEOUT = 10.0

CALLS: dict[str, Call] = {
    "list": lambda p: p.list(),
    "create": lambda p: p.create("n", {"a": "string"}),
    "get": lambda p: p.get("p-1"),
    "update": lambda p: p.update("p-1", name="n"),
    "delete": lambda p: p.delete("p-1"),
    "update_settings": lambda p: p.update_settings("p-1", temperature=0.1),
    "replace_template": lambda p: p.replace_template("p-1", {"a": "string"}),
    "reset_settings": lambda p: p.reset_settings("p-1"),
    "duplicate": lambda p: p.duplicate("p-1"),
    "lock": lambda p: p.lock("p-1"),
    "unlock": lambda p: p.unlock("p-1"),
    "share": lambda p: p.share("p-1"),
    "unshare": lambda p: p.unshare("p-1"),
}
NOT_IDEMPOTENT = {"create", "duplicate"}

# fault -> (error class, retried for idempotent operations, retried for the
# others, may the others have been applied)
FAULTS: dict[str, tuple[type[APIError], bool, bool, bool]] = {
    "refused": (APIConnectionError, True, True, False),
    "dropped": (APIConnectionError, True, False, True),
    "slow": (APITimeoutError, True, False, True),
    "429": (RateLimitError, True, True, False),
    "503": (InternalServerError, True, True, False),
    "502": (InternalServerError, True, False, True),
    "504": (InternalServerError, True, False, True),
    "500": (InternalServerError, False, False, True),
}


class FaultyServer:
    """Answers with one fault (every time, or ``remaining`` times), else success."""

    def __init__(self) -> None:
        self.fault: str | None = None
        self.remaining: int | None = None  # requests the fault still hits
        self.hits = 0
        self.bodies: list[bytes] = []
        self.retry_after: str | None = None
        self.stop = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        self.bodies.append(await request.read())
        fault = self.fault
        if self.remaining is not None:
            fault = fault if self.remaining else None
            self.remaining = max(0, self.remaining - 1)
        if fault == "dropped":
            return drop_connection(request)
        if fault == "slow":
            await never(self.stop)
        if fault is not None and fault.isdigit():
            headers = (
                {} if self.retry_after is None else {"Retry-After": self.retry_after}
            )
            error = {"code": "X", "message": f"fault {fault}"}
            return web.json_response(error, status=int(fault), headers=headers)
        if request.path == "/api/projects" and request.method == "GET":
            return web.json_response([project_wire()])
        if request.method == "DELETE" or request.path.endswith("lock"):
            return web.Response()
        if request.path.endswith("share"):
            return web.Response()
        return web.json_response(project_wire())


@pytest.fixture
async def server() -> AsyncIterator[tuple[FaultyServer, str]]:
    faulty = FaultyServer()
    async with loopback_server(faulty.handle) as url:
        try:
            yield faulty, url
        finally:
            faulty.stop.set()


@pytest.fixture
def attempts(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The DEBUG attempt lines of logger ``nuextract`` so far."""
    caplog.set_level(logging.DEBUG, logger="nuextract")

    def lines() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "nuextract" and r.levelno == logging.DEBUG
        ]

    return lines


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", list(CALLS))
async def test_retry_table(
    server: tuple[FaultyServer, str],
    attempts: Callable[[], list[str]],
    name: str,
    fault: str,
) -> None:
    faulty, url = server
    faulty.fault = fault
    error_class, idempotent_retried, other_retried, other_applied = FAULTS[fault]
    idempotent = name not in NOT_IDEMPOTENT
    retried = idempotent_retried if idempotent else other_retried
    expected_attempts = 3 if retried else 1

    with refused_url() as dead:
        base_url = dead if fault == "refused" else url
        timeout = TIMEOUT if fault == "slow" else AMPLE_TIMEOUT
        async with client(base_url=base_url, timeout=timeout) as nuextract:
            with pytest.raises(error_class) as caught:
                await CALLS[name](fast_retries(nuextract).projects)

    error = caught.value
    assert type(error) is error_class
    assert len(attempts()) == expected_attempts
    assert faulty.hits == (0 if fault == "refused" else expected_attempts)
    assert error.may_have_been_applied is (not idempotent and other_applied)
    if isinstance(error, APIConnectionError):
        assert error.request_sent is (fault != "refused")
    if faulty.bodies:
        assert len(set(faulty.bodies)) == 1


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("get", "429"),
        ("get", "503"),
        ("get", "502"),
        ("get", "504"),
        ("get", "dropped"),
        ("update", "dropped"),
        ("delete", "504"),
        ("create", "429"),
        ("create", "503"),
        ("duplicate", "503"),
    ],
)
async def test_a_retried_call_succeeds(
    server: tuple[FaultyServer, str], name: str, fault: str
) -> None:
    faulty, url = server
    faulty.fault, faulty.remaining = fault, 1

    async with client(base_url=url) as nuextract:
        result = await CALLS[name](fast_retries(nuextract).projects)

    assert result is None or result.id == "p-1"
    assert faulty.hits == 2


async def test_max_retries_zero_turns_retries_off(
    server: tuple[FaultyServer, str],
) -> None:
    faulty, url = server

    async with client(base_url=url, max_retries=0) as nuextract:
        for fault in ("503", "429", "dropped"):
            faulty.fault = fault
            with pytest.raises(APIError):
                await nuextract.projects.get("p-1")

    assert faulty.hits == 3


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: records each delay, waits no real time."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._sleep = asyncio.sleep

    async def __call__(self, delay: float, result: Any = None) -> Any:
        self.delays.append(delay)
        return await self._sleep(0, result)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorder = SleepRecorder()
    monkeypatch.setattr(asyncio, "sleep", recorder)
    return recorder.delays


def _retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    pattern = re.compile(r"retrying .* in ([\d.]+) s after")
    found = (pattern.match(r.getMessage()) for r in caplog.records)
    return [float(m.group(1)) for m in found if m]


@pytest.mark.parametrize("status", ["429", "503"])
@pytest.mark.parametrize("name", ["get", "create"])
@pytest.mark.parametrize("retry_after", ["2", "0.2", "0"])
async def test_retry_after_seconds_are_honoured(
    server: tuple[FaultyServer, str],
    slept: list[float],
    caplog: pytest.LogCaptureFixture,
    status: str,
    name: str,
    retry_after: str,
) -> None:
    faulty, url = server
    faulty.fault, faulty.retry_after = status, retry_after

    async with client(base_url=url) as nuextract:
        with pytest.raises(APIError):
            await CALLS[name](nuextract.projects)

    assert faulty.hits == 3
    assert slept == [float(retry_after)] * 2
    assert _retry_delays(caplog) == [float(retry_after)] * 2


async def test_retry_after_as_an_http_date(
    server: tuple[FaultyServer, str],
    slept: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    faulty, url = server
    faulty.fault = "503"
    faulty.retry_after = formatdate(time.time() + 2, usegmt=True)

    async with client(base_url=url, max_retries=1) as nuextract:
        with pytest.raises(InternalServerError):
            await nuextract.projects.get("p-1")

    (delay,) = _retry_delays(caplog)
    assert 0 < delay <= 2
    assert len(slept) == 1
    assert slept[0] == pytest.approx(delay, abs=0.01)
    assert faulty.hits == 2


@pytest.mark.parametrize("retry_after", ["-1", "inf", "abc", "nan", ""])
async def test_invalid_retry_after_falls_back_to_backoff(
    server: tuple[FaultyServer, str],
    slept: list[float],
    caplog: pytest.LogCaptureFixture,
    retry_after: str,
) -> None:
    faulty, url = server
    faulty.fault, faulty.retry_after = "429", retry_after

    async with client(base_url=url) as nuextract:
        with pytest.raises(RateLimitError):
            await nuextract.projects.get("p-1")

    first, second = slept
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0
    assert _retry_delays(caplog) == [round(first, 2), round(second, 2)]
    assert faulty.hits == 3


@pytest.mark.parametrize("retry_after", ["100000", "61"])
async def test_retry_after_past_the_cap_raises_at_once(
    server: tuple[FaultyServer, str], slept: list[float], retry_after: str
) -> None:
    faulty, url = server
    faulty.fault, faulty.retry_after = "429", retry_after

    async with client(base_url=url) as nuextract:
        with pytest.raises(RateLimitError) as caught:
            await nuextract.projects.get("p-1")

    assert faulty.hits == 1
    assert caught.value.headers["Retry-After"] == retry_after
    assert slept == []


async def test_a_timeout_is_a_timeout_error(server: tuple[FaultyServer, str]) -> None:
    faulty, url = server
    faulty.fault = "slow"

    async with client(base_url=url, timeout=TIMEOUT, max_retries=0) as nuextract:
        with pytest.raises(TimeoutError) as caught:
            await nuextract.projects.get("p-1")

    assert isinstance(caught.value, APITimeoutError)
    assert caught.value.request_sent


async def test_per_call_timeout_overrides_the_client() -> None:
    async def late(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return web.json_response(project_wire())

    async with loopback_server(late) as late_url:
        async with client(base_url=late_url, max_retries=0) as nuextract:
            with pytest.raises(APITimeoutError):
                await nuextract.projects.get("p-1", timeout=TIMEOUT)
            unlimited = await nuextract.projects.get("p-1", timeout=None)
        async with client(base_url=late_url, timeout=TIMEOUT, max_retries=0) as short:
            with pytest.raises(APITimeoutError):
                await short.projects.get("p-1")
            longer = await short.projects.get("p-1", timeout=5)

    assert unlimited.id == longer.id == "p-1"


async def test_bodies_are_sent_unchanged_on_every_attempt(
    server: tuple[FaultyServer, str],
) -> None:
    faulty, url = server
    faulty.fault = "503"

    async with client(base_url=url) as nuextract:
        with pytest.raises(InternalServerError):
            await fast_retries(nuextract).projects.update("p-1", description="")

    assert [json.loads(b) for b in faulty.bodies] == [{"description": ""}] * 3


@contextmanager
def unanswered_listener() -> Iterator[str]:
    """A loopback port whose accept queue is full: connecting never completes."""
    server = socket.socket()
    fillers: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


@pytest.mark.parametrize("name", ["create", "duplicate"])
async def test_a_connection_that_never_opens_is_not_reported_as_sent(
    name: str,
) -> None:
    # The total timeout must not beat the connect limit: nothing left the
    # client, so a create or duplicate is safe to retry and was not applied.
    with unanswered_listener() as url:
        async with client(base_url=url, timeout=0.5, max_retries=0) as nuextract:
            with pytest.raises(APITimeoutError) as caught:
                await CALLS[name](nuextract.projects)

    assert caught.value.request_sent is False
    assert caught.value.may_have_been_applied is False


async def test_closing_the_client_stops_queued_calls_and_retries() -> None:
    release = asyncio.Event()

    async def stalled(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response(project_wire())

    async with loopback_server(stalled) as url:
        nuextract = client(base_url=url, max_connections=1, max_retries=2)
        calls = [
            asyncio.create_task(nuextract.projects.get(f"p-{i}")) for i in range(4)
        ]
        await asyncio.sleep(0.2)  # one call holds the only slot, three wait
        await nuextract.aclose()
        release.set()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)

    # Every call ends in a typed error; the waiting ones were never sent.
    assert all(isinstance(o, NuExtractError) for o in outcomes), outcomes
    waiting = [o for o in outcomes if isinstance(o, ClientClosedError)]
    assert len(waiting) >= 3


async def test_a_call_in_flight_when_the_client_closes_says_what_it_may_have_done() -> (
    None
):
    release = asyncio.Event()

    async def stalled(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response(project_wire())

    async with loopback_server(stalled) as url:
        nuextract = client(base_url=url)
        copy = asyncio.create_task(nuextract.projects.duplicate("p-1"))
        read = asyncio.create_task(nuextract.projects.get("p-1"))
        await asyncio.sleep(0.2)  # both sent, neither answered
        await nuextract.aclose()
        release.set()
        copied, fetched = await asyncio.gather(copy, read, return_exceptions=True)

    assert isinstance(copied, ClientClosedError)
    assert copied.may_have_been_applied is True
    assert isinstance(fetched, ClientClosedError)
    assert fetched.may_have_been_applied is False
