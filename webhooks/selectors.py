"""Reads of the webhook inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Count

from webhooks.models import WAITING_STATUSES, EventStatus, WebhookEvent


def webhook_event_ids(
    *,
    ids: Sequence[int] | None = None,
    status: str | None = None,
    since: dt.datetime | None = None,
) -> list[int]:
    """Ids of the events matching every filter given, oldest first."""
    qs = WebhookEvent.objects.all()
    if ids:
        qs = qs.filter(pk__in=ids)
    if status:
        qs = qs.filter(status=status)
    if since:
        qs = qs.filter(received_at__gte=since)
    return list(qs.order_by("received_at", "id").values_list("pk", flat=True))


def webhook_backlog() -> dict[str, int]:
    """How many events wait (received or orphan) and how many failed, in one query."""
    counts = dict(
        WebhookEvent.objects.filter(status__in=[*WAITING_STATUSES, EventStatus.FAILED])
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "waiting": sum(counts.get(status, 0) for status in WAITING_STATUSES),
        "failed": counts.get(EventStatus.FAILED, 0),
    }
