"""Webhook inbox state exported on /metrics (computed from the database at scrape time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone

from paysvc.metrics_view import Gauge, state_gauge
from webhooks.models import WAITING_STATUSES, EventStatus, WebhookEvent

STUCK_AFTER = dt.timedelta(minutes=5)


@state_gauge
def webhook_gauges() -> Iterator[Gauge]:
    now = timezone.now()
    waiting = WebhookEvent.objects.filter(status__in=WAITING_STATUSES).aggregate(
        count=Count("id"), oldest=Min("received_at")
    )
    oldest = waiting["oldest"]
    yield (
        "paysvc_webhook_events_waiting",
        "Stored webhook events not processed yet (received + orphan).",
        waiting["count"],
    )
    yield (
        "paysvc_webhook_events_oldest_waiting_seconds",
        "Age of the oldest waiting (received or orphan) webhook event.",
        (now - oldest).total_seconds() if oldest else 0.0,
    )
    yield (
        "paysvc_webhook_events_failed",
        "Webhook events that failed processing (see last_error; reprocess when fixed).",
        WebhookEvent.objects.filter(status=EventStatus.FAILED).count(),
    )
    yield (
        "paysvc_webhook_events_received_stuck",
        "Webhook events still RECEIVED more than 5 minutes after receipt (should be 0; "
        "docs/reliability.md#31-sweeper-metric).",
        WebhookEvent.objects.filter(
            status=EventStatus.RECEIVED, received_at__lt=now - STUCK_AFTER
        ).count(),
    )
