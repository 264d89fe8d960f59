"""``python -m nuextract_async.emulator``: output, options, clean exit."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from nuextract_async.emulator import Identity, parse_token

URL_LINE = re.compile(r"^NUEXTRACT_EMULATOR_URL=(http://127\.0\.0\.1:\d+)$")


@asynccontextmanager
async def serve(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nuextract_async.emulator",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            first = (await proc.stdout.readline()).decode()
        match = URL_LINE.match(first.rstrip("\n"))
        if match is None:
            _, errors = await proc.communicate()
            pytest.fail(f"first line {first!r}, stderr: {errors.decode()}")
        yield proc, match.group(1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_prints_the_url_first_and_stops_cleanly(signum: int) -> None:
    async with serve("--samples") as (proc, url):
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": "Bearer test-token"}
            async with session.get(url + "/api/projects", headers=headers) as answer:
                assert answer.status == 200
                assert len(await answer.json()) == 3

        proc.send_signal(signum)
        async with asyncio.timeout(20):
            rest, errors = await proc.communicate()

    assert proc.returncode == 0, errors.decode()
    lines = rest.decode().splitlines()
    assert lines[0] == "token test-token: user user-1, orgs org-1"
    assert "token admin-token: user admin, orgs - admin" in lines
    assert sum(line.startswith("project ") for line in lines) == 4
    assert errors == b""


async def test_faults_and_tokens_from_the_command_line() -> None:
    args = [
        "--seed=3",
        "--rate-503=1",
        "--retry-after=7",
        "--operations=duplicate",
        "--token=tok=alice:org-a,org-b",
        "--token=rt=root::admin",
        "--no-default-tokens",
    ]
    async with serve(*args) as (proc, url), aiohttp.ClientSession() as session:
        alice = {"Authorization": "Bearer tok"}
        query = {"organizationId": "org-b"}
        async with session.get(url + "/api/projects", headers=alice, params=query) as r:
            assert r.status == 200
        test = {"Authorization": "Bearer test-token"}
        async with session.get(url + "/api/projects", headers=test) as r:
            assert r.status == 401
        async with session.post(url + "/api/projects/x/duplicate", headers=alice) as r:
            assert r.status == 503
            assert r.headers["Retry-After"] == "7"
        async with session.post(url + "/api/projects/x/share") as r:
            assert r.status == 401
        root = {"Authorization": "Bearer rt"}
        async with session.post(url + "/api/projects/x/share", headers=root) as r:
            assert r.status == 404

        proc.terminate()
        async with asyncio.timeout(20):
            await proc.communicate()
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "args",
    [["--rate-503", "2"], ["--operations", "extract"], ["--token", "nouser"]],
)
async def test_bad_options_exit_with_2(args: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nuextract_async.emulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        out, errors = await proc.communicate()
    assert proc.returncode == 2
    assert out == b""
    assert b"error" in errors


@pytest.mark.parametrize(
    ("spec", "token", "identity"),
    [
        ("t=alice", "t", Identity("alice")),
        ("t=alice:org-1", "t", Identity("alice", frozenset({"org-1"}))),
        ("t=a:o1,o2", "t", Identity("a", frozenset({"o1", "o2"}))),
        ("t=root::admin", "t", Identity("root", admin=True)),
        ("t=root:o1:admin", "t", Identity("root", frozenset({"o1"}), admin=True)),
        ("a=b=c", "a", Identity("b=c")),
    ],
)
def test_parse_token(spec: str, token: str, identity: Identity) -> None:
    assert parse_token(spec) == (token, identity)


@pytest.mark.parametrize(
    "spec", ["t", "=u", "t=", "t=:o", "t=u:o:root", "t=u:o:admin:x"]
)
def test_parse_token_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"TOKEN=USER|admin"):
        parse_token(spec)
