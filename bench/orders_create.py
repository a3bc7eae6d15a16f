"""Order creation through paysvc against the sandbox at 50 concurrent clients: orders/s and
paysvc's own added latency (p50/p99 of total latency minus the time spent calling Binance).

Starts the sandbox and paysvc under gunicorn on loopback ports, on PostgreSQL (DATABASE_URL, or a
`paysvc_bench` database created on the local server) or, when no PostgreSQL answers, SQLite.
Each client thread keeps one connection and POSTs /api/v1/orders with a real API key. Binance's
share of each request is read back from the order timeline, where paysvc records the duration of
every call it made to Binance; added latency = client-measured latency - that sum.

In the same run, on PostgreSQL, the same clients and phases go to the floor
(bench/orders_floor.py, a bare WSGI function doing the essential work: key lookup, INSERT, the
signed Create Order call, UPDATE) under the same gunicorn command line; for both the report gives
orders/s, added latency, gunicorn CPU per order (from /proc, master and workers, over the phase)
and paysvc's ratios to the floor.
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
from typing import Any

from bench.common import (
    REPO_ROOT,
    base_env,
    bench_database,
    free_port,
    process,
    process_cpu,
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
    out: list[tuple[str, float, float | None]],
    errors: list[str],
    interval: float = 0.0,
) -> None:
    """Send orders until `deadline`, one at a time; with `interval`, at most one per interval.

    Each created order is kept as (merchantTradeNo, seconds, Binance seconds): the floor gives
    the last in its ``X-Binance-Ms`` header, paysvc's is read from the timeline (None here)."""
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
            binance_ms = response.getheader("X-Binance-Ms")
            out.append(
                (
                    json.loads(payload)["merchantTradeNo"],
                    elapsed,
                    float(binance_ms) / 1000 if binance_ms is not None else None,
                )
            )
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


def gunicorn_pids(master: int) -> list[int]:
    """The gunicorn master and its workers."""
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == master:
                pids.append(int(entry.name))
    return pids


def gunicorn_cpu(master: int) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in gunicorn_pids(master)}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings (a worker started meanwhile counts whole)."""
    return sum(max(0.0, v - before.get(pid, 0.0)) for pid, v in after.items())


def measure(
    name: str, app: str, env: dict[str, str], key: str, tmp: Path
) -> dict[str, tuple[list[tuple[str, float, float | None]], list[str], float, float]]:
    """Serve `app` under the benchmark's gunicorn command line and run both phases against it:
    {phase: (orders, errors, elapsed seconds, gunicorn CPU seconds)}."""
    port = free_port()
    argv = [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", WEB_WORKERS, "--threads", WEB_THREADS, "--worker-class", "gthread",
        "--backlog", "256",
    ]  # fmt: skip
    phases = {}
    with process(argv, env, tmp / f"{name}.log") as web:
        wait_for_url(f"http://127.0.0.1:{port}/healthz")
        # Warm up every gunicorn worker (imports, connections) outside the measurement.
        warm: list[tuple[str, float, float | None]] = []
        warm_errors: list[str] = []
        run_phase(port, key, 3, 0.0, f"{name} warm-up", warm, warm_errors)
        for phase, interval in (("saturated", 0.0), ("paced", CLIENTS / PACED_RATE)):
            rows: list[tuple[str, float, float | None]] = []
            errors: list[str] = []
            cpu_before = gunicorn_cpu(web.pid)
            elapsed = run_phase(port, key, DURATION_S, interval, f"{name} {phase}", rows, errors)
            cpu = cpu_used(cpu_before, gunicorn_cpu(web.pid))
            phases[phase] = (rows, errors, elapsed, cpu)
    return phases


def figures_of(phases, in_binance: dict[str, float]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}
    for phase, (rows, errs, elapsed, cpu) in phases.items():
        spent = [b if b is not None else in_binance.get(mtn, 0.0) for mtn, _t, b in rows]
        added = [total - b for (_m, total, _b), b in zip(rows, spent, strict=True)]
        label = phase if phase == "saturated" else f"paced_{PACED_RATE:g}_per_s"
        out[label] = {
            "orders_created": len(rows),
            "orders_per_s": round(len(rows) / elapsed, 1),
            "errors": len(errs),
            "error_kinds": sorted(set(errs))[:10],
            "total_latency": summary_ms([t for _m, t, _b in rows]),
            "binance_time": summary_ms(spent),
            "paysvc_added_latency": summary_ms(added),
            "gunicorn_cpu_ms_per_order": round(cpu * 1000 / max(1, len(rows)), 2),
        }
    return out


def ratios(paysvc: dict[str, Any], floor: dict[str, Any]) -> dict[str, object]:
    """paysvc over the floor: above 1 means paysvc is slower (latency, CPU) or, for orders/s,
    below 1 that it creates fewer."""
    out: dict[str, object] = {}
    for phase in paysvc:
        mine, base = paysvc[phase], floor[phase]

        def ratio(a: float, b: float) -> float | None:
            return round(a / b, 2) if b else None

        out[phase] = {
            "orders_per_s": ratio(mine["orders_per_s"], base["orders_per_s"]),
            "added_p50": ratio(
                mine["paysvc_added_latency"]["p50_ms"], base["paysvc_added_latency"]["p50_ms"]
            ),
            "added_p99": ratio(
                mine["paysvc_added_latency"]["p99_ms"], base["paysvc_added_latency"]["p99_ms"]
            ),
            "gunicorn_cpu_per_order": ratio(
                mine["gunicorn_cpu_ms_per_order"], base["gunicorn_cpu_ms_per_order"]
            ),
        }
    return out


def main() -> None:
    db_url, db_description = database_url()
    tmp = Path(tempfile.mkdtemp())
    sandbox_port = free_port()
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
    with_floor = db_url.startswith(("postgres://", "postgresql://"))
    if with_floor:
        from bench.orders_floor import create_table

        create_table(db_url)
    with process([sys.executable, "-m", "sandbox", "serve"], env, tmp / "sandbox.log"):
        wait_for_url(f"http://127.0.0.1:{sandbox_port}/sandbox/health")
        paysvc_phases = measure("paysvc", "paysvc.wsgi", env, key, tmp)
        floor_phases = (
            measure("floor", "bench.orders_floor:application", env, key, tmp)
            if (with_floor)
            else None
        )
    in_binance = binance_seconds(env)
    figures: dict[str, object] = {
        "what": "POST /api/v1/orders through paysvc (gunicorn) against the sandbox, beside its "
        "floor (bench/orders_floor.py: key lookup, INSERT, signed call, UPDATE) in the same run",
        "target": "added p99 <= 20 ms at the paced rate; gunicorn CPU per order halved",
        "database": db_description,
        "web": f"gunicorn {WEB_WORKERS} workers x {WEB_THREADS} threads",
        "clients": CLIENTS,
        "paced_rate_per_s": PACED_RATE,
        "duration_s_per_phase": DURATION_S,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    paysvc = figures_of(paysvc_phases, in_binance)
    figures.update(paysvc)  # the figures as before, at the top level
    figures["paysvc"] = paysvc
    if floor_phases is not None:
        floor = figures_of(floor_phases, {})
        figures["floor"] = floor
        figures["paysvc_over_floor"] = ratios(paysvc, floor)
    else:
        figures["floor"] = "not measured: the floor needs PostgreSQL"
    report("orders_create", figures)


def run_phase(
    port: int,
    key: str,
    duration: float,
    interval: float,
    label: str,
    results: list[tuple[str, float, float | None]],
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
