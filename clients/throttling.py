"""Rate limits per API key, shared by every process through the Django cache (Redis in production).

- `ApiKeyRateThrottle`: every call of a key (``PAYSVC_API_RATE``, default ``600/min``); meant for
  ``DEFAULT_THROTTLE_CLASSES``;
- `OrderCreateRateThrottle`: order creation (``PAYSVC_ORDER_CREATE_RATE``, default ``120/min``);
- `RefundRateThrottle`: refund requests (``PAYSVC_REFUND_RATE``, default ``60/min``).

A view adds the stricter ones for the actions they cover (``get_throttles``), next to the general
one. Callers are identified by their key's prefix, never by IP address, so ``X-Forwarded-For``
plays no part. Rates are read from settings on every request (so tests and deployments can change
them); a rate of ``None`` or ``""`` turns a throttle off. Over the limit DRF answers 429 with
``Retry-After``.

Counting is a sliding-window counter: one atomic ``incr`` per window and key, and the previous
window weighted by how much of it still overlaps the last `window` seconds. Unlike DRF's
`SimpleRateThrottle` (read a list, append, write back) concurrent requests in several processes
cannot all slip through on the same count, and unlike a plain fixed window a burst straddling two
windows is still held to the limit.
"""

import logging
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from clients.models import ApiKey

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


class ApiKeyRateThrottle(BaseThrottle):
    """Limit the calls of one API key to the rate in ``settings.<rate_setting>``."""

    scope = "api"
    rate_setting = "PAYSVC_API_RATE"
    default_rate: str | None = "600/min"
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self._wait: float | None = None

    def get_rate(self) -> tuple[int, int] | None:
        """The configured ``(requests, window_seconds)``, or None when the throttle is off."""
        rate = getattr(settings, self.rate_setting, self.default_rate)
        if not rate:
            return None
        return parse_rate(rate, setting=self.rate_setting)

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = self.get_rate()
        api_key = request.auth
        # Requests without a key were refused by the permissions already (throttles run last).
        if rate is None or not isinstance(api_key, ApiKey):
            return True
        limit, window = rate
        now = self.timer()
        index, elapsed = divmod(now, window)
        base = f"paysvc:throttle:{self.scope}:{window}:{api_key.prefix}"
        current_key, previous_key = f"{base}:{int(index)}", f"{base}:{int(index) - 1}"
        try:
            # Lives until the end of the next window, while it serves as "previous".
            cache.add(current_key, 0, timeout=2 * window)
            current = cache.incr(current_key)
            previous = int(cache.get(previous_key) or 0)
        except Exception:
            # Availability over limiting: a cache outage must not take the API down with it.
            logger.warning("rate limit cache unavailable scope=%s", self.scope, exc_info=True)
            return True
        estimate = previous * (window - elapsed) / window + current
        if estimate <= limit:
            return True
        try:
            current = cache.decr(current_key)  # refused calls do not use up the allowance
        except Exception:
            current -= 1
        self._wait = max(
            1.0,
            seconds_until_allowed(
                limit=limit, window=window, elapsed=elapsed, previous=previous, current=current
            ),
        )
        logger.info("rate limited scope=%s prefix=%s", self.scope, api_key.prefix)
        return False

    def wait(self) -> float | None:
        return self._wait


class OrderCreateRateThrottle(ApiKeyRateThrottle):
    """Order creation per API key (``PAYSVC_ORDER_CREATE_RATE``)."""

    scope = "order_create"
    rate_setting = "PAYSVC_ORDER_CREATE_RATE"
    default_rate = "120/min"


class RefundRateThrottle(ApiKeyRateThrottle):
    """Refund requests per API key (``PAYSVC_REFUND_RATE``)."""

    scope = "refund"
    rate_setting = "PAYSVC_REFUND_RATE"
    default_rate = "60/min"
