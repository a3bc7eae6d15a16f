"""Rolling restart of web and workers under load (docs/reliability.md#26-rolling-restart).

Webhooks arrive at 100/s the whole time, at one URL as Binance sends them, while every web and
worker process is replaced one at a time, each stopped with SIGTERM (what ``docker stop``,
Kubernetes and systemd send) and left to shut down gracefully.

How the deploy is done, and why:

* **Web**: two gunicorn instances (2 gthread workers x 8 threads each) listen on the webhook port
  together (``--reuse-port``: SO_REUSEPORT, the kernel spreads new connections among them), each
  also on a port of its own for its health check. An instance is replaced as a rolling update
  with a surge of one does it (Kubernetes' default): the new one is started on the same port and
  must answer /healthz before the old one gets SIGTERM; gunicorn's graceful shutdown then closes
  the old listener, finishes the requests it holds (graceful timeout 5 s) and exits. Binance
  keeps posting to the one address throughout, as it does to a load balancer. (docker-compose
  puts nginx in front instead, and more web containers are more ``server`` lines in its
  upstream: nginx then fails over for connections a stopping instance refuses, and answers 502
  for a POST it had already passed on, which it never resends. The classes of answer are the
  same as here: 200 only after the commit, else an error Binance retries.)
* What a stopping gunicorn can do to a delivery: a connection still waiting in the old
  listener's backlog when it closes is reset (Linux does not hand it to another socket of the
  group), and a kept-alive connection the old worker closes as it stops may meet the next
  request (``RemoteDisconnected``). Neither is answered 200. Binance re-sends a delivery that is
  not answered SUCCESS: the test re-sends those the same way (signed again, with a new nonce and
  timestamp), up to 6 times each.
* **Workers**: two prefork workers (concurrency 2). Each in turn: a replacement is started and
  ready, then the old one gets SIGTERM: Celery's warm shutdown stops consuming, lets the tasks it
  runs finish (acks_late: acknowledged after the commit), and any message it had taken without
  starting it goes back to the queue when it closes its connection (kombu restores its unacked
  messages). Beat stays up:
  there is one, and replacing it is a stop and a start, not a rolling restart.

Asserted: every first answer is 200 ``SUCCESS``, a 5xx or no answer at all (never a 4xx, never a
200 with another body); every delivery answered 200 had its event stored by then (no 200 without
a commit); every re-sent one is accepted; each old process exits by itself after SIGTERM with
status 0 (no SIGKILL needed, no task lost with a process, no worker crash); then every event is
processed, each order paid exactly once, and Redis holds nothing queued or unacknowledged.

The web and the worker services roll at the same time, as two deployments would, each one
process at a time. The load goes on until every restart is done (+1 s): at 100/s that is ~2,000
webhooks in the suite (each of the 4 processes replaced once), and ~15,000-20,000 under `make
soak` (PAYSVC_SOAK=1: each replaced 5 times, 8 s apart; 20 restarts).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.faults.conftest import (
    SUCCESS,
    Proc,
    Sending,
    assert_exactly_once,
    deliveries_for,
    make_orders,
    ms,
    outcome_counts,
    report,
    wait_processed,
)
from tests.live import free_port, wait_until
from tests.soak import size
from tests.webhooks.factories import WEBHOOK_PATH
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

RATE = 100.0  # webhooks per second (docs/reliability.md#26-rolling-restart)
ROUNDS = size(1, 5)  # each web and worker process is replaced this many times
PAUSE = size(0.5, 8.0)  # seconds between two restarts of one service
WEB_INSTANCES = 2
WORKERS = 2
TAIL = 1.0  # seconds of load after the last restart
MAX_SECONDS = size(50.0, 360.0)  # deliveries prepared (at RATE): more than the restarts take
# (one warm worker shutdown took 32 s in CI, 2026-12-03; the restarts took 43.6 s in all)
RESENDS = 6  # Binance re-sends a failed delivery at most 6 times


def test_a_rolling_restart_of_web_and_workers_under_load_loses_nothing_and_applies_once(
    stack_env, processes, private_redis, signer
):
    orders = make_orders(int(RATE * MAX_SECONDS))
    deliveries = deliveries_for(orders, signer)
    env = stack_env()
    port = free_port()
    with ThreadPoolExecutor(max_workers=WEB_INSTANCES + WORKERS + 1) as pool:  # start together
        web_starts = [
            pool.submit(
                processes.web_process, env, port=port, reuse_port=True, own_port=free_port()
            )
            for _ in range(WEB_INSTANCES)
        ]
        worker_starts = [pool.submit(processes.worker, env) for _ in range(WORKERS)]
        pool.submit(processes.beat, env).result()
        webs: list[Proc] = [f.result() for f in web_starts]
        workers: list[Proc] = [f.result() for f in worker_starts]
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    restarts: list[dict[str, object]] = []
    failures: list[BaseException] = []

    def roll(kind: str, fleet: list[Proc], replace: Callable[[], Proc]) -> None:
        """One service's rolling restart: each process in turn, a new one ready first."""
        try:
            for _ in range(ROUNDS):
                for i, old in enumerate(list(fleet)):
                    time.sleep(PAUSE)
                    began = time.monotonic()
                    fleet[i] = replace()
                    ready = time.monotonic()
                    code, exit_s = old.terminate(timeout=60)
                    restarts.append(
                        {
                            "what": f"{kind}{i}",
                            "at_s": round(began - sending.t0, 1),
                            "new_ready_s": round(ready - began, 2),
                            "old_exit_s": exit_s,
                            "old_exit_code": code,
                            "stopping": (ready - sending.t0, time.monotonic() - sending.t0),
                        }
                    )
        except BaseException as exc:
            failures.append(exc)

    sending = Sending(url, deliveries, rate=RATE).start()
    rolls = [
        threading.Thread(
            target=roll,
            args=(
                "web",
                webs,
                lambda: processes.web_process(
                    env, port=port, reuse_port=True, own_port=free_port()
                ),
            ),
        ),
        threading.Thread(target=roll, args=("worker", workers, lambda: processes.worker(env))),
    ]
    for thread in rolls:
        thread.start()
    for thread in rolls:
        thread.join()
    rolled_s = time.monotonic() - sending.t0
    time.sleep(TAIL)
    answers = sending.stop()
    assert not failures, failures
    n = len(answers)
    ids = [orders[a.index].pk for a in answers]
    last_sent = max(a.started for a in answers) - sending.t0

    # No 200 without a commit: every delivery answered 200 has its event, before any re-send.
    stored = set(WebhookEvent.objects.values_list("merchant_trade_no", flat=True))
    accepted = [a for a in answers if (a.status, a.body) == (200, SUCCESS)]
    accepted_not_stored = [
        a.index for a in accepted if orders[a.index].merchant_trade_no not in stored
    ]
    refused = [a for a in answers if (a.status, a.body) != (200, SUCCESS)]
    retriable = [a for a in refused if a.status is None or a.status >= 500]
    resends = [_resend(url, deliveries[a.index][0], signer) for a in refused]
    connection.close()

    drained_after = time.monotonic()
    drained = wait_processed(n, timeout=size(60, 300))
    drain_s = round(time.monotonic() - drained_after, 1) if drained is not None else None
    settled = wait_until(
        lambda: private_redis.queued() == 0 and private_redis.unacked() == 0, timeout=30
    )
    counts = outcome_counts(ids)
    windows = [r.pop("stopping") for r in restarts]
    during_stops = [
        a for a in answers if any(lo <= a.started - sending.t0 < hi for lo, hi in windows)
    ]
    worker_logs = [p.log() for p in processes.started if p.name == "worker"]
    lost_with_a_process = sum(log.count("WorkerLostError") for log in worker_logs)
    crashes = sum(p.restarts for p in processes.started if p.name == "worker")

    def slowest(kind: str, key: str) -> float | None:
        return max(
            (float(r[key]) for r in restarts if str(r["what"]).startswith(kind)), default=None
        )

    report(
        "rolling restart (#26)",
        {
            "webhooks": n,
            "rate_per_s": RATE,
            "sent_in_s": round(last_sent, 1),
            "all_restarted_s_after_start": round(rolled_s, 1),
            "web_instances": WEB_INSTANCES,
            "workers": WORKERS,
            "restarts": dict(Counter(str(r["what"]).rstrip("0123456789") for r in restarts)),
            "first_answers": dict(Counter(_label(a) for a in answers)),
            "answered_200_without_stored_event": len(accepted_not_stored),
            "re_sent": len(refused),
            "re_send_attempts_until_accepted": dict(Counter(attempts for attempts, _ in resends)),
            "latency_all": ms([a.seconds for a in answers]),
            "latency_while_an_old_process_stopped": ms([a.seconds for a in during_stops]),
            "new_ready_s_max": {
                "web": slowest("web", "new_ready_s"),
                "worker": slowest("worker", "new_ready_s"),
            },
            "old_exit_s_max": {
                "web": slowest("web", "old_exit_s"),
                "worker": slowest("worker", "old_exit_s"),
            },
            "old_exit_codes": dict(Counter(str(r["old_exit_code"]) for r in restarts)),
            "tasks_lost_with_a_process": lost_with_a_process,
            "worker_crashes": crashes,
            "all_processed_s_after_sending": drain_s,
            "redis_queued_after": private_redis.queued(),
            "redis_unacked_after": private_redis.unacked(),
            **counts,
        },
    )
    assert len(restarts) == ROUNDS * (WEB_INSTANCES + WORKERS)
    assert n < len(deliveries), "the restarts outlasted the prepared load"
    # Under load: sending went on until after the last old process was gone.
    assert max(hi for _, hi in windows) < last_sent, (restarts, last_sent)
    assert all(r["old_exit_code"] == 0 for r in restarts), (restarts, processes.tail())
    assert accepted_not_stored == []
    assert refused == retriable, Counter(_label(a) for a in refused)
    assert all(ok for _, ok in resends), resends
    assert lost_with_a_process == 0, processes.tail()
    assert crashes == 0, processes.tail()
    assert drained is not None, (counts, processes.tail())
    assert_exactly_once(ids, counts, processes.tail)
    assert settled, (private_redis.queued(), private_redis.unacked())


def _label(answer) -> str:
    if answer.status is None:
        return "no answer"
    return f"{answer.status}{'' if answer.body == SUCCESS else ' (other body)'}"


def _resend(url: str, body: bytes, signer) -> tuple[int, bool]:
    """As Binance re-sends a delivery it did not see acknowledged: signed again (new nonce and
    timestamp), at most RESENDS times. (attempts, accepted)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    for attempt in range(1, RESENDS + 1):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request(
                "POST",
                parts.path,
                body=body,
                headers={"Content-Type": "application/json; charset=utf-8", **signer.headers(body)},
            )
            response = conn.getresponse()
            if (response.status, response.read()) == (200, SUCCESS):
                return attempt, True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.5)
    return RESENDS, False
