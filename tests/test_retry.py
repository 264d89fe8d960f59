"""The retry policy and Retry-After parsing, as pure functions."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuextract_async._retry import RetryPolicy, may_have_been_applied, parse_retry_after

NOW = 1_800_000_000.0


def _fixed(value: float) -> RetryPolicy:
    return RetryPolicy(max_retries=3, jitter=lambda: value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("100000", 100000.0),
        (formatdate(NOW + 2, usegmt=True), 2.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),
        ("-1", None),
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("abc", None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00", None),
        # A year too large for a datetime: unusable, not an OverflowError.
        ("Mon, 01 Jan 99999999999999999999 00:00:00 GMT", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@given(st.text(max_size=80), st.floats(0, 4e9))
def test_parse_retry_after_never_raises(value: str, now: float) -> None:
    seconds = parse_retry_after(value, now)

    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@pytest.mark.parametrize(
    ("idempotent", "sent", "status", "applied"),
    [
        (False, False, None, False),
        (False, True, None, True),
        (False, True, 500, True),
        (False, True, 502, True),
        (False, True, 504, True),
        (False, True, 503, False),
        (False, True, 429, False),
        (False, True, 400, False),
        (False, True, 403, False),
        (True, True, None, False),
        (True, True, 500, False),
    ],
)
def test_may_have_been_applied(
    idempotent: bool, sent: bool, status: int | None, applied: bool
) -> None:
    assert may_have_been_applied(idempotent, sent, status) is applied


# status (None: no answer), request sent, retried if idempotent, if not.
RETRY_TABLE = [
    (None, False, True, True),
    (None, True, True, False),
    (429, True, True, True),
    (503, True, True, True),
    (502, True, True, False),
    (504, True, True, False),
    (500, True, False, False),
    (400, True, False, False),
    (401, True, False, False),
    (403, True, False, False),
    (404, True, False, False),
    (302, True, False, False),
]


@pytest.mark.parametrize(
    ("status", "sent", "idempotent_retried", "other_retried"), RETRY_TABLE
)
def test_which_failures_are_retried(
    status: int | None, sent: bool, idempotent_retried: bool, other_retried: bool
) -> None:
    policy = _fixed(0.5)

    for idempotent, retried in ((True, idempotent_retried), (False, other_retried)):
        delay = policy.delay(
            attempt=1, idempotent=idempotent, request_sent=sent, status=status
        )
        assert (delay is not None) is retried


def test_retries_stop_after_max_retries() -> None:
    policy = _fixed(1.0)

    delays = [
        policy.delay(attempt=n, idempotent=True, request_sent=True, status=503)
        for n in (1, 2, 3, 4)
    ]

    assert delays == [0.5, 1.0, 2.0, None]


def test_max_retries_zero_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)

    assert policy.delay(attempt=1, idempotent=True, request_sent=False) is None
    assert (
        policy.delay(
            attempt=1, idempotent=True, request_sent=True, status=429, retry_after=0.1
        )
        is None
    )


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retries=2, max_retry_after=60.0)

    def delay(retry_after: float) -> float | None:
        return policy.delay(
            attempt=1,
            idempotent=False,
            request_sent=True,
            status=429,
            retry_after=retry_after,
        )

    assert delay(2.0) == 2.0
    assert delay(0.0) == 0.0
    assert delay(60.0) == 60.0
    assert delay(60.5) is None
    assert delay(100000.0) is None


def test_retry_after_does_not_make_a_500_retryable() -> None:
    policy = RetryPolicy()

    delay = policy.delay(
        attempt=1, idempotent=True, request_sent=True, status=500, retry_after=1.0
    )

    assert delay is None


def test_jitter_bounds_are_reached() -> None:
    assert _fixed(0.0).backoff(1) == 0.25
    assert _fixed(1.0).backoff(1) == 0.5
    assert _fixed(1.0).backoff(20) == 8.0


@given(
    attempt=st.integers(1, 5000),
    base=st.floats(0.001, 10),
    ceiling=st.floats(0.001, 120),
    jitter=st.floats(0, 1),
)
def test_backoff_stays_within_its_window(
    attempt: int, base: float, ceiling: float, jitter: float
) -> None:
    policy = RetryPolicy(
        max_retries=attempt, base_delay=base, max_delay=ceiling, jitter=lambda: jitter
    )
    top = min(ceiling, base * 2.0 ** min(attempt - 1, 1000))

    delay = policy.backoff(attempt)

    assert top / 2 <= delay <= top
    assert policy.delay(attempt=attempt, idempotent=True, request_sent=False) == delay
