"""Celery tasks of the webhooks app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task

from webhooks.services import webhook_events_sweep
from webhooks.services.batch import webhook_event_process_batched
from webhooks.services.processing import RETRYABLE_ERRORS

# Full-jitter backoff of up to 2, 4, 8, ... 64 s: about two minutes in all, well inside
# processing.TASK_RETRY_WINDOW_SECONDS, during which the sweeper leaves the event alone.
MAX_RETRIES = 6


@shared_task(
    name="webhooks.process_event",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def process_event(self: Task, event_id: int) -> None:
    """Process one stored webhook event (a payment with others waiting: webhooks.services.batch);
    the last retry records a failure instead of raising."""
    webhook_event_process_batched(
        event_id=event_id, final_attempt=self.request.retries >= self.max_retries
    )


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> None:
    """Re-enqueue stored events that are still waiting (beat, every 30 s)."""
    webhook_events_sweep()
