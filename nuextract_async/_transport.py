"""The only module that speaks aiohttp: the pooled session and the retry loop."""

from __future__ import annotations

import asyncio
import logging
import math
import platform
import time
import types
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Final

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    ResponseValidationError,
    error_for_status,
)
from ._operations import PreparedRequest
from ._retry import RetryPolicy, may_have_been_applied, parse_retry_after
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

__all__ = ["Transport"]

log = logging.getLogger("nuextract")

#: Largest answer body read into memory; a bigger one is refused.
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Cap on establishing a connection (DNS, TCP, TLS), inside the total timeout.
CONNECT_TIMEOUT: Final = 10.0
#: Connecting may take at most this share of a shorter total timeout.
CONNECT_SHARE: Final = 0.9
# aiohttp rounds timeouts above its threshold up to whole seconds, which could
# let the total fire before the connect limit: keep them exact.
_EXACT: Final = 1e9
_USER_AGENT: Final = (
    f"nuextract-client/{__version__} python/{platform.python_version()} "
    f"aiohttp/{aiohttp.__version__}"
)


class _Failure(Exception):
    """No answer; says whether the request may have reached the server."""

    def __init__(self, *, sent: bool, timed_out: bool, cause: BaseException) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.sent = sent
        self.timed_out = timed_out


def client_timeout(
    seconds: object, error: type[Exception] = InvalidRequestError
) -> aiohttp.ClientTimeout:
    """An aiohttp timeout from positive, finite seconds or ``None`` (no limit).

    Connecting (DNS, TCP, TLS) has its own, shorter limit, so that a request
    that never left is told apart from one that was sent and then timed out.
    Anything else than seconds or ``None`` raises ``error``, before any I/O.
    """
    if seconds is None:
        return aiohttp.ClientTimeout(
            total=None, connect=CONNECT_TIMEOUT, ceil_threshold=_EXACT
        )
    if (
        type(seconds) is bool
        or not isinstance(seconds, int | float)
        or not (seconds > 0 and math.isfinite(seconds))
    ):
        raise error(
            f"timeout must be a positive number of seconds or None, not {seconds!r:.40}"
        )
    return aiohttp.ClientTimeout(
        total=seconds,
        connect=min(CONNECT_TIMEOUT, seconds * CONNECT_SHARE),
        ceil_threshold=_EXACT,
    )


async def _read_body(response: aiohttp.ClientResponse) -> bytes | None:
    """The whole body, or ``None`` when it is larger than ``MAX_BODY_BYTES``."""
    length = response.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return None
    # A compressed body's Content-Length is its compressed size: count the
    # decompressed bytes as they come instead.
    if length is not None and not response.headers.get("Content-Encoding"):
        return await response.read()
    chunks = bytearray()
    async for chunk in response.content.iter_chunked(256 * 1024):
        chunks += chunk
        if len(chunks) > MAX_BODY_BYTES:
            return None
    return bytes(chunks)


@types.coroutine
def _one_loop_turn() -> Generator[None, None, None]:
    """Let the loop run once, as ``asyncio.sleep(0)`` does.

    Done before each attempt: a server that closed a pooled connection right
    after its last answer (without saying "Connection: close") is noticed,
    so the pool does not hand that dead connection to the request, which
    would then fail as "may have been applied" without reaching the server.
    """
    yield


def _loop_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _finish_on_dead_loop(guard: AsyncGenerator[None, None]) -> None:
    # Run the guard's cleanup here and now, so that its finalizer never
    # tries to schedule anything on the closed loop.
    closing = guard.aclose()
    try:
        closing.send(None)
    except StopIteration:
        return
    closing.close()


class Transport:
    """Sends prepared requests on one pooled session, retrying as the policy says.

    The session is created on first use, on the running event loop, unless
    the caller supplied one (which is then never closed here).
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        timeout: aiohttp.ClientTimeout,
        policy: RetryPolicy,
        max_connections: int,
        session: aiohttp.ClientSession | None,
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self._headers: dict[str, str] | None = None
        self._timeout = timeout
        self.policy = policy
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop_guard: AsyncGenerator[None, None] | None = None
        self.closed = False

    @property
    def owns_open_session(self) -> bool:
        """True while a session this transport created is still open."""
        session = self._session
        return self._owns_session and session is not None and not session.closed

    def _auth_headers(self) -> dict[str, str]:
        if self._headers is None:
            if not self._api_key:
                raise ConfigurationError(
                    "no API key: pass api_key=... or set NUEXTRACT_API_KEY "
                    "(or NUMIND_API_KEY)"
                )
            self._headers = {
                "Authorization": f"Bearer {self._api_key}",
                "Accept": "application/json",
                "User-Agent": _USER_AGENT,
            }
        return self._headers

    async def _session_for_running_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._session is not None:
            return self._session
        if self.closed:
            raise ClientClosedError("this client is closed; create a new one")
        if self._loop is not None and self._loop is not loop:
            self._leave_old_loop()
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
            if "_retry_connection" in aiohttp.ClientSession.ATTRS:
                # aiohttp would resend a GET, PUT or DELETE once on a dropped
                # connection by itself; the retry loop here counts every send.
                self._session._retry_connection = False
            self._loop_guard = self._close_with_loop(self._session)
            await anext(self._loop_guard)
        self._loop = loop
        self._slots = asyncio.Semaphore(self._max_connections)
        return self._session

    async def _close_with_loop(
        self, session: aiohttp.ClientSession
    ) -> AsyncGenerator[None, None]:
        """Close ``session`` when its event loop shuts down.

        ``asyncio.run`` (and every ``asyncio.Runner``) closes the async
        generators still open on a loop before closing it; parked here, this
        one closes the session while its sockets can still be closed, so the
        next loop (another ``asyncio.run``) starts with a fresh session.
        """
        try:
            yield
        finally:
            if self._session is session:
                self._session = None
                self._loop = None
            if _loop_is_running():
                await session.close()

    def _leave_old_loop(self) -> None:
        old_loop = self._loop
        assert old_loop is not None
        if not old_loop.is_closed():
            raise ClientClosedError(
                "this client is in use on another event loop; "
                "create one client per event loop"
            )
        if not self._owns_session:
            raise ConfigurationError(
                "the aiohttp session given to this client belongs to an event "
                "loop that has closed"
            )
        # The loop was closed without closing its async generators, so the
        # session outlived it; its sockets are beyond reach. Forget it.
        session, self._session = self._session, None
        guard, self._loop_guard = self._loop_guard, None
        if session is not None and not session.closed:
            session.detach()
        if guard is not None:
            _finish_on_dead_loop(guard)

    async def aclose(self) -> None:
        """Close the session if this transport created it; safe to call twice."""
        self.closed = True
        guard, self._loop_guard = self._loop_guard, None
        session, self._session = self._session, None
        if guard is not None and self._loop is asyncio.get_running_loop():
            await guard.aclose()
        if session is None or not self._owns_session or session.closed:
            return
        await session.close()

    async def send(
        self, request: PreparedRequest, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> tuple[int, bytes]:
        """Send ``request`` until it succeeds or the policy gives up.

        Returns the status and body of a 2xx answer; raises the typed error
        of the last attempt otherwise.
        """
        limits = self._timeout if timeout is NOT_GIVEN else client_timeout(timeout)
        headers = self._auth_headers()  # a missing key fails before any I/O
        session = await self._session_for_running_loop()
        if request.body is not None:
            headers = headers | {"Content-Type": "application/json"}
        url_text = self.base_url + request.target
        url = URL(url_text, encoded=True)
        operation = request.operation
        attempt = 1
        while True:
            started = time.perf_counter()
            status: int | None = None
            retry_after: float | None = None
            try:
                status, answer_headers, body = await self._exchange(
                    session, request, url, headers, limits
                )
            except _Failure as failure:
                sent = failure.sent
                self._log_attempt(request, f"no answer ({failure})", started, attempt)
                error: Exception = self._connection_error(request, url_text, failure)
            else:
                sent = True
                self._log_attempt(request, status, started, attempt)
                maybe = may_have_been_applied(operation.idempotent, True, status)
                if body is None:
                    raise ResponseValidationError(
                        f"the answer is larger than {MAX_BODY_BYTES} bytes",
                        method=request.method,
                        url=url_text,
                        status=status,
                        body="",
                        # A 2xx did apply it; an error status says as usual.
                        may_have_been_applied=maybe
                        or (not operation.idempotent and 200 <= status < 300),
                    )
                status_error = error_for_status(
                    status,
                    body,
                    answer_headers,
                    method=request.method,
                    url=url_text,
                    may_have_been_applied=maybe,
                )
                if status_error is None:
                    return status, body
                error = status_error
                retry_after = parse_retry_after(
                    answer_headers.get("Retry-After"), time.time()
                )
            if self.closed:
                if isinstance(error, APIConnectionError):
                    raise ClientClosedError(
                        "the client was closed while this call was in flight",
                        may_have_been_applied=error.may_have_been_applied,
                    ) from error
                raise error
            delay = self.policy.delay(
                attempt=attempt,
                idempotent=operation.idempotent,
                request_sent=sent,
                status=status,
                retry_after=retry_after,
            )
            if delay is None:
                raise error
            log.warning(
                "retrying %s %s in %.2f s after %s (attempt %d of %d)",
                request.method,
                request.target,
                delay,
                status if status is not None else type(error).__name__,
                attempt + 1,
                self.policy.max_retries + 1,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        request: PreparedRequest,
        url: URL,
        headers: Mapping[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, CIMultiDictProxy[str], bytes | None]:
        slots = self._slots
        assert slots is not None
        try:
            await _one_loop_turn()
            async with slots:
                if self.closed:  # closed while this call waited for a slot
                    raise ClientClosedError("this client was closed; not sent")
                async with session.request(
                    request.method,
                    url,
                    data=request.body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                ) as response:
                    body = await _read_body(response)
                    return response.status, response.headers, body
        except (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError) as exc:
            timed_out = isinstance(exc, aiohttp.ConnectionTimeoutError)
            raise _Failure(sent=False, timed_out=timed_out, cause=exc) from exc
        except TimeoutError as exc:
            raise _Failure(sent=True, timed_out=True, cause=exc) from exc
        except aiohttp.ClientError as exc:
            raise _Failure(sent=True, timed_out=False, cause=exc) from exc

    def _connection_error(
        self, request: PreparedRequest, url: str, failure: _Failure
    ) -> APIConnectionError:
        maybe = may_have_been_applied(request.operation.idempotent, failure.sent, None)
        if failure.timed_out:
            return APITimeoutError(
                f"{request.method} {url} timed out ({failure})",
                method=request.method,
                url=url,
                request_sent=failure.sent,
                may_have_been_applied=maybe,
            )
        where = "could not connect" if not failure.sent else "connection lost"
        return APIConnectionError(
            f"{request.method} {url}: {where} ({failure})",
            method=request.method,
            url=url,
            request_sent=failure.sent,
            may_have_been_applied=maybe,
        )

    @staticmethod
    def _log_attempt(
        request: PreparedRequest, outcome: object, started: float, attempt: int
    ) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s in %.1f ms (attempt %d)",
                request.method,
                request.target,
                outcome,
                (time.perf_counter() - started) * 1000,
                attempt,
            )
