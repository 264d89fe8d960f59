"""``AsyncNuExtract``: configuration and the life of its session."""

from __future__ import annotations

import ipaddress
import os
import re
import warnings
from types import TracebackType
from typing import Final, Self

import aiohttp
from yarl import URL

from ._errors import ConfigurationError
from ._projects import AsyncProjects
from ._retry import RetryPolicy
from ._transport import Transport, client_timeout

__all__ = ["AsyncNuExtract"]

DEFAULT_BASE_URL: Final = "https://nuextract.ai"
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_CONNECTIONS: Final = 100
_KEY_VARIABLES: Final = ("NUEXTRACT_API_KEY", "NUMIND_API_KEY")


def _api_key_from(value: str | None) -> str | None:
    if value is None:
        value = next((os.environ[v] for v in _KEY_VARIABLES if os.environ.get(v)), None)
    if value is None:
        return None
    if type(value) is not str:
        raise ConfigurationError("api_key must be a string")
    key = value.strip()
    if not key or not (key.isascii() and key.isprintable()) or " " in key:
        raise ConfigurationError(
            "api_key must be printable ASCII without spaces or line breaks"
        )
    return key


def _is_loopback(host: str) -> bool:
    # Only names that cannot resolve elsewhere: "*.localhost" is left to DNS.
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _redacted(text: str) -> str:
    # Whatever stands between "//" and "@" may be a password: never echo it.
    return re.sub(r"//[^/?#]*@", "//***@", text)


def _base_url_from(value: str | None, allow_insecure_http: bool) -> str:
    text = value or os.environ.get("NUEXTRACT_BASE_URL") or DEFAULT_BASE_URL
    try:
        url = URL(text)
    except (TypeError, ValueError):
        # from None: the parser's own message would quote the URL as given.
        raise ConfigurationError(f"base_url {_redacted(text)!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url must be an http(s) URL with a host, not {_redacted(text)!r}"
        )
    if url.user or url.password or url.query_string or url.fragment:
        raise ConfigurationError(
            "base_url must not carry credentials, a query or a fragment"
        )
    if url.scheme == "http" and not allow_insecure_http and not _is_loopback(url.host):
        raise ConfigurationError(
            f"refusing to send the API key over plain http to {url.host}; "
            "use https, or pass allow_insecure_http=True if you mean it"
        )
    return str(url).rstrip("/")


def _check_count(name: str, value: int, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}")
    return value


class AsyncNuExtract:
    """Async client of the NuExtract project API.

    Create one per application and event loop and share it: every call goes
    through one pooled ``aiohttp`` session, opened on first use. Close it
    with ``async with`` or ``await client.aclose()``.

    Args:
        api_key: The API key; defaults to ``NUEXTRACT_API_KEY``, then
            ``NUMIND_API_KEY``. A missing key is reported at the first call.
        base_url: Defaults to ``NUEXTRACT_BASE_URL``, then the public service.
        timeout: Seconds each attempt may take (``None``: no limit),
            counted once a connection slot is free.
        max_retries: Retries after the first attempt (``0`` turns them off).
        max_connections: Size of the connection pool.
        session: An ``aiohttp.ClientSession`` to use as is; it is never
            closed by this client.
        allow_insecure_http: Permit plain ``http`` to a host that is not
            loopback (the key would travel in clear text).
    """

    projects: AsyncProjects

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        session: aiohttp.ClientSession | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError("session must be an aiohttp.ClientSession")
        self._transport = Transport(
            base_url=_base_url_from(base_url, allow_insecure_http),
            api_key=_api_key_from(api_key),
            timeout=client_timeout(timeout, ConfigurationError),
            policy=RetryPolicy(max_retries=_check_count("max_retries", max_retries, 0)),
            max_connections=_check_count("max_connections", max_connections, 1),
            session=session,
        )
        self.projects = AsyncProjects(self._transport)

    @property
    def base_url(self) -> str:
        """The service's base URL, without a trailing slash."""
        return self._transport.base_url

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` was called."""
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the connection pool (unless it was given); calls then fail."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def __del__(self) -> None:
        transport = getattr(self, "_transport", None)
        if transport is not None and transport.owns_open_session:
            warnings.warn(
                f"{self!r} was never closed; use 'async with' or "
                "'await client.aclose()'",
                ResourceWarning,
                source=self,
                stacklevel=1,
            )
