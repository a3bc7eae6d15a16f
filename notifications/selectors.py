"""Reads of events, deliveries and webhook endpoints, scoped to the calling application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Min, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from notifications.models import Event, Notification, NotificationStatus, WebhookEndpoint


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


def event_list(
    *,
    application: Any,
    types: list[str] | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    delivery_status: str | None = None,
) -> QuerySet[Event]:
    """The application's events matching every filter given, newest first."""
    qs = Event.objects.filter(application=application)
    if types:
        qs = qs.filter(event_type__in=types)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lte=created_to)
    if delivery_status:
        qs = qs.filter(delivery_status=delivery_status)
    return qs.order_by("-created_at", "-id")


def event_get(*, application: Any, public_id: str) -> Event:
    """One of the application's events with its deliveries and their attempts; Http404 for
    unknown ids and other applications' events alike."""
    try:
        return (
            Event.objects.filter(application=application)
            .prefetch_related(
                Prefetch(
                    "deliveries",
                    queryset=Notification.objects.select_related("endpoint").order_by("id"),
                ),
                "deliveries__attempt_log",
            )
            .get(public_id=public_id)
        )
    except Event.DoesNotExist as exc:
        raise Http404("no such event") from exc


def webhook_endpoint_list(*, application: Any) -> QuerySet[WebhookEndpoint]:
    """The application's endpoints (deleted ones excluded), oldest first."""
    return WebhookEndpoint.objects.filter(application=application, deleted_at__isnull=True)


def webhook_endpoint_get(*, application: Any, public_id: str) -> WebhookEndpoint:
    """One of the application's endpoints; Http404 when unknown, deleted or another's."""
    try:
        return webhook_endpoint_list(application=application).get(public_id=public_id)
    except WebhookEndpoint.DoesNotExist as exc:
        raise Http404("no such webhook endpoint") from exc
