"""The service's wall clock in Binance's unit (epoch milliseconds), in one place.

Order validation (``orderExpireTime``, ``buyerRegistrationTime``) and the webhook intake (the
``BinancePay-Timestamp`` window) read ``clock.now_ms()`` through this module, so that tests can
pin time with ``monkeypatch.setattr(clock, "now_ms", ...)`` for both at once.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Current Unix time in milliseconds (Binance's unit for every time field)."""
    return time.time_ns() // 1_000_000
