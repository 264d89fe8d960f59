"""A loopback HTTP server that answers with exactly the bytes a test scripts.

aiohttp.web always writes well-formed answers; a misbehaving service does
not. This server reads each request itself and writes whatever the test's
``answer`` function returns: a malformed status line, a body shorter than
its ``Content-Length``, no ``Content-Type`` at all, garbage that is not HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from nuextract_async import AsyncNuExtract


class Seen(NamedTuple):
    """One request as it arrived: raw target, headers in order, raw body."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Reply(NamedTuple):
    """Bytes to write back; ``close`` ends the connection after them."""

    data: bytes
    close: bool = False


def http(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str | None = "application/json",
    headers: Iterable[tuple[str, str]] = (),
    reason: str = "Whatever",
    length: int | bool | None = True,
) -> bytes:
    """An HTTP/1.1 answer. ``length=True`` states the real length, an int a
    false one, ``None`` none at all (the body then runs until the close)."""
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} {reason}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length is True:
        lines.append(f"Content-Length: {len(data)}")
    elif type(length) is int:
        lines.append(f"Content-Length: {length}")
    lines.extend(f"{k}: {v}" for k, v in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def json_reply(payload: Any, status: int = 200) -> Reply:
    """A well-formed JSON answer on a connection that stays open."""
    return Reply(http(status, json.dumps(payload)))


class RawServer:
    """Serves ``answer(request)`` for every request; remembers each request."""

    def __init__(self, answer: Callable[[Seen], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.connections = 0
        self.url = ""
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while True:
                seen = await _read_request(reader)
                self.seen.append(seen)
                reply = self.answer(seen)
                writer.write(reply.data)
                await writer.drain()
                if reply.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def shutdown(self) -> None:
        for writer in list(self._writers):
            writer.close()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        await asyncio.gather(*tasks, return_exceptions=True)


async def _read_request(reader: asyncio.StreamReader) -> Seen:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = []
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    seen = Seen(method, target, headers, b"")
    length = int(seen.header("Content-Length") or 0)
    body = await reader.readexactly(length) if length else b""
    return seen._replace(body=body)


@asynccontextmanager
async def raw_server(answer: Callable[[Seen], Reply]) -> AsyncIterator[RawServer]:
    """Serve ``answer`` on 127.0.0.1; ``server.url`` is its base URL."""
    raw = RawServer(answer)
    server = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield raw
    finally:
        server.close()
        await raw.shutdown()
        await server.wait_closed()


def pool_is_idle(client: AsyncNuExtract) -> bool:
    """No connection slot of ``client`` is taken, nor any pooled connection."""
    transport = client._transport
    slots = transport._slots
    session = transport._session
    if slots is not None and slots._value != transport._max_connections:
        return False
    if session is None:
        return True
    connector = session.connector
    return connector is None or not connector._acquired
