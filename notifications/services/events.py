"""Emitting merchant events: stored once, then one delivery per destination.

`event_emit` is what the other apps call when something the merchant cares about happened; it
receives the resource already serialized (notifications knows nothing of orders). The event is
written in the caller's transaction, so a rolled-back change emits nothing; its deliveries are
enqueued once that transaction commits (and found by `notifications_dispatch_due` if a publish
is lost).

Destinations of an event of application A:

* the order's ``notifyUrl``, else A's default notify URL (``legacy_url``; signed with A's
  notification secret): what paysvc always did, kept working;
* every enabled webhook endpoint of A subscribed to the event's type (signed with its secret).

With none the event is still stored (``deliveryStatus: none``) and listed by the events API.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import (
    DeliveryStatus,
    Event,
    EventType,
    Notification,
    NotificationStatus,
    WebhookEndpoint,
)
from notifications.payloads import event_object, new_delivery_id, new_event_id
from paysvc import bulk

logger = logging.getLogger(__name__)

PRUNE_BATCH = 1000


def event_emit(
    *,
    application: Any,
    event_type: str,
    data: dict[str, Any],
    legacy_url: str = "",
    order: Any = None,
    refund: Any = None,
    account_share: Any = None,
) -> Event:
    """Store a `event_type` event carrying `data` and schedule its deliveries.

    `data` must be plain JSON (the resource as the merchant API shows it). The subject objects
    only link the event for the admin. Raises ValueError for an unknown event type.
    """
    if event_type not in EventType.values:
        raise ValueError(f"unknown event type {event_type!r}")
    now = timezone.now()
    event_id = new_event_id()
    writes = bulk.pending()
    destinations = _destinations(
        application_id=application.pk, event_type=event_type, legacy_url=legacy_url
    )
    event = Event(
        public_id=event_id,
        application=application,
        event_type=event_type,
        created_at=now,
        payload=event_object(event_id=event_id, event_type=event_type, created_at=now, data=data),
        delivery_status=DeliveryStatus.PENDING if destinations else DeliveryStatus.NONE,
        order=order,
        refund=refund,
        account_share=account_share,
    )
    if writes is not None:
        writes.create(event)
    else:
        event.save(force_insert=True)
    deliveries = _deliveries_create(event=event, destinations=destinations, now=now)
    logger.info(
        "event emitted",
        extra={
            "event": event_id,
            "type": event_type,
            "deliveries": len(deliveries),
            "hosts": ",".join(_host(d.url) for d in deliveries) or None,
        },
    )
    return event


def event_destinations(
    *, event: Event, legacy_url: str
) -> list[tuple[str, WebhookEndpoint | None]]:
    """(url, endpoint) of every destination of `event` now: the legacy URL, then the endpoints."""
    return _destinations(
        application_id=event.application_id, event_type=event.event_type, legacy_url=legacy_url
    )


def _destinations(
    *, application_id: int, event_type: str, legacy_url: str
) -> list[tuple[str, WebhookEndpoint | None]]:
    out: list[tuple[str, WebhookEndpoint | None]] = []
    if legacy_url:
        out.append((legacy_url, None))
    writes = bulk.pending()
    if writes is not None:  # the same for the whole batch
        endpoints = writes.memo(("endpoints", application_id), partial(_endpoints, application_id))
    else:
        endpoints = _endpoints(application_id)
    out.extend((ep.url, ep) for ep in endpoints if ep.wants(event_type))
    return out


def _endpoints(application_id: int) -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.filter(
            application_id=application_id, enabled=True, deleted_at__isnull=True
        ).order_by("created_at", "id")
    )


def _deliveries_create(
    *,
    event: Event,
    destinations: list[tuple[str, WebhookEndpoint | None]],
    now: dt.datetime,
) -> list[Notification]:
    deliveries = [
        Notification(
            public_id=new_delivery_id(),
            event=event,
            endpoint=endpoint,
            url=url,
            next_attempt_at=now,
            retry_started_at=now,
            dispatched_at=now,  # enqueued below; dispatch_due covers a lost publish
            created_at=now,
        )
        for url, endpoint in destinations
    ]
    if not deliveries:
        return []
    if (writes := bulk.pending()) is not None:
        for delivery in deliveries:
            writes.create(delivery)
    else:
        Notification.objects.bulk_create(deliveries)
    from notifications.services.deliveries import enqueue_delivery

    for delivery in deliveries:
        # The primary key is read at commit: a batch assigns it only at its flush.
        transaction.on_commit(partial(_enqueue, enqueue_delivery, delivery))
    return deliveries


def _enqueue(enqueue: Any, delivery: Notification) -> None:
    enqueue(delivery.pk)


@transaction.atomic
def event_redeliver(
    *, event: Event, by: str, endpoint: WebhookEndpoint | None = None
) -> list[Notification]:
    """Send `event` again now: the same event id and bytes, a fresh retry window.

    With `endpoint`: to that endpoint only (a delivery is made if the event had none there, e.g.
    the endpoint was added later). Without: every delivery the event has; an event that had no
    destination is delivered to its destinations now (as `event_emit` would choose them).
    Returns the deliveries scheduled.
    """
    from notifications.services.deliveries import notification_redeliver

    deliveries = event.deliveries.all()
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    existing = list(deliveries)
    if existing:
        return [notification_redeliver(notification=d, by_user=by) for d in existing]
    now = timezone.now()
    if endpoint is not None:
        targets: list[tuple[str, WebhookEndpoint | None]] = [(endpoint.url, endpoint)]
    else:
        targets = event_destinations(event=event, legacy_url=_legacy_url(event))
    made = []
    for url, target in targets:
        made.append(
            Notification.objects.create(
                public_id=new_delivery_id(),
                event=event,
                endpoint=target,
                url=url,
                next_attempt_at=now,
                retry_started_at=now,
                dispatched_at=now,
                created_at=now,
                redelivery_requested_by=by[:150],
            )
        )
    if made:
        from notifications.services.deliveries import enqueue_delivery

        Event.objects.filter(pk=event.pk).update(delivery_status=DeliveryStatus.PENDING)
        for delivery in made:
            transaction.on_commit(partial(enqueue_delivery, delivery.pk))
    logger.info(
        "event redelivery", extra={"event": event.public_id, "by": by, "deliveries": len(made)}
    )
    return made


def events_prune(*, now: dt.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete events older than PAYSVC_EVENT_RETENTION_DAYS with their deliveries and attempts.

    An event with a delivery still pending is kept until it is delivered or given up. Deletes
    in batches (short transactions). Returns how many events were deleted.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=int(settings.PAYSVC_EVENT_RETENTION_DAYS))
    old = Event.objects.filter(created_at__lt=cutoff).exclude(
        Q(deliveries__status=NotificationStatus.PENDING)
    )
    deleted = 0
    while True:
        ids = list(old.order_by("created_at", "id").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            _, per_model = Event.objects.filter(pk__in=ids).delete()
        # What this run deleted, not what it selected: a concurrent run (two beats) may have
        # deleted some of these rows first.
        deleted += per_model.get(Event._meta.label, 0)
    if deleted:
        logger.info("events pruned", extra={"count": deleted, "olderThan": cutoff.isoformat()})
    return deleted


def _legacy_url(event: Event) -> str:
    """The notifyUrl of the event's order (a refund's order), else the application's default."""
    order = event.order or (event.refund.order if event.refund else None)
    return (getattr(order, "notify_url", "") or "") or event.application.default_notify_url


def _host(url: str) -> str:
    """The host of a URL, for logs (a merchant URL may carry a token in its path or query)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
