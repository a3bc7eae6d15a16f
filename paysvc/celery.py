"""The Celery application shared by the worker, beat and the web process (which only publishes)."""

import os
from contextvars import Token

from celery import Celery, signals

from paysvc import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")

app = Celery("paysvc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's metrics exporter and task counters (signal handlers; inert in other processes).
import paysvc.worker_metrics  # noqa: E402, F401


# -- the correlation id travels with every task (paysvc/logs.py) ---------------------------------
@signals.before_task_publish.connect
def _send_correlation_id(headers: dict | None = None, **kwargs: object) -> None:
    """Publishing inside a request or task: the task carries its correlation id (else a new one,
    e.g. for what beat publishes)."""
    if headers is not None and CORRELATION_HEADER not in headers:
        headers[CORRELATION_HEADER] = logs.correlation_id.get() or logs.new_correlation_id()


# Not Celery's own "correlation_id" header, which is the task id.
CORRELATION_HEADER = "paysvc_correlation_id"
_task_tokens: dict[str, Token[str]] = {}


@signals.task_prerun.connect
def _adopt_correlation_id(task_id: str = "", task: object = None, **kwargs: object) -> None:
    request = getattr(task, "request", None)
    value = (
        getattr(request, CORRELATION_HEADER, None)
        or (getattr(request, "headers", None) or {}).get(CORRELATION_HEADER)
        or logs.new_correlation_id()
    )
    _task_tokens[task_id] = logs.correlation_id.set(str(value))


@signals.task_postrun.connect
def _drop_correlation_id(task_id: str = "", **kwargs: object) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        logs.correlation_id.reset(token)


# -- database connections kept across tasks (CELERY_DB_REUSE_MAX) ----------------------------------
@signals.task_prerun.connect
@signals.task_postrun.connect
def _check_database_connections(**kwargs: object) -> None:
    """Close connections that are broken or past CONN_MAX_AGE, as Django does around a request;
    healthy ones are kept for the next task (eager tasks run inside a caller's connection)."""
    task = kwargs.get("task")
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
