"""Payments applied in batches: one task applies its own PAY_SUCCESS and the others waiting.

Every stored event still gets its own task (webhooks.services.intake), and that task is what
guarantees it is processed. Under load, though, a task finds many PAY_SUCCESS events waiting,
and applying them one transaction each costs a commit and ~7 statements per payment. So a task
whose event is a PAY_SUCCESS locks it together with up to ``PAYSVC_WEBHOOK_BATCH_SIZE - 1``
other PAY_SUCCESS events that are waiting for the first time (``SELECT ... FOR UPDATE SKIP
LOCKED``: rows another worker holds are left to it), locks their orders with one query, runs
the same handler on each (webhooks.services.handlers.pay_success_locked: the same rules,
forward-only status, flags, merchant events), and writes all their effects and outcomes with a
few bulk statements (paysvc.bulk) in one transaction. The tasks of the events it took find them
processed and return at once, or, if they come while the batch still holds their event, apply
the next payments waiting instead (so every worker process applies batches under load).

Exactly once holds as on the one-event path: an event is applied only by the transaction that
holds its row lock and changes its status from waiting to final, in the same commit as its
effect. If anything in the batch raises, the whole batch rolls back and its events are
processed one by one (webhooks.services.processing), which records each failure on its own
event. A database error propagates: every event of the batch is still waiting, for its own task
or the sweeper.
"""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from binance_pay import MalformedNotification, WebhookNotification, parse_notification
from orders.models import Order
from orders.services import orders_lock
from paysvc import bulk
from webhooks.models import FINAL_STATUSES, WAITING_STATUSES, EventStatus, WebhookEvent
from webhooks.services.handlers import Outcome, pay_success_locked
from webhooks.services.processing import failure_outcome, record_outcome, webhook_event_process

logger = logging.getLogger(__name__)

BATCHED = ("PAY", "PAY_SUCCESS")
_HEAD_SQL = "SELECT status, biz_type, biz_status FROM webhooks_webhookevent WHERE id = %s"


def webhook_event_process_batched(*, event_id: int, final_attempt: bool = False) -> str | None:
    """What the processing task runs: event ``event_id`` in a batch if it is a PAY_SUCCESS
    (and batching is on), else alone (``webhook_event_process``). Returns the status recorded
    for ``event_id``, or None if there was nothing to do (unknown, final, or being processed
    by another worker's batch, which holds its lock)."""
    size = settings.PAYSVC_WEBHOOK_BATCH_SIZE
    head = _head(event_id)
    if head is not None and head[0] in FINAL_STATUSES:
        return None  # most often: applied already by another task's batch
    if size <= 1 or head is None or (head[1], head[2]) != BATCHED:
        return webhook_event_process(event_id=event_id, final_attempt=final_attempt)
    return webhook_events_apply_batch(event_id=event_id, size=size)


def _head(event_id: int) -> tuple[str, str, str] | None:
    """(status, bizType, bizStatus) of the event, or None. Plain SQL: under load most tasks
    end here (their event was in another task's batch), and the ORM cost 5x the query."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL, [event_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1], row[2])


def webhook_events_apply_batch(*, event_id: int, size: int) -> str | None:
    """Apply PAY_SUCCESS event ``event_id`` and others waiting, ``size`` at most, in one
    transaction. Returns the status recorded for ``event_id`` (None: another worker holds it,
    and this call applied the next ones waiting)."""
    ids: list[int] = []
    try:
        with transaction.atomic():
            events = _claim(event_id, size)
            ids = [event.pk for event in events]
            if not events:
                return None
            with bulk.deferred_writes():
                statuses = _apply(events)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # rolled back: each event again, alone, records its own outcome
        logger.warning(
            "webhook batch failed; processing its events one by one",
            extra={"events": len(ids), "error": f"{type(exc).__name__}: {exc}"},
        )
        statuses = {pk: webhook_event_process(event_id=pk) for pk in ids}
    if len(ids) > 1:
        logger.info("webhook batch applied", extra={"events": len(ids), "first": event_id})
    return statuses.get(event_id)


def _claim(event_id: int, size: int) -> list[WebhookEvent]:
    """Lock the task's own event (if still waiting and not held elsewhere), then other
    first-time PAY_SUCCESS events, oldest first, up to ``size`` in all; count the attempt."""
    locking = WebhookEvent.objects.select_for_update(skip_locked=True)
    own = list(locking.filter(pk=event_id, status__in=WAITING_STATUSES))
    # Own event held by another worker's batch: that batch applies it, and this task applies
    # the next payments waiting instead of returning idle (else, under load, one process would
    # apply batches while the other only skipped the tasks of the events in them).
    # next_attempt_at is set on events that are deferred or leased by the sweeper: their own
    # tasks have them. The (status, received_at) index serves this query.
    others = list(
        locking.filter(
            status=EventStatus.RECEIVED,
            next_attempt_at__isnull=True,
            biz_type=BATCHED[0],
            biz_status=BATCHED[1],
        )
        .exclude(pk=event_id)
        .order_by("received_at", "id")[: size - len(own)]
    )
    events = own + others
    for event in events:
        event.attempts += 1
    return events


def _apply(events: list[WebhookEvent]) -> dict[int, str]:
    """Run the PAY_SUCCESS handler on each event and record its outcome (writes deferred)."""
    parsed: list[tuple[WebhookEvent, WebhookNotification | None, Exception | None]] = []
    for event in events:
        try:
            parsed.append((event, parse_notification(bytes(event.body)), None))
        except MalformedNotification as exc:
            parsed.append((event, None, exc))
    trade_nos = []
    for _event, notification, _error in parsed:
        if notification is not None:
            # A malformed payment is recorded as such for its event, below.
            with contextlib.suppress(MalformedNotification):
                trade_nos.append(notification.pay_data().merchant_trade_no)
    orders = orders_lock(merchant_trade_nos=trade_nos)
    statuses = {}
    for event, notification, error in parsed:
        if notification is None:
            outcome = failure_outcome(event, error or MalformedNotification("unreadable body"))
        else:
            outcome = _handle(event, notification, orders)
        statuses[event.pk] = record_outcome(event, outcome)
    return statuses


def _handle(
    event: WebhookEvent, notification: WebhookNotification, orders: dict[str, Order]
) -> Outcome:
    try:
        trade_no = notification.pay_data().merchant_trade_no
    except MalformedNotification as exc:
        return failure_outcome(event, exc)
    return pay_success_locked(notification, orders.get(trade_no))
