"""Cancelled calls give back their connection slot, their socket and their task.

C07: with two connections and a slow server, five cancelled calls must not
keep a slot taken, so the next call still gets through. Then hundreds of
calls cancelled at random moments (seeded) under retries and faults: the
pool ends idle, every change the server made is one the caller asked for,
and nothing is left running or unclosed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from badserver import pool_is_idle
from core_support import loopback_server, project_wire

from nuextract_async import APIError, AsyncNuExtract, ProjectResponse
from nuextract_async.emulator import Faults, run_emulator


@pytest.fixture
async def no_leaks(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail on any ``Unclosed`` warning or log, or a task left behind."""
    before = asyncio.all_tasks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert [r for r in caplog.records if "Unclosed" in r.getMessage()] == []
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert left == set()


class GatedServer:
    """Holds every request until ``gate`` opens; counts what it holds."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.holding = 0
        self.peak = 0
        self._changed = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        async with self._changed:
            self.holding += 1
            self.peak = max(self.peak, self.holding)
            self._changed.notify_all()
        try:
            await self.gate.wait()
        finally:
            self.holding -= 1
        return web.json_response(project_wire())

    async def until_holding(self, count: int) -> None:
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: self.holding >= count)


@pytest.fixture
async def gated(no_leaks: None) -> AsyncIterator[tuple[GatedServer, str]]:
    server = GatedServer()
    async with loopback_server(server.handle) as url:
        yield server, url
        server.gate.set()


async def test_c07_cancelled_calls_free_their_slots(
    gated: tuple[GatedServer, str],
) -> None:
    server, url = gated

    async with AsyncNuExtract(api_key="k", base_url=url, max_connections=2) as client:
        tasks = [asyncio.create_task(client.projects.get(f"p-{n}")) for n in range(5)]
        await server.until_holding(2)
        await asyncio.sleep(0.5)
        assert server.peak == 2  # two in flight, three waiting for a slot
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)

        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert pool_is_idle(client)
        server.gate.set()
        project = await client.projects.get("p-last")
        assert isinstance(project, ProjectResponse)
        both = await asyncio.gather(client.projects.get("a"), client.projects.get("b"))
        assert len(both) == 2
        assert pool_is_idle(client)


async def test_cancelling_calls_waiting_for_a_slot_lets_the_others_through(
    gated: tuple[GatedServer, str],
) -> None:
    server, url = gated

    async with AsyncNuExtract(api_key="k", base_url=url, max_connections=1) as client:
        first = asyncio.create_task(client.projects.get("first"))
        await server.until_holding(1)
        waiting = [asyncio.create_task(client.projects.get(f"w{n}")) for n in range(3)]
        await asyncio.sleep(0.05)
        waiting[0].cancel()
        waiting[2].cancel()
        server.gate.set()
        done = await asyncio.gather(first, *waiting, return_exceptions=True)

        assert isinstance(done[0], ProjectResponse)
        assert isinstance(done[1], asyncio.CancelledError)
        assert isinstance(done[2], ProjectResponse)
        assert isinstance(done[3], asyncio.CancelledError)
        assert server.peak == 1
        assert pool_is_idle(client)


async def test_a_timeout_around_a_call_behaves_like_a_cancel(
    gated: tuple[GatedServer, str],
) -> None:
    server, url = gated

    async with AsyncNuExtract(api_key="k", base_url=url, max_connections=1) as client:
        for _ in range(3):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await client.projects.get("p-1")
        assert pool_is_idle(client)
        server.gate.set()
        assert isinstance(await client.projects.get("p-1"), ProjectResponse)


SOURCES = 20
CALLS = 200


def _operations(
    client: AsyncNuExtract, ids: list[str], rng: random.Random
) -> list[tuple[str, Any]]:
    plan = []
    for n in range(CALLS):
        project_id = ids[n % len(ids)]
        kind = rng.choice(["get", "duplicate", "lock", "unlock", "list"])
        call = {
            "get": lambda p=project_id: client.projects.get(p),
            "duplicate": lambda p=project_id: client.projects.duplicate(p),
            "lock": lambda p=project_id: client.projects.lock(p),
            "unlock": lambda p=project_id: client.projects.unlock(p),
            "list": lambda: client.projects.list(),
        }[kind]
        plan.append((kind, call))
    return plan


async def _run_and_cancel(call: Any, delay: float | None) -> str:
    """Run ``call``; cancel it at once (0), after ``delay`` s, or never (None)."""
    task = asyncio.create_task(call())
    if delay != 0:
        await asyncio.wait({task}, timeout=delay)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    except APIError:
        return "failed"
    return "done"


def _delays(rng: random.Random) -> list[float | None]:
    """A third cancelled before starting, a third mid-flight, a third never."""
    choices: list[float | None] = [0, None]
    return [rng.choice([*choices, rng.uniform(0.001, 0.06)]) for _ in range(CALLS)]


async def test_random_cancellations_under_load_leave_nothing_behind(
    caplog: pytest.LogCaptureFixture, no_leaks: None
) -> None:
    caplog.set_level(logging.ERROR, logger="nuextract")
    rng = random.Random(20240607)
    faults = Faults(
        latency=0.01,
        rate_503=0.1,
        retry_after="0.01",
        drop_after=0.02,
        slow_rate=0.05,
        slow_seconds=0.05,
        seed=3,
    )

    async with run_emulator(faults=faults) as emu:
        ids = [
            emu.store.add_project(owner_user="user-1", name=f"S{n}")["id"]
            for n in range(SOURCES)
        ]
        async with AsyncNuExtract(
            api_key="test-token", base_url=emu.base_url, max_connections=8
        ) as client:
            plan = _operations(client, ids, rng)
            delays = _delays(rng)
            outcomes = await asyncio.gather(
                *(
                    _run_and_cancel(call, delay)
                    for (_, call), delay in zip(plan, delays, strict=True)
                )
            )
            assert pool_is_idle(client)
            emu.set_faults(Faults())
            after = await client.projects.get(ids[0])

        assert after.id == ids[0]
        kinds = [kind for kind, _ in plan]
        asked = kinds.count("duplicate")
        copied = sum(
            k == "duplicate" and o == "done"
            for k, o in zip(kinds, outcomes, strict=True)
        )
        made = emu.stats.duplicated_total
        assert copied <= made <= asked
        assert len(emu.store) == SOURCES + made

    for delay, outcome in zip(delays, outcomes, strict=True):
        if delay == 0:
            assert outcome == "cancelled"
        elif delay is None:
            assert outcome != "cancelled"
    assert 0 < delays.count(0) < CALLS
    assert 0 < delays.count(None) < CALLS
