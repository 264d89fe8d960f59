"""Helpers shared by the client-core tests: sample bodies, mocks, loopback servers."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses

from nuextract_async import AsyncNuExtract
from nuextract_async._retry import RetryPolicy

API = "https://nuextract.test"
TOKEN = "sk-live-0123456789abcdef-secret"


def project_wire(**changes: Any) -> dict[str, Any]:
    """A ProjectResponse body as the service sends it."""
    wire: dict[str, Any] = {
        "id": "p-1",
        "name": "Invoices",
        "description": "",
        "template": {"orderId": "verbatim-string", "items": [{"qty": "number"}]},
        "ownerUser": "user-1",
        "ownerOrganization": None,
        "createdAt": "2026-12-04T15:28:47.976578Z",
        "updatedAt": "2026-12-04T15:28:47Z",
        "lockState": False,
        "shared": False,
        "settings": {
            "temperature": 0.0,
            "rasterizationDPI": 115,
            "maxOutputTokens": 0,
            "degradedMode": "Reject",
            "maxTokensSmartExample": 16000,
        },
    }
    wire.update(changes)
    return wire


# aiohttp 3.14 made ``stream_writer`` a required argument of ClientResponse,
# which aioresponses 0.7.9 does not pass (aioresponses issue 289). Until a
# release passes it, mocked answers are built with this subclass.
_NEEDS_STREAM_WRITER = (
    "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters
)


class _MockedResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@contextmanager
def mocked_api() -> Iterator[aioresponses]:
    """An aioresponses mock whose answers build on every supported aiohttp."""
    with pytest.MonkeyPatch.context() as patch, aioresponses() as mocked:
        patch.setattr("aioresponses.core.ClientResponse", _MockedResponse)
        yield mocked


def sent_requests(mocked: aioresponses) -> list[tuple[str, str, Any]]:
    """(method, raw path and query, decoded JSON body or None) of each request."""
    calls = []
    for (method, url), requests in mocked.requests.items():
        for call in requests:
            data = call.kwargs.get("data")
            body = None if data is None else json.loads(data)
            calls.append((method, url.raw_path_qs, body))
    return calls


def only_request(mocked: aioresponses) -> Any:
    """The kwargs of the one request the mock saw."""
    calls = [call for group in mocked.requests.values() for call in group]
    assert len(calls) == 1, f"expected one request, saw {len(calls)}"
    return calls[0].kwargs


def client(**options: Any) -> AsyncNuExtract:
    """A client on the mocked base URL with the test token."""
    options.setdefault("api_key", TOKEN)
    options.setdefault("base_url", API)
    return AsyncNuExtract(**options)


def fast_retries(target: AsyncNuExtract) -> AsyncNuExtract:
    """Shrink the backoff of ``target`` to milliseconds; the counts stay as set."""
    transport = target._transport
    transport.policy = RetryPolicy(
        max_retries=transport.policy.max_retries,
        base_delay=0.001,
        max_delay=0.002,
        max_retry_after=transport.policy.max_retry_after,
    )
    return target


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def loopback_server(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` for every path on 127.0.0.1; yields the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextmanager
def refused_url() -> Iterator[str]:
    """A loopback URL whose port refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection without an answer (call after reading the request)."""
    assert request.transport is not None
    request.transport.close()
    return web.Response()


async def never(stop: asyncio.Event) -> None:
    """Wait until the test ends (a server that does not answer in time)."""
    await stop.wait()
