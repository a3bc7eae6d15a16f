"""Notification delivery state exported on /metrics (computed at scrape time)."""

from __future__ import annotations

from collections.abc import Iterator

from notifications.selectors import notification_delivery_stats
from paysvc.metrics_view import Gauge, state_gauge


@state_gauge
def notification_gauges() -> Iterator[Gauge]:
    stats = notification_delivery_stats()
    yield (
        "paysvc_callbacks_pending",
        "Merchant notifications not delivered yet (retrying).",
        stats.pending,
    )
    yield (
        "paysvc_callbacks_failed",
        "Merchant notifications given up after the retry window (staff can redeliver).",
        stats.failed,
    )
    yield (
        "paysvc_callbacks_oldest_pending_age_seconds",
        "Age of the oldest pending merchant notification (0 when none).",
        stats.oldest_pending_age_seconds,
    )
