"""Scale-out: two web processes, two workers and TWO beats on one PostgreSQL and one Redis
(docs/architecture.md#scale-out, docs/reliability.md#scale-out).

Two gunicorn masters (each with two gthread workers, on their own ports), two prefork Celery
workers (concurrency 2 each) and two ``celery beat`` processes share the test database and a
private Redis (broker db 0, cache db 1). Beat runs the whole production schedule at short
intervals (``tests.faults.settings_scale``): every periodic task is sent twice per period, once by
each beat, and the two runs race. paysvc's choice is that beat is *safe to run twice*: every
periodic task claims its rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease, or is an
idempotent upsert/delete, so a second beat only adds empty claims. This test is the proof.

The load, at the same time:

* ``N`` PAY_SUCCESS payments, each delivered three times: the same signed delivery (same nonce)
  to both web processes at the same instant, and a Binance-style retry (new nonce and
  timestamp) a few slots later, to one web process or the other in turn;
* the order-status poller racing the webhooks for every one of those orders: each becomes due
  for reconciliation around the time its webhook is sent, and the Binance stub's Query Order
  already says PAID (whichever writer comes first pays it, the other is a no-op);
* ``UNPAID`` orders past their expiry that Binance still reports INITIAL: reconciliation must
  query each once and expire it once;
* ``LOST`` merchant notifications whose publish was lost (``dispatched_at`` empty, as after a crash
  between commit and publish): only ``notifications.dispatch_due``, sent by both beats, sends
  them; the merchant's receiver must get each event exactly once;
* old merchant events and old Idempotency-Key answers for the two prune tasks (run by both beats
  at once), next to fresh ones that must stay.

``PAYSVC_SCALE_PAYMENTS`` changes ``N`` (default 300).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from clients.models import ClientApplication
from notifications.models import Event, Notification, NotificationAttempt, NotificationStatus
from notifications.payloads import new_delivery_id, new_event_id
from orders.models import IdempotencyRecord, Order, OrderEvent
from paysvc.models import Heartbeat
from tests.faults.conftest import (
    SUCCESS,
    Proc,
    Sending,
    assert_exactly_once,
    make_orders,
    outcome_counts,
    paysvc_env,
    processed_count,
    report,
)
from tests.live import test_database_url as live_database_url
from tests.live import wait_until
from tests.webhooks.factories import WEBHOOK_PATH, Signer, pay_body
from webhooks.models import WAITING_STATUSES, WebhookEvent

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

N = 2 * (int(os.environ.get("PAYSVC_SCALE_PAYMENTS", "300")) // 2)  # paid orders, 3 copies each
UNPAID = 60  # open at Binance, past expiry: reconciliation expires them
LOST = 60  # merchant notifications whose publish was lost: dispatch_due sends them
OLD = 30  # old events and old Idempotency-Key answers for the prune tasks (and as many fresh)
RATE = 150.0  # deliveries per second to EACH web process
RETRY_LAG = 8  # a retry follows its first delivery by this many pairs of orders
SETTINGS = "tests.faults.settings_scale"
BEAT_SECONDS = 1.0  # tests.faults.settings_scale's default period
PERIODIC = (
    "paysvc.heartbeat",
    "webhooks.sweep",
    "orders.reconcile_due",
    "notifications.dispatch_due",
    "notifications.prune_events",
    "orders.prune_idempotency_keys",
)


# -- Binance (certificates and Query Order) and the merchant's receiver ---------------------------


class _Stub:
    """A threaded HTTP server on a spare loopback port; ``handle(path, body, headers)`` answers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = stub.handle(self.path, body, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, path: str, body: bytes, headers: Any) -> tuple[int, bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BinanceStub(_Stub):
    """Query Certificates (the signer's key) and Query Order v2 from ``orders`` (prepayId ->
    data), counting the queries of each order."""

    def __init__(self, signer: Signer) -> None:
        self.certificates = json.dumps(
            {
                "status": "SUCCESS",
                "code": "000000",
                "data": [{"certSerial": signer.serial, "certPublic": signer.pem}],
                "errorMessage": "",
            }
        ).encode()
        self.orders: dict[str, dict[str, Any]] = {}
        self.queries: Counter[str] = Counter()
        super().__init__()

    def handle(self, path: str, body: bytes, headers: Any) -> tuple[int, bytes]:
        if path == "/binancepay/openapi/certificates":
            return 200, self.certificates
        if path == "/binancepay/openapi/v2/order/query":
            prepay_id = str(json.loads(body).get("prepayId"))
            with self.lock:
                self.queries[prepay_id] += 1
            data = self.orders.get(prepay_id)
            if data is not None:
                envelope = {"status": "SUCCESS", "code": "000000", "data": data}
                return 200, json.dumps(envelope).encode()
            return 400, b'{"status":"FAIL","code":"400202","errorMessage":"Order not found."}'
        return 404, b'{"status":"FAIL","code":"404","errorMessage":"stub"}'

    def add(self, order: Order, status: str) -> None:
        created = int(order.created_at.timestamp() * 1000)
        self.orders[order.prepay_id] = {
            "merchantId": 98765,
            "prepayId": order.prepay_id,
            "transactionId": f"M_P_{order.prepay_id}" if status == "PAID" else None,
            "merchantTradeNo": order.merchant_trade_no,
            "status": status,
            "currency": order.currency,
            "orderAmount": f"{order.order_amount:.8f}",
            "openUserId": "f36fae12c2b40cdbc9ee6ed5402638e0" if status == "PAID" else None,
            "passThroughInfo": None,
            "commission": "0" if status == "PAID" else None,
            "transactTime": created + 1000 if status == "PAID" else None,
            "createTime": created,
        }


class Receiver(_Stub):
    """The merchant's notification URL: answers 200 and counts each event id it receives."""

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        super().__init__()

    def handle(self, path: str, body: bytes, headers: Any) -> tuple[int, bytes]:
        with self.lock:
            self.events[headers.get("Paysvc-Event-Id", "")] += 1
        return 200, b'{"ok":true}'

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.events)


@pytest.fixture
def binance(signer: Signer) -> Iterator[BinanceStub]:
    stub = BinanceStub(signer)
    try:
        yield stub
    finally:
        stub.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    stub = Receiver()
    try:
        yield stub
    finally:
        stub.close()


# -- the tests ------------------------------------------------------------------------------------


def test_two_webs_two_workers_and_two_beats_keep_every_effect_exactly_once(
    private_redis, processes, signer, binance, receiver
):
    started = time.monotonic()
    orders = make_orders(N + UNPAID)
    application = orders[0].application
    paid, unpaid = orders[:N], orders[N:]
    paid_ids, unpaid_ids = [o.pk for o in paid], [o.pk for o in unpaid]
    # Every event of these orders goes to the receiver (the application's default URL; set
    # directly: the test process's own settings refuse a loopback URL). Nothing is due for
    # reconciliation until the load starts; the unpaid orders expired an hour ago.
    ClientApplication.objects.filter(pk=application.pk).update(
        default_notify_url=receiver.url + "/paysvc"
    )
    now = timezone.now()
    Order.objects.filter(pk__in=paid_ids + unpaid_ids).update(
        next_reconcile_at=now + dt.timedelta(hours=1)
    )
    Order.objects.filter(pk__in=unpaid_ids).update(expire_time=now - dt.timedelta(hours=1))
    for order in Order.objects.filter(pk__in=paid_ids + unpaid_ids):
        binance.add(order, "PAID" if order.pk in set(paid_ids) else "INITIAL")

    env = paysvc_env(
        database_url=live_database_url(),
        broker_url=private_redis.url(0),
        cache_url=private_redis.url(1),
        binance_url=binance.url,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        PAYSVC_ALLOW_PRIVATE_URLS="true",  # the receiver is on 127.0.0.1
        PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS="0",
    )
    # One web process, one worker and one beat start at once (each kind's names and ports stay
    # its own), then the second of each.
    webs: list[str] = []
    workers: list[Proc] = []
    beats: list[Proc] = []
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=3) as pool:
            web = pool.submit(processes.web, env, workers=2, threads=4)
            worker = pool.submit(processes.worker, env, concurrency=2)
            beat = pool.submit(processes.beat, env)
            webs.append(web.result())
            workers.append(worker.result())
            beats.append(beat.result())
    startup_s = round(time.monotonic() - started, 1)

    # Deliveries. Both web processes get the same list shape: at every slot the same delivery
    # (same bytes, same nonce) arrives at both at once; every third slot each carries the
    # Binance-style retry (new nonce and timestamp) of an earlier order, odd orders to the
    # first web process, even ones to the second.
    bodies = [pay_body(o) for o in paid]
    first = [(body, signer.headers(body)) for body in bodies]
    retries = [(body, signer.headers(body)) for body in bodies]
    to_a: list[tuple[bytes, dict[str, str]]] = []
    to_b: list[tuple[bytes, dict[str, str]]] = []
    pairs = N // 2
    for m in range(pairs + RETRY_LAG):
        if m < pairs:
            to_a += [first[2 * m], first[2 * m + 1]]
            to_b += [first[2 * m], first[2 * m + 1]]
        if (j := m - RETRY_LAG) >= 0:
            to_a.append(retries[2 * j + 1])
            to_b.append(retries[2 * j])
    sent = len(to_a) + len(to_b)
    load_s = len(to_a) / RATE

    # The poller races the webhooks: each paid order becomes due about when its first delivery
    # is sent; the unpaid ones and the lost notifications come due across the same window.
    t0 = timezone.now()
    due = []
    for k, order in enumerate(Order.objects.filter(pk__in=paid_ids).order_by("pk")):
        # Half a beat period early: the claim (at the next tick) lands about when it is sent.
        early = dt.timedelta(seconds=BEAT_SECONDS / 2)
        order.next_reconcile_at = t0 + dt.timedelta(seconds=load_s * k / N) - early
        due.append(order)
    for k, order in enumerate(Order.objects.filter(pk__in=unpaid_ids).order_by("pk")):
        order.next_reconcile_at = t0 + dt.timedelta(seconds=load_s * k / UNPAID)
        due.append(order)
    Order.objects.bulk_update(due, ["next_reconcile_at"], batch_size=1000)
    lost = _lost_notifications(application, receiver.url + "/lost", t0, load_s)
    old_events, fresh_events, old_keys, fresh_keys = _prunable(application)

    senders = [
        Sending(web + WEBHOOK_PATH, deliveries, rate=RATE, threads=32).start()
        for web, deliveries in zip(webs, (to_a, to_b), strict=True)
    ]
    answers = [sender.join() for sender in senders]
    connection.close()
    expected_events = N + UNPAID + LOST

    def settled() -> bool:
        return (
            processed_count() >= N
            and Order.objects.filter(pk__in=unpaid_ids, status="EXPIRED").count() == UNPAID
            and len(receiver.snapshot()) >= expected_events
            and not Notification.objects.exclude(status=NotificationStatus.DELIVERED).exists()
            and not Event.objects.filter(pk__in=old_events).exists()
            and not IdempotencyRecord.objects.filter(pk__in=old_keys).exists()
        )

    done = wait_until(settled, timeout=120, interval=0.3)
    drained_s = round(time.monotonic() - started - startup_s - load_s, 1)
    # Several more periods of both beats: nothing may happen twice later either. Then the beats
    # stop, so that what they sent last can drain (a periodic task is always in flight otherwise).
    time.sleep(3.0)
    for beat in beats:
        beat.stop()
    drained = wait_until(
        lambda: private_redis.queued() == 0 and private_redis.unacked() == 0, timeout=30
    )
    connection.close()

    counts = outcome_counts(paid_ids)
    paid_by_source = Counter(
        OrderEvent.objects.filter(
            kind="status_change", order_id__in=paid_ids, to_status="PAID"
        ).values_list("source", flat=True)
    )
    expired_per_order = Counter(
        OrderEvent.objects.filter(
            kind="status_change", order_id__in=unpaid_ids, to_status="EXPIRED"
        ).values_list("order_id", flat=True)
    )
    merchant_events = Counter(
        Event.objects.filter(order_id__in=paid_ids + unpaid_ids).values_list(
            "event_type", flat=True
        )
    )
    received = receiver.snapshot()
    queries = Counter(binance.queries)
    paid_queried = sum(1 for o in paid if queries[o.prepay_id])
    attempts_per_delivery = Counter(
        NotificationAttempt.objects.values("notification_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    beat_runs = [_beat_runs(beat) for beat in beats]
    figures = {
        "web_processes": len(webs),
        "worker_processes": len(workers),
        "beat_processes": len(beats),
        "payments": N,
        "deliveries_sent": sent,
        "deliveries_per_web": [len(a) for a in answers],
        "answers": dict(Counter(f"{a.status} {a.body.decode()}" for got in answers for a in got)),
        **counts,
        "paid_transitions_by_source": dict(paid_by_source),
        "paid_orders_queried_by_reconciliation": paid_queried,
        "unpaid_orders": UNPAID,
        "unpaid_expired": sum(1 for n in expired_per_order.values() if n == 1),
        "unpaid_queries_per_order": dict(Counter(queries[o.prepay_id] for o in unpaid)),
        "max_queries_per_order": max(queries.values(), default=0),
        "merchant_events": dict(merchant_events),
        "lost_publish_notifications": LOST,
        "receiver_events": len(received),
        "receiver_posts_per_event": dict(Counter(received.values())),
        "attempts_per_delivery": dict(attempts_per_delivery),
        "pruned_old_events": OLD - Event.objects.filter(pk__in=old_events).count(),
        "kept_fresh_events": Event.objects.filter(pk__in=fresh_events).count(),
        "pruned_old_idempotency_keys": OLD
        - IdempotencyRecord.objects.filter(pk__in=old_keys).count(),
        "kept_fresh_idempotency_keys": IdempotencyRecord.objects.filter(pk__in=fresh_keys).count(),
        "periodic_runs_sent_per_beat": beat_runs,
        "tasks_received_per_worker": [w.log().count("] received") for w in workers],
        "task_failures": sum(_failures(w) for w in workers),
        "waiting": WebhookEvent.objects.filter(status__in=WAITING_STATUSES).count(),
        "redis_queued": private_redis.queued(),
        "redis_unacked": private_redis.unacked(),
        "startup_s": startup_s,
        "load_s": round(load_s, 1),
        "settled_s_after_the_load": drained_s,
        "wall_s": round(time.monotonic() - started, 1),
    }
    report("scale-out: 2 web + 2 worker + 2 beat", figures)

    # No delivery lost: every copy, to either web process, was stored or deduplicated: SUCCESS.
    assert done, (figures, processes.tail())
    for got, deliveries in zip(answers, (to_a, to_b), strict=True):
        assert [(a.status, a.body) for a in got] == [(200, SUCCESS)] * len(deliveries)
    # Payments: one event per order, all processed, one PAID transition each, none stuck.
    assert_exactly_once(paid_ids, counts, processes.tail)
    assert figures["waiting"] == 0
    assert set(paid_by_source) <= {"webhook", "reconciliation"}
    # The poller: no order was queried twice (each claim is leased; a paid order is final), each
    # unpaid one was queried once and expired once.
    assert figures["max_queries_per_order"] == 1, figures
    assert figures["unpaid_queries_per_order"] == {1: UNPAID}, figures
    assert figures["unpaid_expired"] == UNPAID and len(expired_per_order) == UNPAID
    assert Order.objects.filter(pk__in=unpaid_ids, status="EXPIRED").count() == UNPAID
    # Merchant notifications: one event per change, each received exactly once, one attempt each.
    assert merchant_events == {"order.paid": N, "order.expired": UNPAID}, merchant_events
    assert len(received) == expected_events, figures
    assert set(received.values()) == {1}, figures
    assert set(Notification.objects.filter(pk__in=lost).values_list("attempts", flat=True)) == {1}
    assert attempts_per_delivery == {1: expected_events}, figures
    # Prune: old rows gone, fresh ones kept; the heartbeat upsert ran.
    assert figures["pruned_old_events"] == OLD and figures["kept_fresh_events"] == OLD
    assert figures["pruned_old_idempotency_keys"] == OLD
    assert figures["kept_fresh_idempotency_keys"] == OLD
    assert Heartbeat.objects.count() == 1
    # Both beats really sent every periodic task, repeatedly, while both workers worked.
    for runs in beat_runs:
        assert all(runs.get(task, 0) >= 1 for task in PERIODIC), beat_runs
    assert min(figures["tasks_received_per_worker"]) > 0, figures
    assert figures["task_failures"] == 0, processes.tail()
    assert drained, figures
    for proc in processes.started:
        assert "IntegrityError" not in proc.log(), proc.log()[-3000:]


def _lost_notifications(application: Any, url: str, t0: dt.datetime, window_s: float) -> list[int]:
    """Events stored with a delivery whose publish never happened (a crash between commit and
    publish: ``dispatched_at`` empty), coming due across the load window."""
    now = timezone.now()
    events = Event.objects.bulk_create(
        Event(
            public_id=new_event_id(),
            application=application,
            event_type="order.flagged",
            created_at=now,
            payload={"id": "lost", "type": "order.flagged", "data": {"n": k}},
            delivery_status="pending",
        )
        for k in range(LOST)
    )
    deliveries = Notification.objects.bulk_create(
        Notification(
            public_id=new_delivery_id(),
            event=event,
            url=url,
            next_attempt_at=t0 + dt.timedelta(seconds=window_s * k / LOST),
            retry_started_at=now,
            dispatched_at=None,
            created_at=now,
        )
        for k, event in enumerate(events)
    )
    return [d.pk for d in deliveries]


def _prunable(application: Any) -> tuple[list[int], list[int], list[int], list[int]]:
    """OLD events past retention and OLD Idempotency-Key answers past their TTL, and as many
    fresh ones of each (which must be kept)."""
    now = timezone.now()

    def events(created_at: dt.datetime) -> list[int]:
        rows = Event.objects.bulk_create(
            Event(
                public_id=new_event_id(),
                application=application,
                event_type="order.paid",
                created_at=created_at,
                payload={"id": "old"},
            )
            for _ in range(OLD)
        )
        return [e.pk for e in rows]

    def keys(prefix: str) -> list[int]:
        rows = IdempotencyRecord.objects.bulk_create(
            IdempotencyRecord(
                application=application,
                key=f"{prefix}-{k}",
                request_hash="0" * 64,
                response_status=201,
                response_body={},
                completed_at=now,
            )
            for k in range(OLD)
        )
        return [r.pk for r in rows]

    old_events, fresh_events = events(now - dt.timedelta(days=40)), events(now)
    old_keys, fresh_keys = keys("old"), keys("fresh")
    IdempotencyRecord.objects.filter(pk__in=old_keys).update(created_at=now - dt.timedelta(days=2))
    return old_events, fresh_events, old_keys, fresh_keys


_SENT = re.compile(r"Sending due task [^ ]+ \(([a-z_.]+)\)")


def _beat_runs(beat: Proc) -> dict[str, int]:
    """How many times ``beat`` sent each periodic task."""
    return dict(Counter(_SENT.findall(beat.log())))


def _failures(worker: Proc) -> int:
    log = worker.log()
    return log.count("raised unexpected") + log.count("Task handler raised error")


# -- the same claims at the very same instant ------------------------------------------------------

THREADS = 8  # concurrent runs of each periodic task (beats x workers, at worst)
DUE = 200  # due rows of each kind


def test_every_periodic_claim_run_from_several_processes_at_the_same_instant_takes_each_row_once(
    monkeypatch,
):
    """Two beats may send a periodic task at the same moment to two workers; the live test above
    cannot make the runs overlap on purpose, this one does: each periodic task's service runs in
    THREADS database connections released together (a barrier). Reconciliation's claim, the
    webhook sweeper and notifications' dispatch hand out every due row exactly once (SELECT ...
    FOR UPDATE SKIP LOCKED plus a lease, in one transaction); both prune tasks delete what is old,
    keep the rest, raise nothing, and each run counts only the rows it deleted itself."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims need PostgreSQL")
    from notifications.services import deliveries as deliveries_module
    from notifications.services import events_prune
    from orders.reconciliation import orders_claim_due
    from orders.services.idempotency import idempotency_records_prune
    from webhooks.services import sweeper as sweeper_module

    published: dict[str, list[int]] = {"sweep": [], "dispatch": []}
    lock = threading.Lock()

    def record(kind: str) -> Any:
        def publish(pk: int) -> bool:
            with lock:
                published[kind].append(pk)
            return True

        return publish

    monkeypatch.setattr(sweeper_module, "enqueue_processing", record("sweep"))
    monkeypatch.setattr(deliveries_module, "enqueue_delivery", record("dispatch"))

    orders = make_orders(DUE)
    application = orders[0].application
    past = timezone.now() - dt.timedelta(seconds=1)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(next_reconcile_at=past)
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            body=b"{}",
            headers={},
            cert_serial="stub",
            biz_type="PAY",
            biz_id_str=str(k),
            biz_status="PAY_SUCCESS",
            dedupe_key=f"PAY:{k}:PAY_SUCCESS",
            next_attempt_at=past,
        )
        for k in range(DUE)
    )
    lost = _lost_notifications(application, "http://127.0.0.1:9/lost", past, 0.0)
    lost += _lost_notifications(application, "http://127.0.0.1:9/lost", past, 0.0)
    lost += _lost_notifications(application, "http://127.0.0.1:9/lost", past, 0.0)
    old_events, fresh_events, old_keys, fresh_keys = _prunable(application)

    def race(claim: Any) -> list[Any]:
        barrier = threading.Barrier(THREADS)
        results: list[Any] = [None] * THREADS

        def run(i: int) -> None:
            try:
                barrier.wait()
                results[i] = claim()
            except Exception as exc:  # reported below
                results[i] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors
        return results

    claimed = race(orders_claim_due)
    swept = race(sweeper_module.webhook_events_sweep)
    dispatched = race(deliveries_module.notifications_dispatch_due)
    events_pruned = race(events_prune)
    keys_pruned = race(idempotency_records_prune)
    connection.close()

    claimed_ids = [pk for ids in claimed for pk in ids]
    figures = {
        "threads": THREADS,
        "reconcile_claims_per_thread": sorted((len(ids) for ids in claimed), reverse=True),
        "reconcile_claimed_distinct": len(set(claimed_ids)),
        "reconcile_claimed_total": len(claimed_ids),
        "sweeper_published_per_thread": sorted(swept, reverse=True),
        "sweeper_published_distinct": len(set(published["sweep"])),
        "sweeper_published_total": len(published["sweep"]),
        "dispatch_per_thread": sorted(dispatched, reverse=True),
        "dispatch_enqueued_distinct": len(set(published["dispatch"])),
        "dispatch_enqueued_total": len(published["dispatch"]),
        "events_prune_returned": sorted(events_pruned, reverse=True),
        "keys_prune_returned": sorted(keys_pruned, reverse=True),
        "old_events_left": Event.objects.filter(pk__in=old_events).count(),
        "fresh_events_left": Event.objects.filter(pk__in=fresh_events).count(),
        "old_keys_left": IdempotencyRecord.objects.filter(pk__in=old_keys).count(),
        "fresh_keys_left": IdempotencyRecord.objects.filter(pk__in=fresh_keys).count(),
    }
    report("periodic claims at the same instant", figures)
    assert sorted(claimed_ids) == sorted(o.pk for o in orders), figures
    assert sorted(published["sweep"]) == sorted(e.pk for e in events), figures
    assert sorted(published["dispatch"]) == sorted(lost), figures
    assert figures["old_events_left"] == 0 and figures["fresh_events_left"] == OLD
    assert figures["old_keys_left"] == 0 and figures["fresh_keys_left"] == OLD
    # Each row deleted by exactly one of the runs, and each run counts only its own deletions.
    assert sum(events_pruned) == OLD and sum(keys_pruned) == OLD, figures
