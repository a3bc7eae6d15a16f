"""Celery workers killed mid-task (docs/reliability.md#21-worker-killed-mid-task,
docs/reliability.md#22-worker-container-killed).

A real prefork worker (concurrency 2; acks_late, reject_on_worker_lost and prefetch 1 come from
the settings) works through a backlog of webhook events (600, resp. 300) on a private Redis; the
test SIGKILLs a pool child, or the whole worker (main process and pool at once, as a container
kill). The visibility timeout stays at its production value (3600 s), so Redis itself gives
nothing back during the test: which mechanism recovered what is part of each test.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from django.db import connection
from kombu import Connection

from orders.models import OrderEvent
from tests.faults.conftest import (
    SUCCESS,
    Proc,
    Sending,
    assert_exactly_once,
    deliveries_for,
    make_orders,
    outcome_counts,
    processed_count,
    report,
    wait_processed,
)
from tests.live import wait_until
from tests.soak import SOAK, size
from tests.webhooks.factories import WEBHOOK_PATH
from webhooks.models import WAITING_STATUSES, WebhookEvent

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

N = 300
RATE = 300.0  # faster than the worker: a backlog builds, both pool processes stay busy
# #21: the worker applies payments in batches and keeps up with any rate here, so its pool is
# busy only while deliveries arrive: send them slower (600 take 4 s) and kill often meanwhile.
KILL_RATE = 150.0


def test_a_pool_process_killed_mid_task_is_redelivered_at_once_and_applied_once(
    stack_env, processes, private_redis, signer
):
    """docs/reliability.md#21-worker-killed-mid-task: SIGKILL pool processes while they work (until
    one dies with a task in hand; under `make soak`, 1,000 events and kills at random moments until
    the backlog is nearly done). No sweeper runs here, and Redis would redeliver only after 3600 s:
    everything is recovered by reject_on_worker_lost (the task is requeued when its process is
    lost).

    A payment is claimed, applied and recorded in one transaction (webhooks/services/
    processing.py), so a process killed inside it leaves nothing committed: the event is still
    ``received`` with its attempt rolled back, and the requeued task applies it as if for the
    first time. The worker's main process reports each task lost with its process
    (WorkerLostError), which is how the test knows a kill landed mid-task."""
    n = size(2 * N, 1000)  # a longer backlog: room for several kills (full size: 1,000)
    orders = make_orders(n)
    ids = [o.pk for o in orders]
    env = stack_env()
    web = processes.web(env)
    worker = processes.worker(env)

    deliveries = deliveries_for(orders, signer)
    sending = Sending(web + WEBHOOK_PATH, deliveries, rate=KILL_RATE).start()
    assert wait_until(lambda: processed_count() >= n // 10, timeout=60), processes.tail()
    killed: list[int] = []
    pause = 0.25
    # The suite stops at the first kill that lands mid-task; `make soak` goes on killing at
    # random moments through the whole backlog.
    while (
        (SOAK or not _tasks_lost(worker))
        and len(killed) < size(15, 60)
        and processed_count() < n - 50
    ):
        children = _pool_processes(worker)
        assert children, processes.tail()
        victim = random.choice(children)
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        pause = random.uniform(0.3, 1.5) if SOAK else 0.25
        time.sleep(pause)  # the main process notices the lost child and logs its task
    caught_mid_task = _tasks_lost(worker) >= 1
    last_kill = time.monotonic() - pause
    killed_at_processed = processed_count()
    answers = sending.join()
    connection.close()
    drained = wait_processed(n, timeout=90)
    # Every event can be final while a task of one is still to run (a batch applied its event):
    # the broker is checked once those tasks have run, or could not (lost until the timeout).
    settled = wait_until(
        lambda: private_redis.queued() == 0 and private_redis.unacked() == 0, timeout=30
    )
    drained_s = round(time.monotonic() - last_kill, 1) if drained is not None else None
    counts = outcome_counts(ids)
    report(
        "pool process killed (#21)",
        {
            "events": n,
            "pool_processes_killed": len(killed),
            "processed_when_the_last_kill_happened": killed_at_processed,
            "tasks_reported_lost_by_the_worker": _tasks_lost(worker),
            "all_processed_s_after_the_last_kill": drained_s,
            "waiting": WebhookEvent.objects.filter(status__in=WAITING_STATUSES).count(),
            "redis_unacked_after": private_redis.unacked(),
            **counts,
        },
    )
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * n
    assert caught_mid_task, "no pool process was killed with a task in hand"
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)
    assert settled and private_redis.unacked() == 0  # nothing left for the visibility timeout


def _tasks_lost(worker: Proc) -> int:
    """Tasks the worker reported lost with their pool process (each is requeued)."""
    return worker.log().count("Task handler raised error: WorkerLostError")


def test_the_whole_worker_killed_mid_task_is_recovered_by_the_sweeper_and_applied_once(
    stack_env, processes, private_redis, signer
):
    """docs/reliability.md#22-worker-container-killed: SIGKILL the worker's whole process group
    while it works; start a new worker. The queued tasks are the new worker's; those the dead one
    held stay in Redis's ``unacked`` (visibility timeout 3600 s), or are lost outright if it died
    between BRPOP and recording them, and their events wait until beat's sweeper enqueues them
    again. Then the old messages are handed back as the visibility timeout would do an hour later:
    they change nothing."""
    orders = make_orders(N)
    ids = [o.pk for o in orders]
    env = stack_env()
    web = processes.web(env)
    first = processes.worker(env)

    answers = Sending(web + WEBHOOK_PATH, deliveries_for(orders, signer), rate=RATE).start().join()
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * N
    assert wait_until(lambda: processed_count() >= N // 3, timeout=60), processes.tail()
    first.kill_group(signal.SIGKILL)
    processed_at_kill = processed_count()
    held_by_dead_worker = private_redis.unacked()
    queued_at_kill = private_redis.queued()

    processes.worker(env)  # the replacement, without a sweeper yet
    settled = wait_until(
        lambda: private_redis.queued() == 0 and private_redis.unacked() == held_by_dead_worker,
        timeout=60,
    )
    time.sleep(1.0)
    stuck = WebhookEvent.objects.filter(status__in=WAITING_STATUSES).count()

    beat_started = time.monotonic()
    processes.beat(env)
    drained = wait_processed(N, timeout=60)
    recovered_s = round(time.monotonic() - beat_started, 1)
    counts = outcome_counts(ids)
    transitions = OrderEvent.objects.filter(kind="status_change").count()
    attempts = sum(WebhookEvent.objects.values_list("attempts", flat=True))

    # The visibility timeout expires (here: now) and Redis redelivers what the dead worker held.
    with Connection(private_redis.url(0), transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(start=0, num=1000)
    redelivered = wait_until(
        lambda: private_redis.queued() == 0 and private_redis.unacked() == 0, timeout=30
    )
    time.sleep(1.0)
    counts_after = outcome_counts(ids)
    report(
        "whole worker killed (#22)",
        {
            "events": N,
            "processed_when_killed": processed_at_kill,
            "queued_when_killed": queued_at_kill,
            "held_unacked_by_dead_worker": held_by_dead_worker,
            "waiting_after_new_worker_drained_the_queue": stuck,
            "all_processed_s_after_beat_started": recovered_s,
            "old_messages_redelivered": redelivered,
            "claims_before_redelivery": attempts,
            "claims_after_redelivery": sum(WebhookEvent.objects.values_list("attempts", flat=True)),
            **counts_after,
        },
    )
    assert settled, processes.tail()
    assert held_by_dead_worker >= 1  # it died holding tasks (prefetch 1 x 2 processes)
    # Only what the dead worker had taken waits for the sweeper: the messages in ``unacked``,
    # plus at most one whose BRPOP had already removed it from the queue but which kombu had not
    # yet recorded in ``unacked`` (not atomic: such a message is gone from Redis for good).
    # None may wait: a process killed after its commit but before its ack left only a message
    # whose work is done (the redelivery below then proves it changes nothing).
    assert stuck <= held_by_dead_worker + 1
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)
    assert redelivered, processes.tail()
    assert counts_after == counts
    assert OrderEvent.objects.filter(kind="status_change").count() == transitions
    # Final events are skipped before being claimed: the old messages claimed nothing.
    assert sum(WebhookEvent.objects.values_list("attempts", flat=True)) == attempts


def _pool_processes(worker, timeout: float = 30.0) -> list[int]:
    """The worker's pool processes, waiting for one if there is none: the main process replaces
    a killed one, and under load that can take longer than the pause between kills."""
    deadline = time.monotonic() + timeout
    while not (children := worker.children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return children
