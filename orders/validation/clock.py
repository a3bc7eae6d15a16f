"""The clock the validators read; tests monkeypatch ``now_ms``."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Current time as epoch milliseconds (Binance's unit for every time field)."""
    return time.time_ns() // 1_000_000
