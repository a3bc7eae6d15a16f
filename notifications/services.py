"""Merchant notifications: create an event, deliver it (with retries), redeliver on request.

Concurrency rules:
- `notify` writes the row in the caller's transaction and enqueues delivery on commit, so a
  rolled-back status change sends nothing.
- Scheduling is durable: `next_attempt_at` is in the row; `notifications_dispatch_due` (beat,
  every 15 s) enqueues what is due, so a lost on_commit publish or a broker restart delays a
  delivery by about a minute but never loses it. No long Celery countdowns.
- One attempt at a time: a worker claims the row with a conditional UPDATE (due, not locked) and
  holds `locked_until` while it sends; a duplicate task finds it claimed or not due and stops.
- No transaction is open while the merchant's server is called.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications import retry, transport
from notifications.events import (
    event_body,
    event_object,
    event_subject,
    new_event_id,
    order_event_type,
    refund_event_type,
)
from notifications.models import (
    SYSTEM_ACTOR,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from notifications.signing import SIGNATURE_HEADER, signature_header
from orders.models import AccountShare, Order, Refund
from paysvc.metrics import CALLBACK_DELIVERIES

__all__ = [
    "notification_deliver",
    "notification_redeliver",
    "notifications_dispatch_due",
    "notify",
    "order_event_type",
    "refund_event_type",
]

logger = logging.getLogger(__name__)

USER_AGENT = "paysvc-notifications/1"
# How long a worker holds a claimed row while sending: well above connect + read timeouts.
LOCK_SECONDS = 120
# An enqueued delivery not started within this is enqueued again by dispatch_due.
DISPATCH_GRACE_SECONDS = 60
DISPATCH_BATCH = 500


def notify(
    *,
    event_type: str,
    order: Order | None = None,
    refund: Refund | None = None,
    account_share: AccountShare | None = None,
) -> Notification | None:
    """Store a `event_type` event for the merchant and deliver it once the transaction commits.

    The destination is the order's notifyUrl, else the application's default URL; with neither,
    nothing is stored and None is returned. Raises ValueError for an unknown event type or a
    missing subject (programming errors).
    """
    subject = event_subject(
        event_type=event_type, order=order, refund=refund, account_share=account_share
    )
    if not subject.url:
        return None
    now = timezone.now()
    event_id = new_event_id()
    notification = Notification.objects.create(
        public_id=event_id,
        application=subject.application,
        order=subject.order,
        refund=subject.refund,
        account_share=subject.account_share,
        event_type=event_type,
        url=subject.url,
        payload=event_object(
            event_id=event_id, event_type=event_type, created_at=now, data=subject.data
        ),
        next_attempt_at=now,
        retry_started_at=now,
        dispatched_at=now,  # enqueued below; dispatch_due covers a lost publish
        created_at=now,
    )
    transaction.on_commit(partial(_enqueue, notification.pk))
    logger.info(
        "notification created event=%s type=%s ref=%s host=%s",
        event_id,
        event_type,
        subject.reference,
        _host(subject.url),
    )
    return notification


def notification_deliver(*, notification_id: int) -> NotificationAttempt | None:
    """Make the due attempt of a pending notification; None when there is nothing to do.

    Idempotent: a delivered or failed notification, one not due yet, or one another worker is
    sending right now is left alone. The outcome is recorded as a NotificationAttempt; a failure
    schedules the next attempt (notifications.retry) or gives up after the retry window.
    """
    now = timezone.now()
    claimed = _due(Notification.objects.filter(pk=notification_id), now=now).update(
        locked_until=now + dt.timedelta(seconds=LOCK_SECONDS)
    )
    if not claimed:
        logger.debug("notification id=%s not due, being sent, or finished", notification_id)
        return None
    notification = Notification.objects.select_related("application", "order", "account_share").get(
        pk=notification_id
    )
    by = notification.redelivery_requested_by or SYSTEM_ACTOR
    body = event_body(notification.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Paysvc-Event-Id": notification.public_id,
        "Paysvc-Event-Type": notification.event_type,
        SIGNATURE_HEADER: signature_header(
            body=body, secret=notification.application.notification_secret
        ),
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
                transaction.on_commit(partial(_enqueue, pk))
    if ids:
        logger.info("notifications dispatched count=%s", len(ids))
    return len(ids)


@transaction.atomic
def notification_redeliver(
    *, notification: Notification, by_user: AbstractBaseUser | str
) -> Notification:
    """Send `notification` again now (staff): the same event id, a fresh retry window.

    Works for delivered and failed notifications too; the next attempt records `by_user`.
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
    transaction.on_commit(partial(_enqueue, row.pk))
    logger.info(
        "notification redelivery requested event=%s type=%s by=%s",
        row.public_id,
        row.event_type,
        username,
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
        "notification attempt event=%s type=%s ref=%s attempt=%s status=%s duration_ms=%s "
        "outcome=%s error=%r gave_up=%s",
        notification.public_id,
        notification.event_type,
        _reference(notification),
        notification.attempts + 1,
        attempt.status_code,
        attempt.duration_ms,
        outcome,
        attempt.error,
        gave_up,
    )


def _reference(notification: Notification) -> str:
    """The merchant's id of the subject, for logs: merchantTradeNo, or the share's requestId."""
    if notification.order is not None:
        return notification.order.merchant_trade_no
    share = notification.account_share
    return share.request_id if share is not None else ""


def _enqueue(notification_id: int) -> None:
    """Publish a delivery task. A broker outage is logged, not raised: dispatch_due resends."""
    from notifications.tasks import deliver

    try:
        deliver.apply_async((notification_id,), retry=False)
    except Exception as exc:  # any broker failure; the row stays due and dispatch_due enqueues it
        logger.warning(
            "could not enqueue notification id=%s (%s); dispatch_due will",
            notification_id,
            type(exc).__name__,
        )


def _host(url: str) -> str:
    """The host of a URL, for logs (a merchant URL may carry a token in its path or query)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
