"""Re-enqueue stored events that are still waiting (docs/reliability.md#enqueue-after-commit).

``transaction.on_commit`` is not durable: a process can die between commit and publish, the
broker can be down (the intake does not wait for it) or lose its queue. So every ~30 s (beat) the
sweeper enqueues again:

* RECEIVED events older than ``RECEIVED_GRACE`` that nobody scheduled (normally processed in
  milliseconds), and
* RECEIVED or ORPHAN events whose ``next_attempt_at`` is due (orphan backoff, retry later).

Claimed rows get ``next_attempt_at = now + LEASE`` in the same short transaction
(``select_for_update(skip_locked=True)``), so concurrent sweepers and the next tick do not
enqueue them again while the task waits in the queue.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webhooks.models import WAITING_STATUSES, EventStatus, WebhookEvent
from webhooks.services.intake import enqueue_processing

logger = logging.getLogger(__name__)

RECEIVED_GRACE = dt.timedelta(seconds=10)
LEASE = dt.timedelta(minutes=2)
BATCH = 5000


def webhook_events_sweep(*, limit: int = BATCH) -> int:
    """Enqueue the waiting events that are due. Returns how many were published."""
    now = timezone.now()
    due = Q(
        status=EventStatus.RECEIVED,
        next_attempt_at__isnull=True,
        received_at__lte=now - RECEIVED_GRACE,
    ) | Q(status__in=WAITING_STATUSES, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("received_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookEvent.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    published = 0
    for event_id in ids:
        if not enqueue_processing(event_id):
            break  # broker down: the lease expires and the next tick tries again
        published += 1
    if ids:
        logger.info(
            "webhook sweeper enqueued waiting events",
            extra={"published": published, "due": len(ids)},
        )
    return published
