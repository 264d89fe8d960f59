"""Fault injection: seeded, limited by operation, visible in the stats."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from nuextract_async.emulator import (
    FAULT_KINDS,
    OPERATIONS,
    Faults,
    RunningEmulator,
    decide,
    run_emulator,
)

AUTH = {"Authorization": "Bearer test-token"}

# A fixed mix of operations, each a (method, path-after-/api/projects) pair.
MIX = [
    ("GET", ""),
    ("GET", "/{id}"),
    ("POST", "/{id}/duplicate"),
    ("POST", "/{id}/lock"),
    ("POST", "/{id}/unlock"),
    ("GET", "/{id}"),
]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def seed(emu: RunningEmulator) -> str:
    return str(emu.store.add_project(owner_user="user-1", name="Orders")["id"])


async def outcome(
    session: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> str:
    """Return the status as text, or the name of the connection error."""
    try:
        async with session.request(method, url, headers=AUTH, **kw) as response:
            await response.read()
            return str(response.status)
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def run_mix(faults: Faults, rounds: int = 20) -> list[str]:
    """Send MIX ``rounds`` times, one request after another; list outcomes."""
    async with run_emulator(faults=faults) as emu, aiohttp.ClientSession() as s:
        pid = seed(emu)
        url = emu.base_url + "/api/projects"
        return [
            await outcome(s, method, url + path.format(id=pid))
            for _ in range(rounds)
            for method, path in MIX
        ]


MIXED = Faults(rate_503=0.15, rate_429=0.15, drop_before=0.1, drop_after=0.1, seed=7)


async def test_the_same_seed_gives_the_same_faults() -> None:
    first = await run_mix(MIXED)
    second = await run_mix(MIXED)

    assert first == second
    kinds = Counter(first)
    assert kinds["503"] > 0
    assert kinds["429"] > 0
    assert kinds["ServerDisconnectedError"] > 0
    assert kinds["200"] > 0


async def test_another_seed_gives_other_faults() -> None:
    first = await run_mix(MIXED)
    other = await run_mix(Faults(**{**_fields(MIXED), "seed": 8}))
    assert first != other


def _fields(faults: Faults) -> dict[str, Any]:
    return {
        name: getattr(faults, name)
        for name in (
            "latency",
            "rate_503",
            "rate_429",
            "retry_after",
            "drop_before",
            "drop_after",
            "slow_rate",
            "slow_seconds",
            "operations",
            "seed",
        )
    }


def test_decisions_depend_on_seed_operation_and_index_only() -> None:
    faults = Faults(rate_503=0.5, seed=3)
    draws = [decide(faults, "get", n) for n in range(200)]

    assert draws == [decide(faults, "get", n) for n in range(200)]
    assert draws != [decide(faults, "list", n) for n in range(200)]
    assert 60 < sum(d.status == 503 for d in draws) < 140


def test_raising_one_rate_keeps_the_hits_of_another() -> None:
    low = Faults(rate_429=0.2, drop_after=0.1, seed=1)
    high = Faults(rate_429=0.2, drop_after=0.3, seed=1)
    low_hits = {n for n in range(500) if decide(low, "get", n).status == 429}
    high_hits = {n for n in range(500) if decide(high, "get", n).status == 429}
    assert low_hits == high_hits


def test_faults_validate_their_values() -> None:
    assert Faults(operations="get, duplicate").operations == {"get", "duplicate"}
    assert Faults(operations=["lock"]).operations == {"lock"}
    assert not Faults().active
    assert Faults(latency=0.1).active
    with pytest.raises(ValueError, match="unknown operations"):
        Faults(operations={"extract"})
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        Faults(rate_503=1.5)
    with pytest.raises(ValueError, match=">= 0 seconds"):
        Faults(latency=-1)
    with pytest.raises(ValueError, match="one header line"):
        Faults(retry_after="1\r\nX: y")


async def test_faults_hit_only_the_chosen_operations(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(rate_503=1.0, operations={"duplicate"})
    async with run_emulator(faults=faults) as emu:
        pid = seed(emu)
        url = f"{emu.base_url}/api/projects/{pid}"

        assert await outcome(session, "GET", url) == "200"
        assert await outcome(session, "POST", url + "/lock") == "200"
        assert await outcome(session, "POST", url + "/duplicate") == "503"
        assert await outcome(session, "POST", url + "/duplicate") == "503"

        snapshot = emu.stats.snapshot()
        assert snapshot["faults"]["rate_503"] == 2
        assert snapshot["faults_by_operation"] == {
            "duplicate": dict.fromkeys(FAULT_KINDS, 0) | {"rate_503": 2}
        }
        assert snapshot["requests"]["duplicate"] == 2
        assert emu.stats.duplicated == {}


async def test_drop_after_applies_the_change_but_sends_no_answer(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(drop_after=1.0, operations={"duplicate", "create"})
    async with run_emulator(faults=faults) as emu:
        pid = seed(emu)
        url = emu.base_url + "/api/projects"

        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(f"{url}/{pid}/duplicate", headers=AUTH)
        body = {"name": "n", "description": "", "template": {}}
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(url, headers=AUTH, json=body)

        assert emu.stats.duplicated == {pid: 1}
        assert emu.stats.created == 1
        assert len(emu.store) == 3
        assert emu.stats.faults["drop_after"] == 2
        assert sum(emu.stats.responses.values()) == 0


async def test_drop_before_changes_nothing(session: aiohttp.ClientSession) -> None:
    faults = Faults(drop_before=1.0, operations={"duplicate"})
    async with run_emulator(faults=faults) as emu:
        pid = seed(emu)

        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(
                f"{emu.base_url}/api/projects/{pid}/duplicate",
                headers=AUTH,
                data=b"x" * 10_000,
            )

        assert emu.stats.duplicated == {}
        assert len(emu.store) == 1
        assert emu.stats.faults["drop_before"] == 1
        assert emu.stats.requests["duplicate"] == 1


@pytest.mark.parametrize(
    ("status", "code", "field"),
    [(429, "RateLimited", "rate_429"), (503, "Unavailable", "rate_503")],
)
@pytest.mark.parametrize("retry_after", ["0", "2", "-1", "inf", "abc", "100000"])
async def test_injected_errors_carry_retry_after(
    session: aiohttp.ClientSession,
    status: int,
    code: str,
    field: str,
    retry_after: str,
) -> None:
    faults = Faults(**{field: 1.0}, retry_after=retry_after)
    async with run_emulator(faults=faults) as emu:
        async with session.get(emu.base_url + "/api/projects") as response:
            body = await response.json()
            assert response.status == status
            assert response.headers["Retry-After"] == retry_after
        assert body["code"] == code
        assert emu.stats.responses == {status: 1}


async def test_retry_after_can_be_left_out(session: aiohttp.ClientSession) -> None:
    faults = Faults(rate_503=1.0, retry_after=None)
    async with (
        run_emulator(faults=faults) as emu,
        session.get(emu.base_url + "/api/projects") as response,
    ):
        assert response.status == 503
        assert "Retry-After" not in response.headers


async def test_faults_come_before_authentication(
    session: aiohttp.ClientSession,
) -> None:
    async with (
        run_emulator(faults=Faults(rate_429=1.0)) as emu,
        session.get(emu.base_url + "/api/projects") as response,
    ):
        assert response.status == 429


async def test_slow_answers_apply_the_change_then_wait(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(slow_rate=1.0, slow_seconds=0.5, operations={"create"})
    async with run_emulator(faults=faults) as emu:
        body = {"name": "n", "description": "", "template": {}}
        url = emu.base_url + "/api/projects"
        timeout = aiohttp.ClientTimeout(total=0.1)

        with pytest.raises(asyncio.TimeoutError):
            await session.post(url, headers=AUTH, json=body, timeout=timeout)
        assert emu.stats.created == 1

        async with session.post(url, headers=AUTH, json=body) as response:
            assert response.status == 200
        async with session.get(url, headers=AUTH, timeout=timeout) as response:
            assert response.status == 200
        assert emu.stats.faults["slow"] == 2


async def test_latency_delays_every_chosen_request(
    session: aiohttp.ClientSession,
) -> None:
    async with run_emulator(faults=Faults(latency=0.5, operations={"get"})) as emu:
        pid = seed(emu)
        timeout = aiohttp.ClientTimeout(total=0.1)

        async with session.get(
            emu.base_url + "/api/projects", headers=AUTH, timeout=timeout
        ) as response:
            assert response.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await session.get(
                f"{emu.base_url}/api/projects/{pid}", headers=AUTH, timeout=timeout
            )


async def test_set_faults_at_run_time_restarts_the_sequence(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(rate_503=0.5, seed=11)
    async with run_emulator() as emu:
        url = emu.base_url + "/api/projects"
        assert await outcome(session, "GET", url) == "200"

        emu.set_faults(faults)
        assert emu.faults is faults
        first = [await outcome(session, "GET", url) for _ in range(30)]
        emu.set_faults(faults)
        second = [await outcome(session, "GET", url) for _ in range(30)]
        emu.set_faults(Faults())
        third = [await outcome(session, "GET", url) for _ in range(5)]

    assert first == second
    assert set(first) == {"200", "503"}
    assert third == ["200"] * 5


async def test_stats_endpoint_needs_no_token(session: aiohttp.ClientSession) -> None:
    async with run_emulator(faults=Faults(rate_429=1.0, operations={"get"})) as emu:
        pid = seed(emu)
        async with session.post(
            f"{emu.base_url}/api/projects/{pid}/duplicate", headers=AUTH
        ) as response:
            assert response.status == 200
        async with session.get(f"{emu.base_url}/api/projects/{pid}") as response:
            assert response.status == 429

        async with session.get(emu.base_url + "/_emulator/stats") as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            stats = json.loads(await response.text())
        async with session.post(emu.base_url + "/_emulator/stats") as response:
            assert response.status == 405
        async with session.get(emu.base_url + "/_emulator/other") as response:
            assert response.status == 404

    assert stats == emu.stats.snapshot()
    assert stats["duplicated"] == {pid: 1}
    assert stats["duplicated_total"] == 1
    assert stats["created"] == 0
    assert stats["requests"] == dict.fromkeys(OPERATIONS, 0) | {
        "duplicate": 1,
        "get": 1,
    }
    assert stats["responses"] == {"200": 1, "429": 1}
    assert stats["faults"]["rate_429"] == 1
    assert stats["faults_by_operation"]["get"]["rate_429"] == 1


def test_stats_reset() -> None:
    from nuextract_async.emulator import Stats

    stats = Stats()
    stats.created = 3
    stats.duplicated["a"] = 1
    stats.count_fault("slow", "get")
    stats.reset()
    assert stats.snapshot() == Stats().snapshot()
