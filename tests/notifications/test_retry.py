"""notifications/retry.py: the schedule covers at least 24 h, then gives up."""

import datetime as dt

import pytest

from notifications.retry import RETRY_DELAYS_SECONDS, next_attempt_at, retry_delay

START = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=25)


def simulate(rand: float, window: dt.timedelta = WINDOW) -> list[dt.datetime]:
    """The attempt times of a notification that always fails."""
    attempts = [START]
    while True:
        following = next_attempt_at(
            retry_started_at=START,
            failures=len(attempts),
            now=attempts[-1],
            window=window,
            rand=lambda: rand,
        )
        if following is None:
            return attempts
        attempts.append(following)


def test_the_first_retry_comes_after_about_30_seconds():
    assert retry_delay(1, rand=lambda: 0.5) == dt.timedelta(seconds=30)
    assert retry_delay(1, rand=lambda: 0.0) == dt.timedelta(seconds=27)
    assert retry_delay(1, rand=lambda: 1.0) == dt.timedelta(seconds=33)


def test_delays_grow_and_are_capped_at_six_hours():
    delays = [retry_delay(n, rand=lambda: 0.5) for n in range(1, 20)]

    assert delays == sorted(delays)
    assert delays[:4] == [dt.timedelta(seconds=s) for s in (30, 60, 120, 300)]
    assert max(delays) == dt.timedelta(hours=6)
    assert RETRY_DELAYS_SECONDS[-1] == 6 * 3600


def test_jitter_stays_within_ten_percent():
    for _ in range(200):
        assert 27 <= retry_delay(1).total_seconds() <= 33


@pytest.mark.parametrize("rand", [0.0, 0.5, 1.0])
def test_attempts_go_on_for_at_least_24_hours_then_stop(rand):
    attempts = simulate(rand)

    assert attempts[-1] - START >= dt.timedelta(hours=24)
    assert attempts[-1] - START >= WINDOW  # the last try is made after the window closed
    assert attempts[-2] - START < WINDOW
    assert attempts[-1] - START < WINDOW + dt.timedelta(hours=7)
    assert 12 <= len(attempts) <= 15


def test_no_retry_once_the_window_has_passed():
    assert (
        next_attempt_at(retry_started_at=START, failures=1, now=START + WINDOW, window=WINDOW)
        is None
    )
    assert (
        next_attempt_at(
            retry_started_at=START,
            failures=1,
            now=START + WINDOW - dt.timedelta(seconds=1),
            window=WINDOW,
        )
        is not None
    )
