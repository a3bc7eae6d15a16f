"""Webhook worker alone: events/s and CPU ms per event draining a backlog of stored PAY_SUCCESS
events, beside two floors measured in the same run.

Set-up: PostgreSQL (DATABASE_URL, else a fresh `paysvc_bench_worker` database), Redis (broker
database 13 and cache 14 of the local server, flushed first, unless CELERY_BROKER_URL and
REDIS_URL are given). BENCH_WORKER_EVENTS (3,000) orders are created as Create Order leaves them,
and for each a stored PAY_SUCCESS event with its `webhooks.process_event` task queued, as intake
leaves them. Then, one after the other, each on the same backlog size:

- paysvc: `celery -A paysvc worker` (BENCH_WORKER_POOL x BENCH_WORKER_CONCURRENCY, prefork x 2,
  the production settings) drains the queue; every order must end PAID with one PAID transition.
- floor "celery no-op": the same broker, pool, concurrency and acknowledgement settings with a
  task that does nothing (bench/worker_floor.py): what Celery itself costs per task.
- floor "SQL": BENCH_WORKER_CONCURRENCY processes, each with one psycopg connection, doing per
  event the least SQL the guarantee needs (lock the event, lock the order, set it PAID, insert
  its status change, record the event, commit): what PostgreSQL costs per event.

Reported per phase: events/s, wall seconds, and CPU ms per event of the worker (or floor)
processes and of PostgreSQL (from /proc), with paysvc's rate as a fraction of each floor's.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_ROOT,
    base_env,
    bench_database,
    process,
    process_cpu,
    process_tree,
    processes_named,
    progress,
    report,
)
from bench.webhook_intake import (
    API_KEY,
    API_SECRET,
    flush_redis,
    manage,
    shell,
)

EVENTS = int(os.environ.get("BENCH_WORKER_EVENTS", "3000"))
POOL = os.environ.get("BENCH_WORKER_POOL", "prefork")
CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))
TARGET_PER_S = 400

# Run in `manage.py shell`: orders and their stored PAY_SUCCESS events, then one task each.
SEED = """
import datetime as dt, json, time
from decimal import Decimal
from django.utils import timezone
from clients.models import ClientApplication
from orders.models import Order
from webhooks.models import WebhookEvent
from webhooks.services.intake import enqueue_processing
n, label = {n}, "{label}"
app, _ = ClientApplication.objects.get_or_create(name="bench-worker")
expire = timezone.now() + dt.timedelta(hours=2)
base = 10**17 * (1 + "pf".index(label))
orders = [(f"W{{label}}{{i:07d}}", str(base + i)) for i in range(n)]
Order.objects.bulk_create(
    [Order(application=app, merchant_trade_no=mtn, prepay_id=pid, terminal_type="WEB",
           order_amount=Decimal("25.17"), currency="USDT", total_fee=Decimal("25.17"),
           create_state="created", status="INITIAL", expire_time=expire,
           goods={{"goodsType": "02", "goodsName": "Ice Cream"}}, env={{"terminalType": "WEB"}})
     for mtn, pid in orders], batch_size=2000)
def body(mtn, pid):
    data = json.dumps({{"merchantTradeNo": mtn, "productType": "02", "productName": "Ice Cream",
        "transactTime": int(time.time() * 1000), "tradeType": "WEB", "totalFee": 25.17,
        "currency": "USDT", "transactionId": "M_P_" + pid, "openUserId": "f36fae12c2b4",
        "commission": 0}})
    return json.dumps({{"bizType": "PAY", "data": data, "bizIdStr": pid, "bizId": int(pid),
        "bizStatus": "PAY_SUCCESS"}}).encode()
events = WebhookEvent.objects.bulk_create(
    [WebhookEvent(body=body(mtn, pid), headers={{}}, cert_serial="bench", biz_type="PAY",
                  biz_id_str=pid, biz_status="PAY_SUCCESS", merchant_trade_no=mtn,
                  dedupe_key=f"PAY:{{pid}}:PAY_SUCCESS") for mtn, pid in orders], batch_size=2000)
ids = [e.pk for e in events]
if {enqueue}:
    for pk in ids:
        enqueue_processing(pk)
print("SEEDED " + json.dumps(ids))
"""

CHECK = """
import json
from django.db.models import Count
from orders.models import Order, OrderEvent
from webhooks.models import WebhookEvent
ids = json.load(open("{path}"))
events = WebhookEvent.objects.filter(pk__in=ids)
paid = (OrderEvent.objects.filter(kind="status_change", to_status="PAID",
        order__merchant_trade_no__in=events.values("merchant_trade_no"))
        .values("order_id").annotate(n=Count("id")))
print("CHECK " + json.dumps({{
    "events_processed": events.filter(status="processed").count(),
    "orders_with_one_paid_transition": sum(1 for row in paid if row["n"] == 1),
    "orders_with_several_paid_transitions": sum(1 for row in paid if row["n"] > 1),
}}))
"""


def cpu_of(pids: list[int]) -> float:
    return sum(process_cpu(p) for p in pids)


def postgres_cpu() -> float:
    return cpu_of(processes_named("postgres"))


def seed(env: dict[str, str], label: str, *, enqueue: bool) -> list[int]:
    out = shell(env, SEED.format(n=EVENTS, label=label, enqueue=enqueue), "SEEDED")
    return list(json.loads(out))


def drain(argv: list[str], env: dict[str, str], tmp: Path, label: str) -> dict[str, Any]:
    """Start a worker on the queued backlog; time it until the broker holds nothing."""
    import redis

    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"], socket_timeout=5)

    def waiting() -> int:
        return int(broker.llen("celery")) + int(broker.hlen("unacked"))

    backlog = waiting()
    with process(argv, env, tmp / f"{label}.log") as proc:
        # Timed from the first task taken, so that the worker's start-up is not counted.
        while waiting() == backlog and proc.poll() is None:
            time.sleep(0.01)
        started, pg_before = time.monotonic(), postgres_cpu()
        worker_before = cpu_of(process_tree(proc.pid))
        while waiting() > 0 and proc.poll() is None:
            progress(backlog - waiting(), backlog, started, label)
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        worker_cpu = cpu_of(process_tree(proc.pid)) - worker_before
        pg_cpu = postgres_cpu() - pg_before
    sys.stderr.write("\n")
    return figures(backlog, elapsed, worker_cpu, pg_cpu)


def figures(n: int, elapsed: float, worker_cpu: float, pg_cpu: float) -> dict[str, Any]:
    return {
        "events": n,
        "seconds": round(elapsed, 2),
        "events_per_s": round(n / elapsed, 1) if elapsed else None,
        "worker_cpu_ms_per_event": round(1000 * worker_cpu / n, 2) if n else None,
        "postgres_cpu_ms_per_event": round(1000 * pg_cpu / n, 2) if n else None,
    }


def worker_argv(app: str, name: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", app, "worker", "-l", "WARNING",
        "--pool", POOL, "--concurrency", str(CONCURRENCY), "-n", f"{name}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip


# -- the SQL floor --------------------------------------------------------------------------------

FLOOR_STATEMENTS = (
    "SELECT id, status, attempts, body FROM webhooks_webhookevent WHERE id = %(event)s FOR UPDATE",
    "SELECT id, status FROM orders_order WHERE merchant_trade_no = %(trade_no)s FOR UPDATE",
    "UPDATE orders_order SET status = 'PAID', paid_at = now(), updated_at = now() "
    "WHERE id = %(order)s",
    "INSERT INTO orders_orderevent (order_id, created_at, kind, source, actor, from_status, "
    "to_status, summary, detail) VALUES (%(order)s, now(), 'status_change', 'webhook', '', "
    "'INITIAL', 'PAID', 'INITIAL -> PAID', '{}')",
    "UPDATE webhooks_webhookevent SET status = 'processed', attempts = 1, processed_at = now() "
    "WHERE id = %(event)s",
)


def _floor_process(url: str, items: list[tuple[int, str]]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for event_id, trade_no in items:
            with conn.transaction():
                conn.execute(FLOOR_STATEMENTS[0], {"event": event_id}).fetchone()
                row = conn.execute(FLOOR_STATEMENTS[1], {"trade_no": trade_no}).fetchone()
                assert row is not None
                for statement in FLOOR_STATEMENTS[2:]:
                    conn.execute(statement, {"event": event_id, "order": row[0]})


def sql_floor(db_url: str, ids: list[int]) -> dict[str, Any]:
    import psycopg

    url = db_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, merchant_trade_no FROM webhooks_webhookevent WHERE id = ANY(%s)", [ids]
        ).fetchall()
    shares = [rows[i::CONCURRENCY] for i in range(CONCURRENCY)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_floor_process, args=(url, share)) for share in shares]
    started, pg_before = time.monotonic(), postgres_cpu()
    for proc in procs:
        proc.start()
    pids = [p.pid for p in procs if p.pid]
    cpu = 0.0
    while any(p.is_alive() for p in procs):
        cpu = max(cpu, cpu_of(pids))  # /proc forgets a process once it is reaped
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0, "the SQL floor failed"
    return figures(len(rows), elapsed, cpu, postgres_cpu() - pg_before)


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    db_url, fresh = bench_database("paysvc_bench_worker")
    broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    cache_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    flush_redis(broker_url, cache_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    env = base_env(
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throwaway bench value
        DATABASE_URL=db_url,
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=cache_url,
        BINANCE_PAY_API_KEY=API_KEY,
        BINANCE_PAY_SECRET_KEY=API_SECRET,
        LOG_LEVEL=os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
        PAYSVC_VAR_DIR=str(tmp / "var"),
        PYTHONPATH=str(REPO_ROOT),
    )
    env.pop("CELERY_BROKER_WRITE_URL", None)
    manage(env, "migrate", "--noinput", "-v", "0")

    ids = seed(env, "p", enqueue=True)
    paysvc = drain(worker_argv("paysvc", "bench-worker"), env, tmp, "paysvc worker")
    ids_file = tmp / "ids.json"
    ids_file.write_text(json.dumps(ids))
    paysvc["checks"] = json.loads(shell(env, CHECK.format(path=ids_file), "CHECK"))

    flush_redis(broker_url)
    from bench import worker_floor

    worker_floor.app.conf.broker_url = broker_url
    worker_floor.enqueue(EVENTS)
    noop = drain(worker_argv("bench.worker_floor", "bench-floor"), env, tmp, "no-op floor")

    floor_ids = seed(env, "f", enqueue=False)
    sql = sql_floor(db_url, floor_ids)

    def ratio(floor: dict[str, Any]) -> float | None:
        if not paysvc["events_per_s"] or not floor["events_per_s"]:
            return None
        return round(paysvc["events_per_s"] / floor["events_per_s"], 3)

    report(
        "worker_drain",
        {
            "what": f"webhooks.process_event draining {EVENTS} stored PAY_SUCCESS events",
            "target": f">= {TARGET_PER_S} events/s",
            "database": "PostgreSQL (fresh paysvc_bench_worker)" if fresh else "DATABASE_URL",
            "worker": f"celery {POOL} x {CONCURRENCY}",
            "cpus": os.cpu_count(),
            "paysvc": paysvc,
            "floor_celery_noop": noop,
            "floor_sql": sql,
            "paysvc_over_celery_noop": ratio(noop),
            "paysvc_over_sql": ratio(sql),
        },
    )


if __name__ == "__main__":
    main()
