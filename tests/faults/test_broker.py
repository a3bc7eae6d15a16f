"""The broker fails: down while webhooks arrive (docs/reliability.md#18-broker-down), restarted
empty with tasks queued (docs/reliability.md#19-broker-data-loss), and publishing impossible after
the commit (docs/reliability.md#23-crash-before-publish).

A private redis-server is the broker (db 0) and the cache (db 1) of a live paysvc: gunicorn
(2 gthread workers), a prefork worker (concurrency 2) and beat running the sweeper every 2 s.
Overlap: tests/webhooks/test_broker_outage.py checks the same receiver in-process with 23
deliveries (stalled and stopped broker, one sweep); here it is the whole stack over HTTP with
hundreds of deliveries, a restart, and processing counted to the end.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.utils import timezone

from tests.faults.conftest import (
    SUCCESS,
    SWEEP_SECONDS,
    Sending,
    assert_exactly_once,
    deliveries_for,
    free_closed_port,
    make_orders,
    ms,
    outcome_counts,
    p99,
    report,
    wait_processed,
)
from tests.live import wait_until
from tests.soak import size
from tests.webhooks.factories import WEBHOOK_PATH
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services.sweeper import RECEIVED_GRACE

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

GRACE = RECEIVED_GRACE.total_seconds()


def test_broker_down_while_webhooks_arrive_loses_nothing_and_does_not_slow_the_answer(
    stack_env, processes, private_redis, signer
):
    """docs/reliability.md#18-broker-down, scaled: 300 webhooks at 50/s; Redis (broker and cache)
    crashes 1 s in, while the worker holds a task, stays down 5 s, then restarts empty. Every
    delivery is answered 200 SUCCESS and stored; p99 while it is down < 1 s; all 300 processed once,
    within the sweeper interval + 2 min of the restart. `make soak` (PAYSVC_SOAK=1): 5,000 webhooks
    at 85/s through a 60 s outage (the full size of docs/reliability.md#18-broker-down).

    Celery 5.7/kombu 5.7 (Redis transport) make the worker exit ("Unrecoverable error:
    AttributeError: 'NoneType' object has no attribute 'hostname'", from restoring its unacked
    message over the connection it just lost) when the broker goes away while it holds a task:
    production restarts it (docker-compose ``restart: unless-stopped``), and so does this test."""
    n, rate, down_at, down_for = size((300, 50.0, 1.0, 5.0), (5000, 85.0, 1.0, 60.0))
    orders = make_orders(n)
    ids = [o.pk for o in orders]
    deliveries = deliveries_for(orders, signer)
    env = stack_env()
    web = processes.web(env)
    worker = processes.worker(env)
    processes.beat(env)

    sending = Sending(web + WEBHOOK_PATH, deliveries, rate=rate).start()
    time.sleep(max(0.0, sending.t0 + down_at - time.monotonic()))
    # The worst moment: the worker has a task it has not acknowledged yet.
    holding = wait_until(lambda: private_redis.unacked() > 0, timeout=3, interval=0.002)
    private_redis.kill()
    down = time.monotonic()
    time.sleep(down_for)
    private_redis.start()
    up = time.monotonic()
    answers = sending.join()

    stored = WebhookEvent.objects.count()
    waiting_after_send = WebhookEvent.objects.filter(status=EventStatus.RECEIVED).count()
    drained = wait_processed(n, timeout=size(90, 300))
    drain_after_restart = round(time.monotonic() - up, 1) if drained is not None else None
    during = [a for a in answers if down <= a.started < up]
    counts = outcome_counts(ids)
    report(
        "broker down (#18)",
        {
            "webhooks": n,
            "rate_per_s": rate,
            "redis_down_s": round(up - down, 1),
            "answers": dict(_statuses(answers)),
            "stored": stored,
            "latency_all": ms([a.seconds for a in answers]),
            "latency_while_down": ms([a.seconds for a in during]),
            "waiting_when_sending_ended": waiting_after_send,
            "all_processed_s_after_restart": drain_after_restart,
            "worker_held_a_task_when_redis_died": holding,
            "worker_restarts": worker.restarts,
            **counts,
        },
    )
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * n, _statuses(answers)
    assert stored == n
    assert len(during) >= size(200, 4500)  # ~250 (full: ~4,900) sent while it was down
    assert p99([a.seconds for a in during]) < 1.0
    assert drained is not None, (counts, processes.tail())
    # docs/reliability.md#18-broker-down: the backlog drained within the sweeper interval + 2 min.
    assert drain_after_restart <= SWEEP_SECONDS + 120, drain_after_restart
    assert_exactly_once(ids, counts, processes.tail)


def test_a_hung_redis_does_not_hold_up_the_answer(stack_env, processes, private_redis, signer):
    """docs/reliability.md#18-broker-down with the other way Redis fails
    (docs/reliability.md#25-broker-flapping): it hangs (SIGSTOP: connections are accepted, nothing
    is answered) for 5 s while 300 webhooks arrive at 50/s. Redis is the broker and the cache (nonce
    store) as in production: each pays one socket timeout, then pauses. p99 while it hangs < 1 s;
    every delivery 200 and processed once (a publish that timed out may still have been queued, and
    the sweeper enqueues it again: the second run changes nothing)."""
    n, rate, hang_at, hang_for = 300, 50.0, 1.0, 5.0
    orders = make_orders(n)
    ids = [o.pk for o in orders]
    env = stack_env()
    web = processes.web(env)
    worker = processes.worker(env)
    processes.beat(env)

    sending = Sending(web + WEBHOOK_PATH, deliveries_for(orders, signer), rate=rate).start()
    time.sleep(max(0.0, sending.t0 + hang_at - time.monotonic()))
    private_redis.hang()
    hung = time.monotonic()
    time.sleep(hang_for)
    private_redis.resume()
    resumed = time.monotonic()
    answers = sending.join()

    drained = wait_processed(n, timeout=90)
    during = [a for a in answers if hung <= a.started < resumed]
    counts = outcome_counts(ids)
    report(
        "redis hung (#18/#25)",
        {
            "webhooks": n,
            "rate_per_s": rate,
            "redis_hung_s": round(resumed - hung, 1),
            "answers": _statuses(answers),
            "latency_all": ms([a.seconds for a in answers]),
            "latency_while_hung": ms([a.seconds for a in during]),
            "all_processed_s_after_resume": (
                round(time.monotonic() - resumed, 1) if drained is not None else None
            ),
            "worker_restarts": worker.restarts,
            **counts,
        },
    )
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * n, _statuses(answers)
    assert len(during) >= 200
    assert p99([a.seconds for a in during]) < 1.0
    # docs/reliability.md#25-broker-flapping: no webhook request > 2 s
    assert max(a.seconds for a in answers) < 2.0
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)


def test_redis_restarted_empty_with_tasks_queued_the_sweeper_re_enqueues_them(
    stack_env, processes, private_redis, signer
):
    """docs/reliability.md#19-broker-data-loss, scaled: 200 tasks queued while no worker runs;
    FLUSHALL; then a worker and beat start: the sweeper enqueues all 200 again within 2 of its
    intervals once they are due, and all are processed once."""
    n = 200
    orders = make_orders(n)
    ids = [o.pk for o in orders]
    env = stack_env()
    web = processes.web(env)

    answers = Sending(web + WEBHOOK_PATH, deliveries_for(orders, signer), rate=100.0).start().join()
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * n
    queued_before = private_redis.queued()
    private_redis.client().flushall()  # the data loss: as a restart without persistence
    queued_after = private_redis.queued()
    newest = WebhookEvent.objects.order_by("-received_at").first().received_at
    due_at = newest + RECEIVED_GRACE  # the sweeper leaves younger events alone

    processes.worker(env)
    processes.beat(env)
    beat_ready = timezone.now()
    unswept = WebhookEvent.objects.filter(status=EventStatus.RECEIVED, next_attempt_at=None)
    swept = wait_until(lambda: not unswept.exists(), timeout=60, interval=0.05)
    swept_at = timezone.now()
    connection.close()
    drained = wait_processed(n, timeout=60)
    sweep_delay = (swept_at - max(due_at, beat_ready)).total_seconds()
    counts = outcome_counts(ids)
    report(
        "redis restarted empty (#19)",
        {
            "tasks_queued_before_flush": queued_before,
            "tasks_queued_after_flush": queued_after,
            "sweeper_interval_s": SWEEP_SECONDS,
            "all_re_enqueued_s_after_due": round(sweep_delay, 2),
            "all_processed_s_after_re_enqueued": drained,
            **counts,
        },
    )
    assert queued_before == n and queued_after == 0
    assert swept, processes.tail()
    assert sweep_delay <= 2 * SWEEP_SECONDS + 1.0  # + beat/worker scheduling slack
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)


def test_events_committed_but_never_published_are_processed_by_the_sweeper(
    stack_env, processes, private_redis, signer
):
    """docs/reliability.md#23-crash-before-publish: the web process cannot publish at all (its
    broker is a closed port), as if it died between the commit and the on_commit publish. Every
    event is stored (200 SUCCESS) and none is processed before the sweeper's grace; the sweeper gets
    each one processed within 2 of its intervals after that."""
    n = 100
    orders = make_orders(n)
    ids = [o.pk for o in orders]
    env = stack_env()
    web = processes.web(stack_env(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_closed_port()}/0"))
    processes.worker(env)
    processes.beat(env)

    answers = Sending(web + WEBHOOK_PATH, deliveries_for(orders, signer), rate=50.0).start().join()
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * n
    drained = wait_processed(n, timeout=60)
    lags = [
        (processed - received).total_seconds()
        for received, processed in WebhookEvent.objects.values_list("received_at", "processed_at")
        if processed is not None
    ]
    counts = outcome_counts(ids)
    report(
        "commit without publish (#23)",
        {
            "webhooks": n,
            "answer_latency": ms([a.seconds for a in answers]),
            "sweeper_grace_s": GRACE,
            "sweeper_interval_s": SWEEP_SECONDS,
            "received_to_processed_s": {
                "min": round(min(lags), 2) if lags else None,
                "max": round(max(lags), 2) if lags else None,
            },
            **counts,
        },
    )
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)
    # Nothing reached the worker but through the sweeper...
    assert min(lags) >= GRACE
    # ...which took each event at most 2 intervals after it became due (+ processing slack).
    assert max(lags) <= GRACE + 2 * SWEEP_SECONDS + 2.0


def _statuses(answers) -> dict[str, int]:
    out: dict[str, int] = {}
    for answer in answers:
        key = f"{answer.status}{'' if answer.body in (SUCCESS, b'') else ' (other body)'}"
        out[key] = out.get(key, 0) + 1
    return out
