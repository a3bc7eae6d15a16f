"""Project-level Celery tasks."""

from celery import shared_task
from django.utils import timezone

from paysvc.models import Heartbeat

WORKER_HEARTBEAT = "celery-worker"


@shared_task(name="paysvc.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Record that a worker consumed a task just now (beat schedules this; /readyz reports it).

    Proves the whole asynchronous path end to end: publisher, broker, worker and database.
    """
    Heartbeat.objects.update_or_create(name=WORKER_HEARTBEAT, defaults={"seen_at": timezone.now()})
