"""When to try again, and how long to wait: pure functions, no I/O.

A request ends one of three ways: it was never sent (the connection could
not be made), it was sent and no answer came (a disconnect or a timeout),
or the server answered with a status. Operations that are not idempotent
(create, duplicate) are retried only when the server cannot have applied
them: not sent, or answered 429 or 503.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Final

import attrs

__all__ = ["RetryPolicy", "may_have_been_applied", "parse_retry_after"]

#: Statuses that say "come back later" for any operation.
RETRY_ANY_OPERATION: Final = frozenset({429, 503})
#: Gateway statuses: the request may have gone through, so only idempotent
#: operations are retried.
RETRY_IDEMPOTENT_ONLY: Final = frozenset({502, 504})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or ``None`` if unusable.

    Accepts a non-negative number of seconds or an HTTP date (a date in the
    past means "now"). ``now`` is a POSIX timestamp.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is None:
                return None
            return max(0.0, when.timestamp() - now)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def may_have_been_applied(
    idempotent: bool, request_sent: bool, status: int | None
) -> bool:
    """Whether a failed operation may still have changed state on the server."""
    if idempotent or not request_sent:
        return False
    if status is None:
        return True  # sent, and no answer came back
    return status >= 500 and status != 503


@attrs.frozen
class RetryPolicy:
    """Jittered exponential backoff that honours ``Retry-After`` up to a cap.

    ``max_retries`` counts retries after the first attempt. A ``Retry-After``
    longer than ``max_retry_after`` makes the client give up at once rather
    than sleep that long.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: Callable[[], float] = attrs.field(
        default=random.random, eq=False, repr=False
    )

    def should_retry(
        self, *, idempotent: bool, request_sent: bool, status: int | None
    ) -> bool:
        """Whether this kind of failure may be retried at all."""
        if status is None:
            return idempotent or not request_sent
        if status in RETRY_ANY_OPERATION:
            return True
        return idempotent and status in RETRY_IDEMPOTENT_ONLY

    def backoff(self, attempt: int) -> float:
        """The jittered delay after failed attempt number ``attempt`` (from 1)."""
        # The exponent is capped so that a huge max_retries cannot overflow.
        growth = 2.0 ** min(attempt - 1, 1000)
        ceiling = min(self.max_delay, self.base_delay * growth)
        return ceiling * (0.5 + self.jitter() / 2)

    def delay(
        self,
        *,
        attempt: int,
        idempotent: bool,
        request_sent: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up."""
        if attempt > self.max_retries:
            return None
        if not self.should_retry(
            idempotent=idempotent, request_sent=request_sent, status=status
        ):
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(attempt)
