"""Rate limits per API key, shared by every process through the Django cache (Redis in production).

- `ApiKeyRateThrottle`: every call of a key (``PAYSVC_API_RATE``, default ``600/min``); meant for
  ``DEFAULT_THROTTLE_CLASSES``;
- `OrderCreateRateThrottle`: order creation (``PAYSVC_ORDER_CREATE_RATE``, default ``120/min``);
- `RefundRateThrottle`: refund requests (``PAYSVC_REFUND_RATE``, default ``60/min``).

A view adds the stricter ones for the actions they cover (``get_throttles``), next to the general
one; `combined` counts them all with one Redis round trip (`KeyRateThrottles`). Callers are
identified by their key's prefix, never by IP address, so ``X-Forwarded-For`` plays no part.
Rates are read from settings on every request (so tests and deployments can change them); a rate
of ``None`` or ``""`` turns a throttle off. Over the limit DRF answers 429 with ``Retry-After``.

Counting is paysvc.ratelimit's sliding window (one atomic counter per window and key, the
previous window weighted by its overlap): concurrent requests in several processes cannot all slip
through on the same count, and a burst straddling two windows is still held to the limit.
"""

import logging
import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from clients.models import ApiKey
from paysvc.ratelimit import Limit, parse_rate, rate_limit_hit

logger = logging.getLogger(__name__)


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

    def limit(self, api_key: ApiKey) -> Limit | None:
        """This throttle's limit for `api_key`, or None when it is off."""
        rate = self.get_rate()
        if rate is None:
            return None
        limit, window = rate
        return Limit(f"paysvc:throttle:{self.scope}:{api_key.prefix}", limit, window)

    def allow_request(self, request: Request, view: Any) -> bool:
        return _allow(self, [self], request)

    def wait(self) -> float | None:
        return self._wait


class KeyRateThrottles(BaseThrottle):
    """Several `ApiKeyRateThrottle` counted together, in one `rate_limit_hit`: one Redis round
    trip for all their limits instead of one each. A request over any of the limits is refused
    and counted against none of them (as DRF would, one throttle at a time, except that the
    looser ones are not charged for a refused request either)."""

    def __init__(self, throttles: list[ApiKeyRateThrottle]) -> None:
        self.throttles = throttles
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        return _allow(self, self.throttles, request)

    def wait(self) -> float | None:
        return self._wait


def combined(throttles: list[BaseThrottle]) -> list[BaseThrottle]:
    """``throttles`` with every `ApiKeyRateThrottle` among them counted as one
    `KeyRateThrottles` (first, where the first of them was)."""
    keyed = [t for t in throttles if isinstance(t, ApiKeyRateThrottle)]
    if len(keyed) < 2:
        return throttles
    return [KeyRateThrottles(keyed), *(t for t in throttles if t not in keyed)]


def _allow(
    owner: ApiKeyRateThrottle | KeyRateThrottles,
    throttles: list[ApiKeyRateThrottle],
    request: Request,
) -> bool:
    """Count the request against the limits of ``throttles``; on a refusal set ``owner``'s wait."""
    api_key = request.auth
    # Requests without a key were refused by the permissions already (throttles run last).
    if not throttles or not isinstance(api_key, ApiKey):
        return True
    limits = [limit for t in throttles if (limit := t.limit(api_key)) is not None]
    if not limits:
        return True
    scope = "+".join(t.scope for t in throttles)
    wait = rate_limit_hit(limits, now=throttles[0].timer(), scope=scope)
    if wait is None:
        return True
    owner._wait = max(1.0, wait)
    logger.info("rate limited", extra={"scope": scope, "prefix": api_key.prefix})
    return False


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
