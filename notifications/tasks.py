"""Celery tasks of the notifications app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from notifications.services import events_prune, notification_deliver, notifications_dispatch_due


@shared_task(name="notifications.deliver", acks_late=True, ignore_result=True)
def deliver(notification_id: int) -> None:
    """Make the due delivery attempt of one notification (a no-op when not due or done).

    No autoretry: a failed attempt is recorded and rescheduled in the row, durably.
    """
    notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """Enqueue the notifications whose next attempt is due (beat runs this every 15 s)."""
    return notifications_dispatch_due()


@shared_task(name="notifications.prune_events", ignore_result=True)
def prune_events() -> int:
    """Delete events past their retention (beat, hourly); see `events_prune`."""
    return events_prune()
