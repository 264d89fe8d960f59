"""Client configuration, life cycle, timeouts, logging and secrets."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import traceback
import warnings
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from core_support import (
    API,
    TOKEN,
    client,
    fast_retries,
    loopback_server,
    mocked_api,
    only_request,
    project_wire,
)

from nuextract_async import (
    AsyncNuExtract,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
)

ANY_URL = re.compile(r".*")
PROJECT = json.dumps(project_wire())


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NUEXTRACT_API_KEY", "NUMIND_API_KEY", "NUEXTRACT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with mocked_api() as mocked:
        mocked.get(ANY_URL, body=PROJECT, repeat=True)
        yield mocked


def _authorization(mocked: aioresponses) -> str:
    return str(only_request(mocked)["headers"]["Authorization"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://nuextract.ai"),
        ("https://nuextract.ai/", "https://nuextract.ai"),
        ("https://eu.example.test/prefix/", "https://eu.example.test/prefix"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1", "http://localhost:1"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_base_url(given: str | None, expected: str) -> None:
    assert AsyncNuExtract(api_key="k", base_url=given).base_url == expected


def test_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUEXTRACT_BASE_URL", "https://staging.example.test")

    assert AsyncNuExtract(api_key="k").base_url == "https://staging.example.test"
    assert AsyncNuExtract(api_key="k", base_url=API).base_url == API


@pytest.mark.parametrize(
    "base_url",
    [
        "nuextract.ai",
        "ftp://nuextract.ai",
        "https://",
        "https://user:secret@nuextract.ai",
        "https://nuextract.ai?x=1",
        "https://nuextract.ai#top",
        "http://nuextract.ai",
        "http://10.0.0.8:8080",
    ],
)
def test_bad_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ConfigurationError):
        AsyncNuExtract(api_key="k", base_url=base_url)


def test_plain_http_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http"):
        AsyncNuExtract(api_key="k", base_url="http://api.example.test")

    nuextract = AsyncNuExtract(
        api_key="k", base_url="http://api.example.test", allow_insecure_http=True
    )

    assert nuextract.base_url == "http://api.example.test"


@pytest.mark.parametrize(
    "api_key",
    ["abc\r\nX-Injected: 1", "abc\ndef", "abc def", "clé", "a\x00b", "\t", 42],
)
def test_keys_that_could_break_the_header_are_refused(api_key: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncNuExtract(api_key=api_key, base_url=API)  # type: ignore[arg-type]

    assert "abc" not in str(caught.value)


@pytest.mark.parametrize(
    ("explicit", "nuextract", "numind", "used"),
    [
        ("given", "from-nuextract", "from-numind", "given"),
        (None, "from-nuextract", "from-numind", "from-nuextract"),
        (None, None, "from-numind", "from-numind"),
        (None, "", "from-numind", "from-numind"),
    ],
)
async def test_api_key_sources(
    monkeypatch: pytest.MonkeyPatch,
    mocked: aioresponses,
    explicit: str | None,
    nuextract: str | None,
    numind: str | None,
    used: str,
) -> None:
    for name, value in (("NUEXTRACT_API_KEY", nuextract), ("NUMIND_API_KEY", numind)):
        if value is not None:
            monkeypatch.setenv(name, value)

    async with AsyncNuExtract(api_key=explicit, base_url=API) as nuextract_client:
        await nuextract_client.projects.get("p-1")

    assert _authorization(mocked) == f"Bearer {used}"


async def test_a_missing_key_fails_the_first_call_not_construction(
    mocked: aioresponses,
) -> None:
    nuextract = AsyncNuExtract(base_url=API)

    async with nuextract:
        with pytest.raises(ConfigurationError, match="NUEXTRACT_API_KEY"):
            await nuextract.projects.get("p-1")

    assert mocked.requests == {}


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", float("inf")),
        ("timeout", float("nan")),
        ("timeout", "5"),
        ("timeout", True),
        ("max_retries", -1),
        ("max_retries", 1.0),
        ("max_retries", True),
        ("max_connections", 0),
        ("max_connections", "10"),
        ("session", object()),
    ],
)
def test_bad_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(ConfigurationError):
        AsyncNuExtract(api_key="k", base_url=API, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("client_timeout", "call_timeout", "total"),
    [
        ("default", "default", 60.0),
        (5, "default", 5.0),
        (None, "default", None),
        (5, 0.25, 0.25),
        (5, None, None),
        (None, 2, 2.0),
    ],
)
async def test_timeout_per_client_and_per_call(
    mocked: aioresponses,
    client_timeout: float | str | None,
    call_timeout: float | str | None,
    total: float | None,
) -> None:
    options = {} if client_timeout == "default" else {"timeout": client_timeout}
    per_call = {} if call_timeout == "default" else {"timeout": call_timeout}

    async with client(**options) as nuextract:
        await nuextract.projects.get("p-1", **per_call)

    assert only_request(mocked)["timeout"].total == total


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), "5", True])
async def test_a_bad_per_call_timeout_fails_before_any_io(
    mocked: aioresponses, timeout: object
) -> None:
    async with client() as nuextract:
        with pytest.raises(InvalidRequestError, match="timeout"):
            await nuextract.projects.get("p-1", timeout=timeout)  # type: ignore[arg-type]

    assert mocked.requests == {}


async def test_async_with_yields_the_client_and_closes_it(mocked: aioresponses) -> None:
    nuextract = client()

    async with nuextract as entered:
        assert entered is nuextract
        await nuextract.projects.get("p-1")
        assert not nuextract.is_closed

    assert nuextract.is_closed


async def test_aclose_twice_and_calls_after_close(mocked: aioresponses) -> None:
    nuextract = client()
    await nuextract.projects.get("p-1")

    await nuextract.aclose()
    await nuextract.aclose()

    with pytest.raises(ClientClosedError):
        await nuextract.projects.get("p-1")
    assert len(mocked.requests) == 1


async def test_a_client_closed_before_use_refuses_calls(mocked: aioresponses) -> None:
    nuextract = client()
    await nuextract.aclose()

    with pytest.raises(ClientClosedError):
        await nuextract.projects.list()

    assert mocked.requests == {}


async def test_dropping_an_open_client_warns() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(project_wire())

    async with loopback_server(handler) as url:
        nuextract = client(base_url=url)
        await nuextract.projects.get("p-1")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del nuextract
            gc.collect()
            ours = [w for w in caught if "never closed" in str(w.message)]
            messages = [(w.category, str(w.message)) for w in ours]
            del ours
            caught.clear()  # the records hold the client; let its session go too
            gc.collect()
        await asyncio.sleep(0.01)

    assert len(messages) == 1
    category, message = messages[0]
    assert category is ResourceWarning
    assert "aclose()" in message


def test_a_client_that_never_opened_a_session_drops_silently() -> None:
    nuextract = AsyncNuExtract(api_key="k", base_url=API)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del nuextract
        gc.collect()


async def test_a_given_session_is_used_and_left_open() -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Caller"))
        return web.json_response(project_wire())

    async with (
        loopback_server(handler) as url,
        aiohttp.ClientSession(headers={"X-Caller": "mine"}) as session,
    ):
        async with client(base_url=url, session=session) as nuextract:
            await nuextract.projects.get("p-1")

        assert not session.closed
        assert seen == ["mine"]


def test_repr_shows_no_secret() -> None:
    nuextract = AsyncNuExtract(api_key=TOKEN, base_url=API)

    assert TOKEN not in repr(nuextract)
    assert TOKEN not in str(nuextract)
    assert API in repr(nuextract)


async def test_logging_shows_each_attempt_and_never_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = [503, 401]

    async def handler(request: web.Request) -> web.Response:
        status = answers.pop(0)
        return web.json_response(
            {"code": "x", "message": "no"}, status=status, headers={"Retry-After": "0"}
        )

    caplog.set_level(logging.DEBUG)
    async with loopback_server(handler) as url, client(base_url=url) as nuextract:
        with pytest.raises(AuthenticationError) as caught:
            await fast_retries(nuextract).projects.get("a/b")

    ours = [r for r in caplog.records if r.name == "nuextract"]
    assert [r.levelno for r in ours] == [logging.DEBUG, logging.WARNING, logging.DEBUG]
    first, retry, second = (r.getMessage() for r in ours)
    assert re.fullmatch(
        r"GET /api/projects/a%2Fb -> 503 in [\d.]+ ms \(attempt 1\)", first
    )
    assert re.fullmatch(
        r"retrying GET /api/projects/a%2Fb in 0\.00 s after 503 \(attempt 2 of 3\)",
        retry,
    )
    assert re.fullmatch(
        r"GET /api/projects/a%2Fb -> 401 in [\d.]+ ms \(attempt 2\)", second
    )
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)
    error = caught.value
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert TOKEN not in repr(vars(error))


async def test_connection_failures_are_logged_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client(base_url="http://127.0.0.1:9", max_retries=0) as nuextract:
        with pytest.raises(ConnectionError) as caught:
            await nuextract.projects.get("p-1")

    assert [r.levelno for r in caplog.records if r.name == "nuextract"] == [
        logging.DEBUG
    ]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://alice:s3cr3t-pw@127.0.0.1/",
        "http://alice:s3cr3t-pw@",
        "https://a:s3cr3t-pw@[::1",
    ],
)
def test_a_refused_base_url_never_echoes_its_password(base_url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AsyncNuExtract(api_key="k", base_url=base_url)

    shown = "".join(traceback.format_exception(caught.value))
    assert "s3cr3t-pw" not in shown
