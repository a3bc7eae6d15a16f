"""Sliding-window rate limits shared by every process through the Django cache (Redis in prod).

Used by the merchant API (clients.throttling, per API key) and the Web3 endpoints
(campaigns.guard, per client address and globally).

Counting: one atomic counter per limit and window, and the previous window weighted by how much of
it still overlaps the last ``window`` seconds. Unlike DRF's `SimpleRateThrottle` (read a list,
append, write back) concurrent requests in several processes cannot all slip through on the same
count, and unlike a plain fixed window a burst straddling two windows is still held to the limit.
On Redis every limit of one request costs one round trip together (a small Lua script); on other
caches a few calls each. A refused request is uncounted, so refusals do not use up the allowance.
A cache outage lets requests through: availability over limiting.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE_RE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str, *, setting: str = "rate") -> tuple[int, int]:
    """Parse ``"600/min"``, ``"10/s"``, ``"100/5min"`` into ``(requests, window_seconds)``.

    Raises ImproperlyConfigured naming `setting` for anything else.
    """
    match = _RATE_RE.fullmatch(rate)
    unit = match and _UNIT_SECONDS.get(match.group(3).lower())
    if not match or not unit or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{setting}={rate!r} is not a rate like '600/min' (units: s, min, h, day)"
        )
    multiplier = int(match.group(2) or 1)
    if multiplier < 1:
        raise ImproperlyConfigured(f"{setting}={rate!r}: the period must be at least 1")
    return int(match.group(1)), multiplier * unit


def seconds_until_allowed(
    *, limit: int, window: int, elapsed: float, previous: int, current: int
) -> float:
    """How long until one more request fits, given the counts after a refusal (pure arithmetic).

    The estimate at time ``elapsed + t`` is
    ``previous * (window - elapsed - t) / window + current``; a request fits when the estimate plus
    one is at most `limit`.
    """
    room = limit - current - 1
    if room >= 0:
        if previous <= 0:
            return 0.0
        return max(0.0, (window - elapsed) - room * window / previous)
    # The current window alone is full: wait for the next one, where it counts as "previous".
    next_wait = window * (1 - (limit - 1) / current) if current > 0 else 0.0
    return (window - elapsed) + max(0.0, next_wait)


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` requests per ``window`` seconds for what ``key`` names."""

    key: str
    limit: int
    window: int


def rate_limit_hit(limits: Sequence[Limit], *, now: float, scope: str = "") -> float | None:
    """Count one request against every limit at time ``now`` (epoch seconds).

    Returns None when it fits every limit, else the seconds until it would fit them all (and the
    request is uncounted). A cache failure is logged and the request allowed.
    """
    if not limits:
        return None
    windows = []  # (limit, current window's key, previous window's key, seconds into it)
    for item in limits:
        index, elapsed = divmod(now, item.window)
        base = f"{item.key}:{item.window}"
        windows.append((item, f"{base}:{int(index)}", f"{base}:{int(index) - 1}", elapsed))
    try:
        counts = _count(
            [(current, previous, item.window) for item, current, previous, _ in windows]
        )
    except Exception:
        logger.warning("rate limit cache unavailable scope=%s", scope, exc_info=True)
        return None
    waits = []
    for (item, _c, _p, elapsed), (current, previous) in zip(windows, counts, strict=True):
        if previous * (item.window - elapsed) / item.window + current > item.limit:
            waits.append(
                seconds_until_allowed(
                    limit=item.limit,
                    window=item.window,
                    elapsed=elapsed,
                    previous=previous,
                    current=current - 1,
                )
            )
    if not waits:
        return None
    try:
        _uncount([current for _i, current, _p, _e in windows])
    except Exception:
        logger.warning("rate limit cache unavailable scope=%s", scope, exc_info=True)
    return max(waits)


# For each (current, previous) key pair: INCR current (expiring it after 2 windows when new),
# GET previous. One command for every limit.
_COUNT_SCRIPT = """
local out = {}
for i = 1, #KEYS, 2 do
  local current = redis.call('INCR', KEYS[i])
  if current == 1 then redis.call('EXPIRE', KEYS[i], ARGV[(i + 1) / 2]) end
  out[#out + 1] = current
  out[#out + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
end
return out
"""


class _RedisCounter:
    """The cache's Redis client and the counting script, made once per process: building a
    client per call (as Django's cache does) costs more than the round trip."""

    def __init__(self) -> None:
        self._owner: tuple[object, ...] = ()
        self._client: Any = None
        self._script: Any = None

    def count(self, cache: RedisCache, names: list[str], ttls: list[int]) -> list[int]:
        # A client made before a fork, or for a cache the settings no longer name, is not ours.
        owner = (os.getpid(), *cache._servers)
        if self._owner != owner:
            self._client = cache._cache.get_client(names[0], write=True)
            self._script = self._client.register_script(_COUNT_SCRIPT)
            self._owner = owner
        return [int(v) for v in self._script(keys=names, args=ttls, client=self._client)]


_redis_counter = _RedisCounter()


def _count(keys: list[tuple[str, str, int]]) -> list[tuple[int, int]]:
    """Increment each current window, read each previous one: [(current, previous)]."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Same keys and encoding (plain integers) as Django's cache API, which `_uncount` uses.
        key = cache.make_and_validate_key
        names = [name for current, previous, _w in keys for name in (key(current), key(previous))]
        replies = _redis_counter.count(cache, names, [2 * window for *_, window in keys])
        return [(replies[i], replies[i + 1]) for i in range(0, len(replies), 2)]
    out = []
    for current, previous, window in keys:
        # Lives until the end of the next window, while it serves as "previous".
        cache.add(current, 0, timeout=2 * window)
        out.append((int(cache.incr(current)), int(cache.get(previous) or 0)))
    return out


def _uncount(current_keys: list[str]) -> None:
    cache = caches["default"]
    for key in current_keys:
        cache.decr(key)
