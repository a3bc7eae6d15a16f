"""The Celery application shared by the worker, beat and the web process (which only publishes)."""

import os
import time
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
# Django checks a kept connection once per request (CONN_HEALTH_CHECKS: a SELECT 1 before the
# first query). Per task that cost ~10 % of a payment's CPU under load, when tasks run back to
# back on a connection that just worked. So a task after an idle spell (longer than this) gets
# Django's per-request treatment, broken or obsolete connections replaced and the kept one
# checked; a task right after another reuses it as is, and a connection a task saw fail is
# closed after that task (its errors_occurred flag), so the next task starts on a new one.
IDLE_CHECK_SECONDS = 1.0
_last_task_end = [0.0]


@signals.task_prerun.connect
def _check_database_connections(**kwargs: object) -> None:
    """Before a task after an idle spell: close_old_connections, as Django does per request."""
    if _is_eager(kwargs) or time.monotonic() - _last_task_end[0] <= IDLE_CHECK_SECONDS:
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.task_postrun.connect
def _close_failed_connections(**kwargs: object) -> None:
    """After a task: close a connection that raised a database error (if it is unusable)."""
    if _is_eager(kwargs):
        return
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.errors_occurred:
            connection.close_if_unusable_or_obsolete()
    _last_task_end[0] = time.monotonic()


def _is_eager(kwargs: dict[str, object]) -> bool:
    """Eager tasks run inside a caller's connection and transaction: leave it alone."""
    return bool(getattr(getattr(kwargs.get("task"), "request", None), "is_eager", False))
