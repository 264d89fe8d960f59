"""Pytest fixtures serving the NuExtract emulator on loopback.

Loaded through the ``pytest11`` entry point. The async fixtures need
pytest-asyncio; without it only ``nuextract_emulator_thread`` is defined.

- ``nuextract_emulator``: a fresh :class:`RunningEmulator` per test.
- ``nuextract_client``: an ``AsyncNuExtract`` on it, token ``test-token``.
- ``nuextract_emulator_thread``: an emulator on its own thread and loop,
  for sync code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from nuextract_async import AsyncNuExtract
    from nuextract_async.emulator import RunningEmulator

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on the environment
    _HAS_PYTEST_ASYNCIO = False
else:
    _HAS_PYTEST_ASYNCIO = True


@pytest.fixture
def nuextract_emulator_thread() -> Iterator[RunningEmulator]:
    """An emulator served from a background thread."""
    from nuextract_async.emulator import run_emulator_in_thread

    with run_emulator_in_thread() as emu:
        yield emu


if _HAS_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def nuextract_emulator() -> AsyncIterator[RunningEmulator]:
        """A fresh emulator on 127.0.0.1, on the test's event loop."""
        from nuextract_async.emulator import run_emulator

        async with run_emulator() as emu:
            yield emu

    @pytest_asyncio.fixture
    async def nuextract_client(
        nuextract_emulator: RunningEmulator,
    ) -> AsyncIterator[AsyncNuExtract]:
        """An open client on ``nuextract_emulator``, closed after the test."""
        from nuextract_async import AsyncNuExtract

        async with AsyncNuExtract(
            api_key="test-token", base_url=nuextract_emulator.base_url
        ) as client:
            yield client
