"""Reads of notifications: delivery health and an order's notifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min, QuerySet
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from orders.models import Order


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


def notification_list_for_order(*, order: Order) -> QuerySet[Notification]:
    """The notifications about `order` (its own and its refunds'), newest first."""
    return Notification.objects.filter(order=order).order_by("-created_at", "-id")
