"""The pytest plugin's fixtures, loaded through the ``pytest11`` entry point."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING

import aiohttp
import pytest

from nuextract_async.emulator import RunningEmulator

if TYPE_CHECKING:
    from nuextract_async import AsyncNuExtract


def _client_available() -> bool:
    try:
        from nuextract_async import AsyncNuExtract  # noqa: F401
    except ImportError:
        return False
    return True


async def test_emulator_fixture_serves_on_loopback(
    nuextract_emulator: RunningEmulator,
) -> None:
    assert nuextract_emulator.base_url.startswith("http://127.0.0.1:")
    assert not nuextract_emulator.base_url.endswith("/")
    assert set(nuextract_emulator.tokens) == {
        "test-token",
        "other-token",
        "admin-token",
    }

    headers = {"Authorization": "Bearer test-token"}
    url = nuextract_emulator.base_url + "/api/projects"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers) as r,
    ):
        assert r.status == 200
        assert await r.json() == []


async def test_emulator_fixture_is_fresh_per_test(
    nuextract_emulator: RunningEmulator,
) -> None:
    assert len(nuextract_emulator.store) == 0
    assert nuextract_emulator.stats.snapshot()["requests"]["list"] == 0
    nuextract_emulator.store.add_project(owner_user="user-1")


def test_thread_fixture_serves_sync_code(
    nuextract_emulator_thread: RunningEmulator,
) -> None:
    url = nuextract_emulator_thread.base_url + "/_emulator/stats"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200


@pytest.mark.skipif(not _client_available(), reason="the client has not landed")
async def test_client_fixture_talks_to_the_emulator(
    nuextract_client: AsyncNuExtract, nuextract_emulator: RunningEmulator
) -> None:
    nuextract_emulator.store.add_project(owner_user="user-1", name="Orders")

    projects = await nuextract_client.projects.list()

    assert [p.name for p in projects] == ["Orders"]
    assert nuextract_emulator.stats.requests["list"] == 1


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plugin_imports_cheaply_and_without_pytest_asyncio() -> None:
    code = (
        "import sys\n"
        "sys.modules['pytest_asyncio'] = None\n"
        "import nuextract_async.emulator.pytest_plugin as plugin\n"
        "assert not hasattr(plugin, 'nuextract_emulator')\n"
        "assert hasattr(plugin, 'nuextract_emulator_thread')\n"
        "assert 'nuextract_async.emulator._app' not in sys.modules\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr


def test_every_public_name_resolves() -> None:
    import nuextract_async.emulator as emulator

    for name in emulator.__all__:
        assert getattr(emulator, name) is not None, name
    assert sorted(emulator.__all__) == sorted(emulator._HOME_OF)
    with pytest.raises(AttributeError):
        _ = emulator.missing  # type: ignore[attr-defined]


def test_emulator_imports_without_pytest() -> None:
    code = (
        "import sys\n"
        "sys.modules['pytest'] = None\n"
        "from nuextract_async.emulator import run_emulator, Faults, Store\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
