"""When to try a failed notification again, and when to give up. Pure functions.

Exponential backoff, capped at 6 h, with +-10 % jitter so that many notifications that failed
together (a merchant outage) do not all come back at the same second. Attempts go on until the
retry window (setting PAYSVC_CALLBACK_RETRY_HOURS, default 25 h) has passed since the window
started, so a merchant down for a whole day still gets its events: the last attempt is always made
at or after the end of the window.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

# Delay after the 1st, 2nd, ... failed attempt; the last value repeats.
RETRY_DELAYS_SECONDS: tuple[int, ...] = (
    30,
    60,
    2 * 60,
    5 * 60,
    10 * 60,
    30 * 60,
    60 * 60,
    2 * 60 * 60,
    4 * 60 * 60,
    6 * 60 * 60,
)
JITTER = 0.10

_random = random.SystemRandom()


def retry_delay(failures: int, *, rand: Callable[[], float] = _random.random) -> dt.timedelta:
    """The wait after `failures` failed attempts (1 = the first failure), jittered +-10 %."""
    index = min(max(failures, 1), len(RETRY_DELAYS_SECONDS)) - 1
    factor = 1 + JITTER * (2 * rand() - 1)
    return dt.timedelta(seconds=RETRY_DELAYS_SECONDS[index] * factor)


def next_attempt_at(
    *,
    retry_started_at: dt.datetime,
    failures: int,
    now: dt.datetime,
    window: dt.timedelta,
    rand: Callable[[], float] = _random.random,
) -> dt.datetime | None:
    """When to try again after a failed attempt made at `now`; None means give up.

    Gives up only once the attempt that just failed was made at least `window` after
    `retry_started_at`.
    """
    if now - retry_started_at >= window:
        return None
    return now + retry_delay(failures, rand=rand)
