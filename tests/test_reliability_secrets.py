"""The API key never leaks: not in logs, reprs, errors, tracebacks or redirects.

One scenario drives every kind of outcome (success, each status error,
refused and dropped connections, timeouts, bad bodies, closed client) with
DEBUG logging on for every logger, aiohttp's and the emulator's access log
included; a distinctive key must then appear nowhere a user could see it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from badserver import Reply, Seen, http, raw_server
from core_support import fast_retries, refused_url

from nuextract_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncNuExtract,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    NuExtractError,
    PermissionDeniedError,
    ProjectLockedError,
    RateLimitError,
    ResponseValidationError,
)
from nuextract_async.emulator import Faults, Identity, run_emulator

SECRET = "nx-SECRET-4f1c9a7e2b8d6053"
LOCAL = "http://127.0.0.1:9"
LOGGERS = ["", "nuextract", "aiohttp", "aiohttp.access", "aiohttp.server", "asyncio"]


def leaks(text: str) -> bool:
    return SECRET in text


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def assert_no_secret_in(error: BaseException) -> None:
    assert not leaks("".join(traceback.format_exception(error)))
    for link in exception_chain(error):
        assert not leaks(str(link))
        assert not leaks(repr(link))
        assert not leaks(repr(getattr(link, "__dict__", {})))


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


SCRIPTED = {
    "/api/projects/bad-request": http(400, "Invalid: body", content_type="text/plain"),
    "/api/projects/server-error": http(
        500, "<html>boom</html>", content_type="text/html"
    ),
    "/api/projects/html": http(200, "<html>log in</html>", content_type="text/html"),
}


def _scripted(seen: Seen) -> Reply:
    data = SCRIPTED.get(seen.target)
    if data is None:
        return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", close=True)
    return Reply(data)


async def _expect(kind: type[NuExtractError], call: Awaitable[Any]) -> NuExtractError:
    with pytest.raises(kind) as caught:
        await call
    return caught.value


async def test_no_log_record_repr_or_error_shows_the_key(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    identities = {SECRET: Identity("user-s", frozenset({"org-1"}))}
    errors: list[NuExtractError] = []

    async with (
        run_emulator(identities=identities, access_log=True) as emu,
        raw_server(_scripted) as bad,
    ):
        mine = emu.store.add_project(owner_user="user-s", name="Mine")["id"]
        locked = emu.store.add_project(owner_user="user-s", locked=True)["id"]
        client = AsyncNuExtract(api_key=SECRET, base_url=emu.base_url, timeout=0.2)
        async with fast_retries(client) as nuextract:
            projects = nuextract.projects
            await projects.get(mine)
            await projects.duplicate(mine)
            errors.append(await _expect(NotFoundError, projects.get("missing")))
            errors.append(
                await _expect(PermissionDeniedError, projects.duplicate(mine, "org-2"))
            )
            errors.append(
                await _expect(ProjectLockedError, projects.update(locked, name="n"))
            )
            errors.append(await _expect(InvalidRequestError, projects.get("..")))

            emu.set_faults(Faults(rate_429=1.0, retry_after="0"))
            errors.append(await _expect(RateLimitError, projects.get(mine)))
            emu.set_faults(Faults(rate_503=1.0, retry_after="0"))
            errors.append(await _expect(InternalServerError, projects.duplicate(mine)))
            emu.set_faults(Faults(drop_before=1.0))
            errors.append(await _expect(APIConnectionError, projects.duplicate(mine)))
            emu.set_faults(Faults(slow_rate=1.0, slow_seconds=0.4))
            errors.append(await _expect(APITimeoutError, projects.get(mine)))
            emu.set_faults(Faults())
        errors.append(await _expect(ClientClosedError, nuextract.projects.get(mine)))

        async with AsyncNuExtract(
            api_key=SECRET + "-revoked", base_url=emu.base_url
        ) as stranger:
            errors.append(
                await _expect(AuthenticationError, stranger.projects.get(mine))
            )

        async with AsyncNuExtract(
            api_key=SECRET, base_url=bad.url, max_retries=0
        ) as odd:
            for target, kind in [
                ("bad-request", BadRequestError),
                ("server-error", InternalServerError),
                ("html", ResponseValidationError),
                ("cut-short", APIConnectionError),
            ]:
                errors.append(await _expect(kind, odd.projects.get(target)))
            assert all(
                s.header("Authorization") == f"Bearer {SECRET}" for s in bad.seen
            )
            shown = [repr(odd), str(odd), repr(odd._transport), repr(odd.projects)]

        with refused_url() as url:
            async with AsyncNuExtract(
                api_key=SECRET, base_url=url, max_retries=0
            ) as refused:
                errors.append(
                    await _expect(APIConnectionError, refused.projects.get(mine))
                )

    assert len({type(e) for e in errors}) == 12
    for error in errors:
        assert_no_secret_in(error)
    assert not any(leaks(text) for text in shown)
    assert any(r.name == "aiohttp.access" for r in debug_logs.records)
    assert any(r.name == "nuextract" for r in debug_logs.records)
    for record in debug_logs.records:
        assert not leaks(record.getMessage())
        assert not leaks(repr(record.args))
    assert not leaks(debug_logs.text)


@pytest.mark.parametrize(
    "build",
    [
        lambda: AsyncNuExtract(api_key=SECRET + "\r\nX: y", base_url="http://[::1]:9"),
        lambda: AsyncNuExtract(api_key=SECRET, base_url="http://example.com"),
        lambda: AsyncNuExtract(api_key=SECRET, base_url="ftp://example.com"),
        lambda: AsyncNuExtract(api_key=SECRET, base_url=f"https://u:{SECRET}@h.test"),
        lambda: AsyncNuExtract(api_key=SECRET, base_url=LOCAL, timeout=-1),
        lambda: AsyncNuExtract(api_key=SECRET, base_url=LOCAL, max_connections=0),
    ],
)
def test_configuration_errors_do_not_show_the_key(
    build: Callable[[], AsyncNuExtract],
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()

    assert_no_secret_in(caught.value)


# Redirects are never followed, so the key never travels to another origin.


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "elsewhere",
    ["http://127.0.0.1:{port}", "https://127.0.0.1:{port}", "http://localhost:{port}"],
)
async def test_a_redirect_elsewhere_never_carries_the_key(
    status: int, elsewhere: str
) -> None:
    async with raw_server(lambda seen: Reply(http(200, "{}"))) as other:
        location = elsewhere.format(port=other.url.rsplit(":", 1)[1]) + "/steal"
        redirect = http(status, "", headers=[("Location", location)])
        async with (
            raw_server(lambda seen: Reply(redirect)) as first,
            AsyncNuExtract(api_key=SECRET, base_url=first.url) as client,
        ):
            error = await _expect(APIStatusError, client.projects.get("p-1"))
            copy_error = await _expect(APIStatusError, client.projects.duplicate("p"))

    assert isinstance(error, APIStatusError)
    assert error.status == status
    assert error.headers["Location"] == location
    assert not copy_error.may_have_been_applied
    assert len(first.seen) == 2
    assert other.connections == 0
    assert other.seen == []
    assert_no_secret_in(error)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://example.com",
        "http://192.0.2.10",
        "http://[2001:db8::1]:8080",
        "http://127.0.0.1.example",
        "http://localhost.example",
        "http://api.localhost",
        "http://0.0.0.0",
    ],
)
async def test_plain_http_off_loopback_needs_the_opt_in(base_url: str) -> None:
    with pytest.raises(ConfigurationError):
        AsyncNuExtract(api_key=SECRET, base_url=base_url)

    # Constructed only: nothing is ever sent to these hosts.
    client = AsyncNuExtract(api_key=SECRET, base_url=base_url, allow_insecure_http=True)
    assert client.base_url == base_url
    await client.aclose()
