"""Fault soak: 5,000 duplications at concurrency 64 against a flaky service.

The emulator answers 10 % of the duplications 503 (Retry-After 0), drops
3 % before and 2 % after handling them, and answers 1 % past the client's
timeout. The faults are seeded, so every run meets the same ones. Every
item must end as exactly one outcome, and the copies the service made must
be exactly the ones the outcomes account for: nothing lost, nothing made
twice.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections import Counter

from nuextract_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncNuExtract,
    BulkOutcome,
    InternalServerError,
    ProjectResponse,
)
from nuextract_async.emulator import Faults, run_emulator

SOURCES = 100
COPIES = 50
REQUESTED = SOURCES * COPIES
FAULTS = Faults(
    rate_503=0.10,
    retry_after="0",
    drop_before=0.03,
    drop_after=0.02,
    slow_rate=0.01,
    slow_seconds=0.6,
    operations={"duplicate"},
    seed=2026,
)


def outcome_kind(outcome: BulkOutcome[ProjectResponse]) -> str:
    if outcome.ok:
        return "succeeded"
    kind = type(outcome.error).__name__
    return f"{kind}, may have been applied" if outcome.may_have_been_applied else kind


async def test_5000_duplications_under_faults_lose_nothing() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with asyncio.timeout(120), run_emulator(faults=FAULTS) as emu:
            sources = [
                emu.store.add_project(owner_user="user-1", name=f"S{n}")["id"]
                for n in range(SOURCES)
            ]
            async with (
                AsyncNuExtract(
                    api_key="test-token", base_url=emu.base_url, timeout=0.5
                ) as client,
                client.projects.duplicate_many(
                    sources, copies=COPIES, concurrency=64
                ) as run,
            ):
                outcomes = [outcome async for outcome in run]
        # Read once the emulator has stopped, so no late handler is missed.
        stats = emu.stats.snapshot()
        stored = len(emu.store)
        gc.collect()

    table = Counter(map(outcome_kind, outcomes))
    faults = stats["faults_by_operation"]["duplicate"]
    injected = ("rate_503", "drop_before", "drop_after", "slow")
    assert all(faults[kind] > 0 for kind in injected), faults

    # Exactly one outcome per item.
    assert sorted(o.index for o in outcomes) == list(range(REQUESTED))
    assert Counter(o.project_id for o in outcomes) == dict.fromkeys(sources, COPIES)

    # What the service made is what the outcomes say, and never more.
    succeeded = [o for o in outcomes if o.ok]
    maybe = [o for o in outcomes if o.may_have_been_applied]
    made = stats["duplicated_total"]
    assert made == len(succeeded) + len(maybe) - faults["drop_before"], table
    assert len(succeeded) <= made <= len(succeeded) + len(maybe)
    assert all(count <= COPIES for count in stats["duplicated"].values())
    assert stored == SOURCES + made
    assert len({o.result.id for o in succeeded if o.result}) == len(succeeded)

    # The failures are the documented ones: a lost answer (reported, not
    # resent) or a 503 that outlasted the retries (never applied).
    for outcome in outcomes:
        if outcome.ok:
            continue
        if outcome.may_have_been_applied:
            assert isinstance(outcome.error, APIConnectionError)
        else:
            assert isinstance(outcome.error, InternalServerError)
    timed_out = [o for o in maybe if isinstance(o.error, APITimeoutError)]
    assert len(timed_out) >= faults["slow"]
    assert run.progress.done == REQUESTED
    assert run.progress.succeeded == len(succeeded)
    assert run.progress.may_have_been_applied == len(maybe)
    assert [str(w.message) for w in caught] == []
