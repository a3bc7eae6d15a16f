"""A Celery app with one task that does nothing: the worker_drain benchmark's Celery floor.

Same broker (CELERY_BROKER_URL), serializer, acknowledgement and prefetch settings as paysvc's
worker (paysvc/settings.py), no Django: what Celery itself costs per task on this machine.
"""

from __future__ import annotations

import os

from celery import Celery

app = Celery("bench-floor", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13"))
app.conf.update(
    broker_transport_options={"visibility_timeout": 3600},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)


@app.task(name="webhooks.process_event")
def process_event(event_id: int) -> None:
    """Nothing: the message is received, run and acknowledged."""


def enqueue(n: int) -> None:
    """Queue ``n`` tasks, as intake queues one per stored event."""
    with app.producer_or_acquire() as producer:
        for event_id in range(n):
            process_event.apply_async((event_id,), producer=producer)
