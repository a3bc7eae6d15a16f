"""Delivering merchant events: one attempt at a time, retried, redelivered on request.

Concurrency rules:
- Scheduling is durable: `next_attempt_at` is in the row; `notifications_dispatch_due` (beat,
  every 15 s) enqueues what is due, so a lost on_commit publish or a broker restart delays a
  delivery by about a minute but never loses it. No long Celery countdowns.
- One attempt at a time: a worker claims the row with a conditional UPDATE (due, not locked) and
  holds `locked_until` while it sends; a duplicate task finds it claimed or not due and stops.
- No transaction is open while the merchant's server is called.
- An event's `delivery_status` follows its deliveries, in the transaction that changes them.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from notifications import retry, transport
from notifications.models import (
    SYSTEM_ACTOR,
    DeliveryStatus,
    Event,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from notifications.payloads import event_body
from notifications.services.endpoints import endpoint_signing_secrets
from notifications.signing import SIGNATURE_HEADER, signature_header
from paysvc.metrics import CALLBACK_DELIVERIES

logger = logging.getLogger(__name__)

USER_AGENT = "paysvc-notifications/1"
# How long a worker holds a claimed row while sending: well above connect + read timeouts.
LOCK_SECONDS = 120
# An enqueued delivery not started within this is enqueued again by dispatch_due.
DISPATCH_GRACE_SECONDS = 60
DISPATCH_BATCH = 500


def notification_deliver(*, notification_id: int) -> NotificationAttempt | None:
    """Make the due attempt of a pending delivery; None when there is nothing to do.

    Idempotent: a delivered or failed delivery, one not due yet, one another worker is sending
    right now, or one to a disabled endpoint is left alone. The outcome is recorded as a
    NotificationAttempt; a failure schedules the next attempt (notifications.retry) or gives up
    after the retry window.
    """
    now = timezone.now()
    claimed = _due(Notification.objects.filter(pk=notification_id), now=now).update(
        locked_until=now + dt.timedelta(seconds=LOCK_SECONDS)
    )
    if not claimed:
        logger.debug("delivery not due, being sent, or finished", extra={"id": notification_id})
        return None
    notification = Notification.objects.select_related(
        "event", "event__application", "event__order", "event__account_share", "endpoint"
    ).get(pk=notification_id)
    by = notification.redelivery_requested_by or SYSTEM_ACTOR
    event = notification.event
    endpoint = notification.endpoint
    if endpoint is not None and (not endpoint.enabled or endpoint.deleted_at is not None):
        # A disabled endpoint receives nothing; the delivery waits (enabling it resumes).
        Notification.objects.filter(pk=notification_id).update(locked_until=None)
        return None
    body = event_body(event.payload)
    secrets = (
        endpoint_signing_secrets(endpoint, now=now)
        if endpoint is not None
        else [event.application.notification_secret]
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Paysvc-Event-Id": event.public_id,
        "Paysvc-Event-Type": event.event_type,
        "Paysvc-Delivery-Id": notification.public_id,
        SIGNATURE_HEADER: signature_header(body=body, secrets=secrets),
    }
    result = transport.post(
        url=notification.url,
        body=body,
        headers=headers,
        allow_private=settings.PAYSVC_ALLOW_PRIVATE_URLS,
        connect_timeout=settings.PAYSVC_CALLBACK_CONNECT_TIMEOUT,
        read_timeout=settings.PAYSVC_CALLBACK_READ_TIMEOUT,
    )
    attempt, gave_up = _attempt_record(
        notification_id=notification_id, result=result, attempted_at=now, by=by
    )
    _observe(notification=notification, attempt=attempt, result=result, gave_up=gave_up)
    return attempt


def notifications_dispatch_due(*, limit: int = DISPATCH_BATCH) -> int:
    """Enqueue a delivery for every pending notification that is due and not already queued.

    Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so several beat or worker processes
    never enqueue one twice. Returns how many were enqueued.
    """
    now = timezone.now()
    grace = now - dt.timedelta(seconds=DISPATCH_GRACE_SECONDS)
    with transaction.atomic():
        ids = list(
            _due(Notification.objects.all(), now=now)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=grace))
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(dispatched_at=now)
            for pk in ids:
                transaction.on_commit(partial(enqueue_delivery, pk))
    if ids:
        logger.info("deliveries dispatched", extra={"count": len(ids)})
    return len(ids)


@transaction.atomic
def notification_redeliver(
    *, notification: Notification, by_user: AbstractBaseUser | str
) -> Notification:
    """Send `notification` again now (staff, or the merchant through the events API): the same
    event id and bytes, a fresh retry window.

    Works for delivered and failed deliveries too; the next attempt records `by_user`.
    """
    username = by_user.get_username() if hasattr(by_user, "get_username") else str(by_user)
    row = Notification.objects.select_for_update().get(pk=notification.pk)
    now = timezone.now()
    row.status = NotificationStatus.PENDING
    row.next_attempt_at = now
    row.retry_started_at = now
    row.dispatched_at = now
    row.redelivery_requested_by = username[:150]
    row.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "retry_started_at",
            "dispatched_at",
            "redelivery_requested_by",
        ]
    )
    Event.objects.filter(pk=row.event_id).update(delivery_status=DeliveryStatus.PENDING)
    transaction.on_commit(partial(enqueue_delivery, row.pk))
    logger.info(
        "redelivery requested",
        extra={"delivery": row.public_id, "eventRowId": row.event_id, "by": username},
    )
    return row


# -- internals ------------------------------------------------------------------------------------
def _due(queryset: QuerySet[Notification], *, now: dt.datetime) -> QuerySet[Notification]:
    """Pending, due, and not held by a worker (an expired lock is a worker that died)."""
    return queryset.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )


@transaction.atomic
def _attempt_record(
    *, notification_id: int, result: transport.DeliveryResult, attempted_at: dt.datetime, by: str
) -> tuple[NotificationAttempt, bool]:
    """Log the attempt and move the notification on: delivered, retry later, or failed.

    Returns the attempt and whether this was the last one (gave up).
    """
    row = Notification.objects.select_for_update().get(pk=notification_id)
    attempt = NotificationAttempt.objects.create(
        notification=row,
        attempted_at=attempted_at,
        url=row.url,
        status_code=result.status_code,
        response_excerpt=result.response_excerpt[:500],
        duration_ms=result.duration_ms,
        error=result.error[:500],
        by=by,
    )
    now = timezone.now()
    row.attempts += 1
    row.last_status_code = result.status_code
    row.last_error = result.error[:500]
    row.locked_until = None
    row.dispatched_at = None
    fields = ["attempts", "last_status_code", "last_error", "locked_until", "dispatched_at"]
    if row.redelivery_requested_by == by:
        row.redelivery_requested_by = ""
        fields.append("redelivery_requested_by")
    gave_up = False
    if row.retry_started_at > attempted_at:
        # Staff asked for a redelivery while this attempt was under way: that one stays due now
        # (dispatched_at is cleared, so dispatch_due enqueues it within one beat interval).
        pass
    elif result.ok:
        row.status = NotificationStatus.DELIVERED
        row.delivered_at = now
        row.next_attempt_at = None
        fields += ["status", "delivered_at", "next_attempt_at"]
    else:
        failures = row.attempt_log.filter(attempted_at__gte=row.retry_started_at).count()
        row.next_attempt_at = retry.next_attempt_at(
            retry_started_at=row.retry_started_at,
            failures=failures,
            now=now,
            window=dt.timedelta(hours=settings.PAYSVC_CALLBACK_RETRY_HOURS),
        )
        fields.append("next_attempt_at")
        if row.next_attempt_at is None:
            row.status = NotificationStatus.FAILED
            fields.append("status")
            gave_up = True
    row.save(update_fields=fields)
    if "status" in fields:
        events_delivery_status_refresh(event_ids=[row.event_id])
    return attempt, gave_up


def _observe(
    *,
    notification: Notification,
    attempt: NotificationAttempt,
    result: transport.DeliveryResult,
    gave_up: bool,
) -> None:
    """Metrics and one log line per attempt (never the secret or the signature)."""
    outcome = "delivered" if result.ok else "refused_url" if result.refused else "failed_attempt"
    CALLBACK_DELIVERIES.labels(outcome=outcome).inc()
    if gave_up:
        CALLBACK_DELIVERIES.labels(outcome="gave_up").inc()
    logger.log(
        logging.INFO if result.ok else logging.WARNING,
        "delivery attempt",
        extra={
            "delivery": notification.public_id,
            "event": notification.event.public_id,
            "type": notification.event.event_type,
            "ref": _reference(notification),
            "attempt": notification.attempts + 1,
            "httpStatus": attempt.status_code,
            "ms": attempt.duration_ms,
            "outcome": outcome,
            "error": attempt.error or None,
            "gaveUp": gave_up,
        },
    )


def _reference(notification: Notification) -> str:
    """The merchant's id of the subject, for logs: merchantTradeNo, or the share's requestId."""
    data = notification.event.payload.get("data") or {}
    return str(data.get("merchantTradeNo") or data.get("requestId") or "")


def events_delivery_status_refresh(*, event_ids: Any) -> None:
    """Recompute `Event.delivery_status` of `event_ids` (ids or a values() subquery) from their
    deliveries: pending while one is pending, else failed if one gave up, else delivered."""
    rows = (
        Notification.objects.filter(event_id__in=event_ids)
        .values("event_id")
        .annotate(
            pending=Count("id", filter=Q(status=NotificationStatus.PENDING)),
            failed=Count("id", filter=Q(status=NotificationStatus.FAILED)),
        )
        .order_by()
    )
    for row in rows:
        status = (
            DeliveryStatus.PENDING
            if row["pending"]
            else DeliveryStatus.FAILED
            if row["failed"]
            else DeliveryStatus.DELIVERED
        )
        Event.objects.filter(pk=row["event_id"]).exclude(delivery_status=status).update(
            delivery_status=status
        )


def enqueue_delivery(notification_id: int) -> None:
    """Publish a delivery task. A broker outage is logged, not raised: dispatch_due resends."""
    from notifications.tasks import deliver

    try:
        deliver.apply_async((notification_id,), retry=False)
    except Exception as exc:  # any broker failure; the row stays due and dispatch_due enqueues it
        logger.warning(
            "could not enqueue a delivery; dispatch_due will",
            extra={"id": notification_id, "error": type(exc).__name__},
        )
