"""Protection of the Web3 endpoints: rate limits (000001) and overload shedding (000002).

Rate limits (the newest spec revision asks for global and per-IP limits answered with HTTP 429 and
``Retry-After``): ``PAYSVC_WEB3_RATE_PER_IP`` (default ``50/s``) and ``PAYSVC_WEB3_RATE_GLOBAL``
(default ``2000/s``), shared by every process through the Django cache. The counting is the
merchant API's sliding window (`clients.throttling`); on Redis both limits cost one round trip
(a small Lua script), on other caches a few calls. A cache outage lets requests through:
availability over limiting, as for the merchant API.

Overload: at most ``PAYSVC_WEB3_MAX_IN_FLIGHT`` requests (default 16) are worked on at once in one
process; one more is answered "system busy" at once instead of queueing behind them (the spec:
"when the API encounters performance issues, return 000002").

Client address: ``REMOTE_ADDR``, or with ``PAYSVC_WEB3_PROXY_HOPS = n`` (n trusted proxies in
front, e.g. 1 for a load balancer), the n-th address from the right of ``X-Forwarded-For``.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from campaigns.errors import SystemBusy, TooManyRequests
from clients.throttling import parse_rate, seconds_until_allowed

logger = logging.getLogger(__name__)

DEFAULT_RATE_PER_IP = "50/s"
DEFAULT_RATE_GLOBAL = "2000/s"
DEFAULT_MAX_IN_FLIGHT = 16


_ADDRESS = re.compile(r"[0-9A-Fa-f:.]{1,45}")  # IPv4, IPv6: what may become a cache key


def client_ip(request: HttpRequest) -> str:
    hops = int(getattr(settings, "PAYSVC_WEB3_PROXY_HOPS", 0) or 0)
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    chosen = forwarded[-hops] if len(forwarded) >= hops else remote
    return chosen if _ADDRESS.fullmatch(chosen) else remote


# -- rate limits -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _parse_rate(rate: str, setting: str) -> tuple[int, int]:
    return parse_rate(rate, setting=setting)


def _limits(ip: str) -> list[tuple[str, int, int]]:
    """(cache key base, limit, window) of each configured limit."""
    out = []
    for scope, name, default, who in (
        ("ip", "PAYSVC_WEB3_RATE_PER_IP", DEFAULT_RATE_PER_IP, ip),
        ("all", "PAYSVC_WEB3_RATE_GLOBAL", DEFAULT_RATE_GLOBAL, "all"),
    ):
        rate = getattr(settings, name, default)
        if rate:
            limit, window = _parse_rate(rate, name)
            out.append((f"paysvc:web3:rate:{scope}:{window}:{who}", limit, window))
    return out


def rate_limit_check(*, ip: str, now: float | None = None) -> None:
    """Count this request against every limit; TooManyRequests (with the wait) when over one."""
    limits = _limits(ip)
    if not limits:
        return
    now = time.time() if now is None else now
    keys = []
    for base, _limit, window in limits:
        index, elapsed = divmod(now, window)
        keys.append((f"{base}:{int(index)}", f"{base}:{int(index) - 1}", window, elapsed))
    try:
        counts = _count(keys)
    except Exception:
        logger.warning("web3 rate limit cache unavailable", exc_info=True)
        return
    waits = []
    for (_base, limit, window), (current, previous), (_c, _p, _w, elapsed) in zip(
        limits, counts, keys, strict=True
    ):
        if previous * (window - elapsed) / window + current > limit:
            waits.append(
                seconds_until_allowed(
                    limit=limit,
                    window=window,
                    elapsed=elapsed,
                    previous=previous,
                    current=current - 1,
                )
            )
    if waits:
        try:  # a refused request does not use up the allowance
            _uncount([current_key for current_key, *_ in keys])
        except Exception:
            logger.warning("web3 rate limit cache unavailable", exc_info=True)
        wait = max(1, math.ceil(max(waits)))
        raise TooManyRequests(f"rate limited {ip}", retry_after=wait)


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
        self._pid = 0
        self._client: Any = None
        self._script: Any = None

    def count(self, cache: RedisCache, names: list[str], ttls: list[int]) -> list[int]:
        if self._pid != os.getpid():
            self._client = cache._cache.get_client(names[0], write=True)
            self._script = self._client.register_script(_COUNT_SCRIPT)
            self._pid = os.getpid()
        return [int(v) for v in self._script(keys=names, args=ttls, client=self._client)]


_redis_counter = _RedisCounter()


def _count(keys: list[tuple[str, str, int, float]]) -> list[tuple[int, int]]:
    """Increment each current window, read each previous one: [(current, previous)]."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Same keys and encoding (plain integers) as Django's cache API, which `_uncount` uses.
        key = cache.make_and_validate_key
        names = [name for current, previous, *_ in keys for name in (key(current), key(previous))]
        replies = _redis_counter.count(cache, names, [2 * window for *_, window, _e in keys])
        return [(replies[i], replies[i + 1]) for i in range(0, len(replies), 2)]
    out = []
    for current, previous, window, _e in keys:
        cache.add(current, 0, timeout=2 * window)
        out.append((int(cache.incr(current)), int(cache.get(previous) or 0)))
    return out


def _uncount(current_keys: list[str]) -> None:
    cache = caches["default"]
    for key in current_keys:
        cache.decr(key)


# -- overload --------------------------------------------------------------------------------------
class _InFlight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        limit = int(getattr(settings, "PAYSVC_WEB3_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT))
        with self._lock:
            if limit > 0 and self.count >= limit:
                raise SystemBusy(f"{self.count} requests in flight in this process")
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


in_flight = _InFlight()
