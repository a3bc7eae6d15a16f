"""Publishing webhook tasks without ever making the caller wait on a sick broker.

The webhook answer must not depend on the broker (docs/reliability.md#18-broker-down: p99 < 1 s
while Redis is down): the event is already committed and the sweeper re-enqueues anything left
waiting. With Celery's defaults a publish to a stopped Redis takes 2 s or more (connection retries
over ``broker_connection_timeout``), and to a stalled one it can block indefinitely. So these
publishes use their own connection, one per thread, with no connection retry, short socket
timeouts and no publish retry; any failure is logged and reported as ``False``, and publishing
pauses for a few seconds so that a hung broker costs one timeout, not one per request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import Task
from kombu import Connection

from paysvc.celery import app

logger = logging.getLogger(__name__)

# Redis answers in well under a millisecond; these only bound the damage when it does not.
FAIL_FAST_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": 0.3,
    "socket_timeout": 0.3,
}

# After a failed publish, stop trying for this long (the sweeper catches up).
PAUSE_AFTER_FAILURE_SECONDS = 5.0

_local = threading.local()
_paused_until = 0.0


def publish_fail_fast(task: Task, *args: Any) -> bool:
    """Send ``task(*args)`` once. ``True`` if the broker took it, ``False`` (logged) if not.

    After a failure this process does not try again for ``PAUSE_AFTER_FAILURE_SECONDS``: while
    the broker hangs, each try would cost a socket timeout.
    """
    global _paused_until
    if time.monotonic() < _paused_until:
        return False
    try:
        task.apply_async(args, retry=False, connection=_connection())
    except Exception as exc:
        _drop_connection()
        _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
        logger.warning(
            "could not publish %s%s (%s: %s); the sweeper will pick it up",
            task.name,
            args,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def _connection() -> Connection:
    conn = getattr(_local, "conn", None)
    # A connection made before a fork (gunicorn --preload, Celery prefork) is not ours to reuse,
    # nor one to a broker the configuration no longer names.
    owner = (os.getpid(), app.conf.broker_write_url or app.conf.broker_url)
    previous = getattr(_local, "owner", None)
    if conn is None or previous != owner:
        # Close ours; a copy inherited through fork is only forgotten (its socket is the parent's).
        if conn is not None and previous is not None and previous[0] == owner[0]:
            _drop_connection()
        conn = app.connection_for_write(transport_options=FAIL_FAST_TRANSPORT_OPTIONS)
        _local.conn = conn
        _local.owner = owner
    return conn


def _drop_connection() -> None:
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        try:
            conn.release()
        except Exception:  # already broken; nothing to keep
            logger.debug("releasing a failed broker connection failed", exc_info=True)
