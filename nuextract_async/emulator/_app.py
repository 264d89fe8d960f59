"""The aiohttp server: routing, authentication, faults, and its life cycle.

Routing reads ``request.raw_path`` itself, so a project id arrives as exactly
one percent-encoded segment and is decoded once: ``a%2Fb`` names ``a/b``. A
segment with a character a path may not carry unencoded, a stray ``%`` or
bytes that are not UTF-8 is answered with a plain-text 400.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web

from ._faults import NO_FAULT, OPERATIONS, Decision, Faults, decide
from ._identity import Identity, default_identities
from ._rules import BAD_PROJECT_ID, ApiError, Rules
from ._stats import Stats
from ._store import Store
from .samples import seed_samples as _seed_samples

__all__ = [
    "EMULATOR_KEY",
    "Emulator",
    "RunningEmulator",
    "create_app",
    "route",
    "run_emulator",
    "run_emulator_in_thread",
]

_PREFIX = "/api/projects"
_COLLECTION = {"GET": "list", "POST": "create"}
_ITEM = {"GET": "get", "PATCH": "update", "DELETE": "delete"}
_ACTIONS = {
    "settings": ("PATCH", "update_settings"),
    "template": ("PUT", "replace_template"),
    "reset-settings": ("POST", "reset_settings"),
    "duplicate": ("POST", "duplicate"),
    "lock": ("POST", "lock"),
    "unlock": ("POST", "unlock"),
    "share": ("POST", "share"),
    "unshare": ("POST", "unshare"),
}

# Anything but RFC 3986 path characters (unreserved, sub-delims, ":", "@")
# and percent escapes; then a "%" that does not start an escape.
_NOT_PCHAR = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@%]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

_JSON = "application/json"
_SHUTDOWN_TIMEOUT = 0.5


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "No such endpoint")


def _not_allowed(*allowed: str) -> ApiError:
    headers = {"Allow": ", ".join(allowed)}
    return ApiError(405, "MethodNotAllowed", "Method not allowed", headers)


def _decode_segment(segment: str) -> str:
    if _NOT_PCHAR.search(segment) or _BAD_ESCAPE.search(segment):
        raise ApiError(400, None, BAD_PROJECT_ID)
    if "%" not in segment:
        return segment
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, None, BAD_PROJECT_ID) from None


def route(method: str, raw_path: str) -> tuple[str, str]:
    """Map a method and raw request target to (operation, decoded project id)."""
    path = raw_path.partition("?")[0]
    if path == _PREFIX:
        operation = _COLLECTION.get(method)
        if operation is None:
            raise _not_allowed(*_COLLECTION)
        return operation, ""
    if not path.startswith(_PREFIX + "/"):
        raise _not_found()

    raw_id, slash, action = path[len(_PREFIX) + 1 :].partition("/")
    if slash:
        entry = _ACTIONS.get(action)
        if entry is None:
            raise _not_found()
        if method != entry[0]:
            raise _not_allowed(entry[0])
        operation = entry[1]
    else:
        found = _ITEM.get(method)
        if found is None:
            raise _not_allowed(*_ITEM)
        operation = found
    return operation, _decode_segment(raw_id)


def _json_response(status: int, payload: Any) -> web.Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, content_type=_JSON)


def _error_response(error: ApiError) -> web.Response:
    if error.code is None:
        response = web.Response(
            status=error.status, text=error.message, content_type="text/plain"
        )
    else:
        payload = {"code": error.code, "message": error.message}
        response = _json_response(error.status, payload)
    if error.headers:
        response.headers.update(error.headers)
    return response


def _injected(status: int, faults: Faults) -> web.Response:
    if status == 429:
        code, message = "RateLimited", "Too many requests"
    else:
        code, message = "Unavailable", "Service unavailable"
    retry_after = faults.retry_after
    headers = None if retry_after is None else {"Retry-After": retry_after}
    return _error_response(ApiError(status, code, message, headers))


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response()


class Emulator:
    """The emulator's state and its one request handler."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        faults: Faults | None = None,
        identities: Mapping[str, Identity] | None = None,
    ) -> None:
        self.store = Store() if store is None else store
        self.stats = Stats()
        self.tokens: dict[str, Identity] = (
            default_identities() if identities is None else dict(identities)
        )
        self.rules = Rules(self.store, self.stats)
        self.set_faults(Faults() if faults is None else faults)

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        """Put ``faults`` in force, counting requests per operation from 0 again."""
        self._faults = faults
        self._fault_index = dict.fromkeys(OPERATIONS, 0)

    def _authenticate(self, header: str | None) -> Identity:
        if not header:
            message = "Missing bearer token"
        else:
            scheme, _, token = header.partition(" ")
            who = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if who is not None:
                return who
            message = "Unknown bearer token"
        raise ApiError(401, "Unauthorized", message, {"WWW-Authenticate": "Bearer"})

    def _answer(self, response: web.Response) -> web.Response:
        responses = self.stats.responses
        responses[response.status] = responses.get(response.status, 0) + 1
        return response

    def _draw(self, faults: Faults, operation: str) -> Decision:
        index = self._fault_index[operation]
        self._fault_index[operation] = index + 1
        return decide(faults, operation, index)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request."""
        raw_path = request.raw_path
        if raw_path.startswith("/_emulator/"):
            return self._control(request.method, raw_path)
        try:
            operation, project_id = route(request.method, raw_path)
        except ApiError as error:
            return self._answer(_error_response(error))

        self.stats.requests[operation] += 1
        faults = self._faults
        decision = NO_FAULT
        if faults.active and faults.applies_to(operation):
            decision = self._draw(faults, operation)
            if faults.latency:
                await asyncio.sleep(faults.latency)
            if decision.drop_before:
                self.stats.count_fault("drop_before", operation)
                await request.read()
                return _drop(request)
            if decision.status is not None:
                kind = f"rate_{decision.status}"
                self.stats.count_fault(kind, operation)
                return self._answer(_injected(decision.status, faults))

        body = await request.read() if request.body_exists else b""
        try:
            who = self._authenticate(request.headers.get("Authorization"))
            handler = self.rules.operations[operation]
            payload = handler(who, project_id, request.query, body)
        except ApiError as error:
            response = _error_response(error)
        else:
            response = (
                web.Response() if payload is None else _json_response(200, payload)
            )

        if decision.slow:
            self.stats.count_fault("slow", operation)
            await asyncio.sleep(faults.slow_seconds)
        if decision.drop_after:
            self.stats.count_fault("drop_after", operation)
            return _drop(request)
        return self._answer(response)

    def _control(self, method: str, raw_path: str) -> web.Response:
        if raw_path.partition("?")[0] != "/_emulator/stats":
            return _error_response(_not_found())
        if method != "GET":
            return _error_response(_not_allowed("GET"))
        return _json_response(200, self.stats.snapshot())


EMULATOR_KEY = web.AppKey("nuextract_emulator", Emulator)


def create_app(
    *,
    faults: Faults | None = None,
    identities: Mapping[str, Identity] | None = None,
    store: Store | None = None,
    seed_samples: bool = False,
) -> web.Application:
    """Build the emulator application; its state is ``app[EMULATOR_KEY]``."""
    emulator = Emulator(store=store, faults=faults, identities=identities)
    if seed_samples:
        _seed_samples(emulator.store)

    app = web.Application()
    app[EMULATOR_KEY] = emulator
    # [\s\S]: a decoded path may hold a newline (an id such as "a\nb").
    app.router.add_route("*", "/{tail:[\\s\\S]*}", emulator.handle)
    return app


class RunningEmulator:
    """An emulator serving on a loopback port."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.emulator = app[EMULATOR_KEY]
        self.host = host
        self.port = port
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"

    def __repr__(self) -> str:
        return f"<RunningEmulator {self.base_url}>"

    @property
    def store(self) -> Store:
        """The project store."""
        return self.emulator.store

    @property
    def stats(self) -> Stats:
        """The counters."""
        return self.emulator.stats

    @property
    def tokens(self) -> dict[str, Identity]:
        """Bearer token -> identity."""
        return self.emulator.tokens

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self.emulator.faults

    def set_faults(self, faults: Faults) -> None:
        """Put ``faults`` in force from the next request on."""
        self.emulator.set_faults(faults)


@asynccontextmanager
async def run_emulator(
    *,
    faults: Faults | None = None,
    identities: Mapping[str, Identity] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    seed_samples: bool = False,
    store: Store | None = None,
    access_log: bool = False,
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator on ``host`` (port 0 picks a free one) until exit."""
    app = create_app(
        faults=faults, identities=identities, store=store, seed_samples=seed_samples
    )
    extra: dict[str, Any] = {} if access_log else {"access_log": None}
    runner = web.AppRunner(app, shutdown_timeout=_SHUTDOWN_TIMEOUT, **extra)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        yield RunningEmulator(app, host, bound[1])
    finally:
        await runner.cleanup()


@contextmanager
def run_emulator_in_thread(
    *,
    faults: Faults | None = None,
    identities: Mapping[str, Identity] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    seed_samples: bool = False,
    store: Store | None = None,
) -> Iterator[RunningEmulator]:
    """Serve an emulator from a thread with its own event loop, for sync code.

    The store and stats belong to that thread's loop: read or seed them only
    while no request is in flight.
    """
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        async with run_emulator(
            faults=faults,
            identities=identities,
            host=host,
            port=port,
            seed_samples=seed_samples,
            store=store,
        ) as running:
            box["running"] = running
            box["stop"] = lambda: loop.call_soon_threadsafe(stop.set)
            ready.set()
            await stop.wait()

    def main() -> None:
        try:
            asyncio.run(serve())
        except Exception as exc:
            box["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=main, name="nuextract-emulator", daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        thread.join()
        raise RuntimeError("the emulator did not start") from box["error"]
    try:
        yield box["running"]
    finally:
        box["stop"]()
        thread.join()
    if "error" in box:
        raise RuntimeError("the emulator failed while serving") from box["error"]
