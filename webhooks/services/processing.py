"""Processing one stored event: claim it, run its handler, record the outcome on the row.

Safe to run twice, and concurrently: the claim skips final events under a row lock, handlers are
idempotent (webhooks.services.handlers) and the outcome is written only while the row is still
waiting. No transaction is open while a handler calls Binance (docs/conventions.md#rule-6): the
claim and the outcome are two short writes around it.

Outcomes: processed, ignored (no handler for this bizType/bizStatus: stored, never an error),
orphan (no matching order/refund/share yet: retried with backoff for a day, alert after 15 min),
flagged (amount/currency mismatch), failed (terminal; ``last_error`` says why). Retryable errors
(Binance unreachable) propagate for the task to retry, and the row keeps waiting.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from binance_pay import MalformedNotification, WebhookNotification, parse_notification
from orders.errors import BinanceRefused, BinanceUnavailable
from paysvc import bulk, metrics
from webhooks.models import FINAL_STATUSES, WAITING_STATUSES, EventStatus, WebhookEvent
from webhooks.services.handlers import HANDLERS, WRITE_ONLY_HANDLERS, Outcome, biz_type_label

logger = logging.getLogger(__name__)

RETRYABLE_ERRORS = (BinanceUnavailable,)
# Orphans: retried on this schedule (seconds after each attempt, the last one repeating)...
ORPHAN_BACKOFF_SECONDS = (30, 60, 120, 300, 600, 900)
# ...for this long after receipt, then failed; an alert is logged once they are this old.
ORPHAN_GIVE_UP = dt.timedelta(days=1)
ORPHAN_ALERT_AFTER = dt.timedelta(minutes=15)
# "Try again later" (e.g. the order's amount is not known yet).
RETRY_LATER_SECONDS = 30
# While the task retries a Binance outage itself, the sweeper leaves the event alone this long
# (well over what all the task's retries take together, webhooks.tasks).
TASK_RETRY_WINDOW_SECONDS = 660
MAX_ERROR_CHARS = 2000
NO_HANDLER = "no handler for this bizType/bizStatus"


def webhook_event_process(*, event_id: int, final_attempt: bool = False) -> str | None:
    """Process event ``event_id`` once. Returns the status recorded, or None if there was
    nothing to do (unknown id, or already final).

    Raises the retryable errors (RETRYABLE_ERRORS) unless ``final_attempt``, in which case the
    event is marked failed instead. Database connection errors propagate and leave the event
    waiting for the sweeper.

    An event whose handler only writes (no call to Binance: a payment, a shared account) is
    claimed, applied and recorded in one short transaction: one commit, and the effect and its
    record can only happen together. A handler that calls Binance runs between a claim and a
    record, with no transaction open during the call (docs/conventions.md#rule-6).
    """
    try:
        with transaction.atomic():
            event = _claim(event_id)
            if event is None:
                return None
            notification = parse_notification(bytes(event.body))
            key = (notification.biz_type, notification.biz_status)
            if key not in HANDLERS:
                return record_outcome(event, Outcome(EventStatus.IGNORED, NO_HANDLER))
            if key in WRITE_ONLY_HANDLERS:
                return record_outcome(event, HANDLERS[key](event, notification))
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # rolled back: record the failure in a transaction of its own
        return _fail(event_id, exc)
    return _process_calling_binance(event, notification, final_attempt=final_attempt)


def _process_calling_binance(
    event: WebhookEvent, notification: WebhookNotification, *, final_attempt: bool
) -> str:
    """The claim is committed; run the handler (it may call Binance), then record."""
    try:
        outcome = HANDLERS[notification.biz_type, notification.biz_status](event, notification)
    except RETRYABLE_ERRORS as exc:
        if final_attempt:
            outcome = Outcome(EventStatus.FAILED, f"gave up after {event.attempts} attempts: {exc}")
        else:
            _defer(event, exc)
            raise
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        outcome = failure_outcome(event, exc)
    with transaction.atomic():
        return record_outcome(event, outcome)


def _fail(event_id: int, exc: Exception) -> str | None:
    """Record that processing `event_id` raised `exc` (its transaction was rolled back)."""
    with transaction.atomic():
        event = _claim(event_id)
        if event is None:
            return None
        return record_outcome(event, failure_outcome(event, exc))


def failure_outcome(event: WebhookEvent, exc: Exception) -> Outcome:
    if isinstance(exc, MalformedNotification):
        return Outcome(EventStatus.FAILED, f"malformed notification data: {exc}")
    if isinstance(exc, BinanceRefused):
        return Outcome(EventStatus.FAILED, f"Binance refused: {exc}")
    logger.error("webhook event failed", extra=_fields(event), exc_info=exc)
    return Outcome(EventStatus.FAILED, f"{type(exc).__name__}: {exc}")


def webhook_event_reprocess(*, event_id: int) -> str | None:
    """Process a waiting or failed event again now (admin/command). Final successes are left."""
    WebhookEvent.objects.filter(pk=event_id, status=EventStatus.FAILED).update(
        status=EventStatus.RECEIVED, next_attempt_at=None
    )
    return webhook_event_process(event_id=event_id, final_attempt=True)


def _claim(event_id: int) -> WebhookEvent | None:
    """Lock the event in the open transaction and count this attempt; None if there is nothing
    to do. The count is written with the outcome (or by the commit of a Binance-calling claim)."""
    try:
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
    except WebhookEvent.DoesNotExist:
        logger.warning("webhook event does not exist", extra={"event": event_id})
        return None
    if event.status in FINAL_STATUSES:
        return None
    event.attempts += 1
    if not _writes_only(event):
        # The handler runs after this transaction: the attempt must be counted now.
        event.save(update_fields=["attempts"])
    return event


def _writes_only(event: WebhookEvent) -> bool:
    return (event.biz_type, event.biz_status) in WRITE_ONLY_HANDLERS


def record_outcome(event: WebhookEvent, outcome: Outcome) -> str:
    """Write `outcome` on the event (queued in a batch: paysvc.bulk), count and log it."""
    writes = bulk.pending()
    # A batch commits at one instant: its events share one time, and one UPDATE.
    now = writes.memo("now", timezone.now) if writes is not None else timezone.now()
    age = now - event.received_at
    status, note = outcome.status, outcome.note
    next_attempt_at = None
    if status in WAITING_STATUSES:
        if age > ORPHAN_GIVE_UP:
            status, note = EventStatus.FAILED, f"still waiting after {ORPHAN_GIVE_UP}: {note}"
        elif status == EventStatus.ORPHAN:
            step = min(event.attempts, len(ORPHAN_BACKOFF_SECONDS)) - 1
            next_attempt_at = now + dt.timedelta(seconds=ORPHAN_BACKOFF_SECONDS[max(step, 0)])
        else:
            next_attempt_at = now + dt.timedelta(seconds=RETRY_LATER_SECONDS)
    final = status in FINAL_STATUSES
    fields = {
        "attempts": event.attempts,
        "status": status,
        "last_error": "" if status == EventStatus.PROCESSED else note[:MAX_ERROR_CHARS],
        "processed_at": now if final else None,
        "next_attempt_at": next_attempt_at,
    }
    if writes is not None:
        # The batch holds the row's lock: no concurrent run can have finished it.
        for name, value in fields.items():
            setattr(event, name, value)
        writes.update_values(WebhookEvent, event.pk, fields)
    else:
        # Only while still waiting: a concurrent run that finished first keeps its result.
        WebhookEvent.objects.filter(pk=event.pk, status__in=WAITING_STATUSES).update(**fields)
    metrics.WEBHOOK_EVENTS_PROCESSED.labels(biz_type_label(event.biz_type), status).inc()
    if final:
        metrics.WEBHOOK_PROCESSING_LAG.observe(age.total_seconds())
    log = logger.warning if status in (EventStatus.FAILED, EventStatus.FLAGGED) else logger.info
    log(
        "webhook event %s",
        status,
        extra={**_fields(event), "outcome": status, "attempt": event.attempts, "note": note},
    )
    if status == EventStatus.ORPHAN and age > ORPHAN_ALERT_AFTER:
        logger.error(
            "ALERT webhook event still orphan after %d min",
            age.total_seconds() // 60,
            extra={**_fields(event), "note": note},
        )
    return status


def _defer(event: WebhookEvent, exc: Exception) -> None:
    """The task will retry: note why, and keep the sweeper off it meanwhile."""
    WebhookEvent.objects.filter(pk=event.pk, status__in=WAITING_STATUSES).update(
        last_error=f"retrying: {type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS],
        next_attempt_at=timezone.now() + dt.timedelta(seconds=TASK_RETRY_WINDOW_SECONDS),
    )
    metrics.WEBHOOK_EVENTS_PROCESSED.labels(biz_type_label(event.biz_type), "retry").inc()
    logger.warning("webhook event will be retried", extra={**_fields(event), "error": str(exc)})


def _fields(event: WebhookEvent) -> dict[str, object]:
    """What identifies an event in a log line."""
    return {
        "event": event.pk,
        "bizType": event.biz_type,
        "bizStatus": event.biz_status,
        "bizIdStr": event.biz_id_str,
        "merchantTradeNo": event.merchant_trade_no or None,
    }
