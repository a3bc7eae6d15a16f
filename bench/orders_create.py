"""Order creation through paysvc against the sandbox at 50 concurrent clients: orders/s and
paysvc's own added latency (p50/p99 of total latency minus the time spent calling Binance).

Starts the sandbox and paysvc under gunicorn on loopback ports, on PostgreSQL (DATABASE_URL, or a
`paysvc_bench` database created on the local server) or, when no PostgreSQL answers, SQLite.
Each client thread keeps one connection and POSTs /api/v1/orders with a real API key. Binance's
share of each request is read back from the order timeline, where paysvc records the duration of
every call it made to Binance; added latency = client-measured latency - that sum.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    REPO_ROOT,
    base_env,
    bench_database,
    free_port,
    process,
    progress,
    report,
    summary_ms,
    wait_for_url,
)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
# Second phase: the same clients paced to this total rate (orders/s), below saturation, to see
# paysvc's own latency without queueing behind a full CPU.
PACED_RATE = float(os.environ.get("BENCH_PACED_RATE", "25"))
DURATION_S = float(os.environ.get("BENCH_SECONDS", "20"))
WEB_WORKERS = os.environ.get("BENCH_WEB_WORKERS", "3")
WEB_THREADS = os.environ.get("BENCH_WEB_THREADS", "8")
SANDBOX_KEY = "c" * 64
SANDBOX_SECRET = "bench-orders-secret-0123456789-abcdefghijklmnopqrstuvwxyzABCDEF"  # noqa: S105
BODY = json.dumps(
    {
        "env": {"terminalType": "WEB"},
        "orderAmount": "25.17",
        "currency": "USDT",
        "goods": {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
        },
        "customerRef": "bench",
    }
).encode()


def database_url() -> tuple[str, str]:
    """(url, description): DATABASE_URL, else a fresh local PostgreSQL database, else SQLite."""
    try:
        url, fresh = bench_database("paysvc_bench")
    except Exception:  # no local PostgreSQL: fall back to SQLite (figures not comparable)
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", "SQLite (no PostgreSQL reachable)"
    return url, "PostgreSQL 127.0.0.1" if fresh else "DATABASE_URL"


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return done.stdout


def client(
    port: int,
    key: str,
    deadline: float,
    out: list[tuple[str, float]],
    errors: list[str],
    interval: float = 0.0,
) -> None:
    """Send orders until `deadline`, one at a time; with `interval`, at most one per interval."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    next_at = time.monotonic() + random.uniform(0, interval)
    while time.monotonic() < deadline:
        if interval:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/orders", body=BODY, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = time.perf_counter() - started
        if response.status == 201:
            out.append((json.loads(payload)["merchantTradeNo"], elapsed))
        else:
            errors.append(str(response.status))
    conn.close()


def binance_seconds(env: dict[str, str]) -> dict[str, float]:
    """merchantTradeNo -> seconds spent in calls to Binance, from the order timeline."""
    script = (
        "import json\n"
        "from django.db.models import F\n"
        "from orders.models import OrderEvent\n"
        "rows = OrderEvent.objects.filter(kind='binance_call').values_list("
        "'order__merchant_trade_no', 'detail__durationMs')\n"
        "total = {}\n"
        "for mtn, ms in rows: total[mtn] = total.get(mtn, 0) + float(ms or 0)\n"
        "print(json.dumps(total))\n"
    )
    out = manage(env, "shell", "-c", script)
    return {k: v / 1000 for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def main() -> None:
    db_url, db_description = database_url()
    tmp = Path(tempfile.mkdtemp())
    sandbox_port, web_port = free_port(), free_port()
    env = base_env(
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throwaway bench value
        DATABASE_URL=db_url,
        BINANCE_PAY_BASE_URL=f"http://127.0.0.1:{sandbox_port}",
        BINANCE_PAY_API_KEY=SANDBOX_KEY,
        BINANCE_PAY_SECRET_KEY=SANDBOX_SECRET,
        PAYSVC_ALLOW_PRIVATE_URLS="1",
        PAYSVC_API_RATE="",
        PAYSVC_ORDER_CREATE_RATE="",
        LOG_LEVEL="WARNING",
        SANDBOX_PORT=str(sandbox_port),
        SANDBOX_DB_PATH=str(tmp / "sandbox.sqlite3"),
        SANDBOX_API_KEY=SANDBOX_KEY,
        SANDBOX_SECRET_KEY=SANDBOX_SECRET,
        SANDBOX_RSA_KEY_SIZE="2048",
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    created = manage(env, "create_api_key", "--name", f"bench-{int(time.time())}")
    key = re.search(r"API key: (\S+)", created).group(1)  # type: ignore[union-attr]
    sandbox_argv = [sys.executable, "-m", "sandbox", "serve"]
    web_argv = [
        sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--bind", f"127.0.0.1:{web_port}",
        "--workers", WEB_WORKERS, "--threads", WEB_THREADS, "--worker-class", "gthread",
        "--backlog", "256",
    ]  # fmt: skip
    results: list[tuple[str, float]] = []
    errors: list[str] = []
    with (
        process(sandbox_argv, env, tmp / "sandbox.log"),
        process(web_argv, env, tmp / "web.log"),
    ):
        wait_for_url(f"http://127.0.0.1:{sandbox_port}/sandbox/health")
        wait_for_url(f"http://127.0.0.1:{web_port}/healthz")
        # Warm up every gunicorn worker (imports, connections) outside the measurement.
        warm: list[tuple[str, float]] = []
        warm_deadline = time.monotonic() + 3
        client(web_port, key, warm_deadline, warm, errors)
        errors.clear()
        saturated = run_phase(web_port, key, DURATION_S, 0.0, "saturated", results, errors)
        paced_results: list[tuple[str, float]] = []
        paced_errors: list[str] = []
        paced = run_phase(
            web_port, key, DURATION_S, CLIENTS / PACED_RATE, "paced", paced_results, paced_errors
        )
    in_binance = binance_seconds(env)
    figures: dict[str, object] = {
        "what": "POST /api/v1/orders through paysvc (gunicorn) against the sandbox",
        "target": "added p99 <= 20 ms at 50 concurrent clients",
        "database": db_description,
        "web": f"gunicorn {WEB_WORKERS} workers x {WEB_THREADS} threads",
        "clients": CLIENTS,
        "duration_s_per_phase": DURATION_S,
        "cpus": os.cpu_count(),
    }
    for name, rows, errs, elapsed in (
        ("saturated", results, errors, saturated),
        (f"paced_{PACED_RATE:g}_per_s", paced_results, paced_errors, paced),
    ):
        added = [total - in_binance.get(mtn, 0.0) for mtn, total in rows]
        figures[name] = {
            "orders_created": len(rows),
            "orders_per_s": round(len(rows) / elapsed, 1),
            "errors": len(errs),
            "error_kinds": sorted(set(errs))[:10],
            "total_latency": summary_ms([t for _, t in rows]),
            "binance_time": summary_ms([in_binance.get(mtn, 0.0) for mtn, _ in rows]),
            "paysvc_added_latency": summary_ms(added),
        }
    report("orders_create", figures)


def run_phase(
    port: int,
    key: str,
    duration: float,
    interval: float,
    label: str,
    results: list[tuple[str, float]],
    errors: list[str],
) -> float:
    """Run CLIENTS threads for `duration` seconds; returns the elapsed time."""
    started = time.monotonic()
    deadline = started + duration
    threads = [
        threading.Thread(target=client, args=(port, key, deadline, results, errors, interval))
        for _ in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    while time.monotonic() < deadline:
        progress(int(time.monotonic() - started), duration, started, label)
        time.sleep(0.5)
    for t in threads:
        t.join()
    sys.stderr.write("\n")
    return time.monotonic() - started


if __name__ == "__main__":
    main()
