"""The intake's clock, in one place so that tests can pin it (``monkeypatch.setattr(clock,
"now_ms", ...)``).

Binance's webhook timestamps are epoch milliseconds (REFERENCE 3.2).
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000
