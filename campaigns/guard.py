"""Protection of the Web3 endpoints: rate limits (000001) and overload shedding (000002).

Rate limits (the newest spec revision asks for global and per-IP limits answered with HTTP 429 and
``Retry-After``): ``PAYSVC_WEB3_RATE_PER_IP`` (default ``50/s``) and ``PAYSVC_WEB3_RATE_GLOBAL``
(default ``2000/s``), shared by every process through the Django cache: paysvc.ratelimit's
sliding window, as for the merchant API; on Redis both limits cost one round trip together. A
cache outage lets requests through: availability over limiting.

Overload: at most ``PAYSVC_WEB3_MAX_IN_FLIGHT`` requests (default 16) are worked on at once in one
process; one more is answered "system busy" at once instead of queueing behind them (the spec:
"when the API encounters performance issues, return 000002").

Client address: ``REMOTE_ADDR``, or with ``PAYSVC_WEB3_PROXY_HOPS = n`` (n trusted proxies in
front, e.g. 1 for a load balancer), the n-th address from the right of ``X-Forwarded-For``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest

from campaigns.errors import SystemBusy, TooManyRequests
from paysvc.ratelimit import Limit, parse_rate, rate_limit_hit

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
def _limits(ip: str) -> list[Limit]:
    """Each configured limit, for this client address."""
    out = []
    for scope, name, default, who in (
        ("ip", "PAYSVC_WEB3_RATE_PER_IP", DEFAULT_RATE_PER_IP, ip),
        ("all", "PAYSVC_WEB3_RATE_GLOBAL", DEFAULT_RATE_GLOBAL, "all"),
    ):
        rate = getattr(settings, name, default)
        if rate:
            limit, window = parse_rate(rate, setting=name)
            out.append(Limit(f"paysvc:web3:rate:{scope}:{who}", limit, window))
    return out


def rate_limit_check(*, ip: str, now: float | None = None) -> None:
    """Count this request against every limit; TooManyRequests (with the wait) when over one."""
    now = time.time() if now is None else now
    wait = rate_limit_hit(_limits(ip), now=now, scope="web3")
    if wait is not None:
        raise TooManyRequests(f"rate limited {ip}", retry_after=max(1, math.ceil(wait)))


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
