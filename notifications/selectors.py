"""Reads of notifications: delivery health."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min
from django.utils import timezone

from notifications.models import Notification, NotificationStatus


@dataclass(frozen=True)
class DeliveryStats:
    pending: int
    failed: int
    oldest_pending_age_seconds: float


def notification_delivery_stats(*, now: dt.datetime | None = None) -> DeliveryStats:
    """Pending and failed (gave up) counts, and how long the oldest pending one has waited
    (since it was created or last redelivered by staff)."""
    now = now or timezone.now()
    pending = Notification.objects.filter(status=NotificationStatus.PENDING)
    oldest = pending.aggregate(oldest=Min("retry_started_at"))["oldest"]
    return DeliveryStats(
        pending=pending.count(),
        failed=Notification.objects.filter(status=NotificationStatus.FAILED).count(),
        oldest_pending_age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
    )
