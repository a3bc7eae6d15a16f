"""Publishing webhook tasks without ever making the caller wait on a sick broker.

The webhook answer must not depend on the broker (docs/reliability.md#18-broker-down: p99 < 1 s
while Redis is down): the event is already committed and the sweeper re-enqueues anything left
waiting. With Celery's defaults a publish to a stopped Redis takes 2 s or more (connection retries
over ``broker_connection_timeout``), and to a stalled one it can block indefinitely. So these
publishes use their own connection, one per thread, with no connection retry, short socket
timeouts and no publish retry; any failure is logged and reported as ``False``, and publishing
pauses for a few seconds so that a hung broker costs one timeout, not one per request.

They are also cheap (issue 9). On Redis, the broker of every deployment, a publish is one LPUSH
of a message built by `webhooks.task_message` (Celery's task message, protocol 2, in kombu's Redis
envelope: what ``apply_async`` would push, tested equal), through the client kept with the
thread's connection: about 0.1 ms of CPU where ``apply_async`` took 0.6 ms and kombu's
``Producer`` 0.4 ms. The queue, its Redis key and the publish options are worked out once per
task and connection by Celery's own router and kombu's channel, and the queue is declared once.
On any other transport (the filesystem broker of the tests) the message is built by Celery's
``amqp.as_task_v2`` and published by a kept kombu ``Producer``. Either way ``apply_async``'s option
merging and publish signals are skipped; the one thing a signal added, the correlation id header
(paysvc/celery.py), is set here. With ``task_always_eager`` (some tests) ``apply_async`` is used.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.utils import uuid
from kombu import Connection, Producer, Queue
from kombu.transport import redis as kombu_redis

from paysvc import logs
from paysvc.celery import CORRELATION_HEADER, app
from webhooks import task_message

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
        if app.conf.task_always_eager:
            task.apply_async(args, retry=False, connection=_connection())
        else:
            _send(task, args)
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


def _send(task: Task, args: tuple[Any, ...]) -> None:
    """Publish ``task(*args)`` as ``apply_async(args, retry=False)`` would, without its overhead."""
    conn = _connection()
    route = _routes(task, conn)
    task_id = uuid()
    correlation = logs.correlation_id.get() or logs.new_correlation_id()
    if route.redis_key is not None:
        message = task_message.redis_task_message(
            task_name=task.name,
            args=args,
            task_id=task_id,
            ignore_result=task.ignore_result,
            extra_headers={CORRELATION_HEADER: correlation},
            exchange=route.options["exchange"],
            routing_key=route.options["routing_key"],
            delivery_mode=route.options["delivery_mode"],
        )
        conn.default_channel.client.lpush(route.redis_key, message)
        return
    producer = getattr(_local, "producer", None)
    if producer is None:
        producer = _local.producer = Producer(conn.default_channel)
    headers, properties, body, _sent_event = app.amqp.as_task_v2(
        task_id, task.name, args=args, kwargs={}, ignore_result=task.ignore_result
    )
    headers[CORRELATION_HEADER] = correlation
    producer.publish(body, headers=headers, retry=False, **route.options, **properties)


@dataclass(frozen=True)
class _Route:
    """How one task is published on one connection."""

    options: dict[str, Any]  # kombu ``Producer.publish`` keywords
    redis_key: str | None  # the list to LPUSH to, when a plain LPUSH is what kombu would do


# Task name -> its route; emptied whenever the thread makes a new connection.
_route_cache: dict[str, _Route] = {}


def _routes(task: Task, conn: Connection) -> _Route:
    """Where and how ``task`` is published, as Celery's ``send_task_message`` decides it (static
    configuration: worked out once per task and connection, since reading ``app.conf`` is
    slow)."""
    found = _route_cache.get(task.name)
    if found is None:
        queue = app.amqp.router.route(task._get_exec_options(), task.name, (), {})["queue"]
        exchange = queue.exchange
        if exchange.type == "direct":  # as Celery does: the anonymous exchange, by queue name
            exchange_name, routing_key = "", queue.name
        else:
            exchange_name, routing_key = exchange.name, queue.routing_key
        options = {
            "exchange": exchange_name,
            "routing_key": routing_key,
            "serializer": app.conf.task_serializer,
            "compression": app.conf.task_compression,
            "delivery_mode": exchange.delivery_mode or app.conf.task_default_delivery_mode,
            "declare": [queue],
        }
        found = _route_cache[task.name] = _Route(options, _redis_key(conn, queue, options))
    return found


def _redis_key(conn: Connection, queue: Queue, options: dict[str, Any]) -> str | None:
    """The Redis list kombu would LPUSH this task's messages to, after declaring ``queue``; None
    where kombu does more than one LPUSH (another transport, a serializer other than JSON,
    compression, an exchange that fans out, a queue with an expiry)."""
    channel = conn.default_channel
    if not isinstance(channel, kombu_redis.Channel):
        return None
    if options["serializer"] != "json" or options["compression"] or options["exchange"]:
        return None
    if queue.name in channel._expires or channel.global_keyprefix:
        return None
    queue(channel).declare()  # as ``declare=[queue]`` does on kombu's first publish
    # Priority 0 (Celery's default): the queue's own list (kombu's ``_q_for_pri``).
    return str(channel._q_for_pri(queue.name, 0))


def _keep_one_redis_client(conn: Connection) -> None:
    """kombu's Redis channel builds a ``redis.Redis`` for every publish; keep one instead
    (it is thread-safe and uses the channel's own pool, which handles forks)."""
    channel = conn.default_channel
    create = getattr(channel, "_create_client", None)
    if create is None:  # not Redis (the filesystem broker of the tests)
        return
    clients: dict[bool, Any] = {}

    def create_once(asynchronous: bool = False) -> Any:
        if asynchronous not in clients:
            clients[asynchronous] = create(asynchronous=asynchronous)
        return clients[asynchronous]

    channel._create_client = create_once


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
        _keep_one_redis_client(conn)
        _route_cache.clear()
        _local.conn = conn
        _local.owner = owner
        _local.producer = None
    return conn


def _drop_connection() -> None:
    conn = getattr(_local, "conn", None)
    _local.conn = None
    _local.producer = None
    if conn is not None:
        try:
            conn.release()
        except Exception:  # already broken; nothing to keep
            logger.debug("releasing a failed broker connection failed", exc_info=True)
