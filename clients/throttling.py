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

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = self.get_rate()
        api_key = request.auth
        # Requests without a key were refused by the permissions already (throttles run last).
        if rate is None or not isinstance(api_key, ApiKey):
            return True
        limit, window = rate
        key = f"paysvc:throttle:{self.scope}:{api_key.prefix}"
        wait = rate_limit_hit([Limit(key, limit, window)], now=self.timer(), scope=self.scope)
        if wait is None:
            return True
        self._wait = max(1.0, wait)
        logger.info("rate limited", extra={"scope": self.scope, "prefix": api_key.prefix})
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
