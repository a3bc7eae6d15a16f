"""The floor of the Web3 benchmark: GET /web3/v1/task/completion as a bare WSGI function.

No Django: the query string parsed with urllib, the statement paysvc's view sends (the bench
passes its text, from `campaigns.selectors.completion_statement`, in BENCH_FLOOR_SQL, and the
status values in BENCH_FLOOR_STATUSES) on one psycopg connection per thread, with the same
``SET LOCAL statement_timeout`` prefix, the same judging (95% rule, windows, currency, refunds),
and the same envelope. It has no rate limit, call log, metrics, parameter checks beyond what the
answer needs, in-flight limit or middleware: what is left is the cost of gunicorn, psycopg and
PostgreSQL for this statement, which paysvc cannot go below on the same gunicorn settings.

Served by bench/web3_completion.py with the same gunicorn command line as paysvc
(``gunicorn bench.web3_floor:application``); not part of paysvc.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
from decimal import Decimal
from typing import Any

import psycopg

_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_RATIO = Decimal("0.95")
_TASK_TTL_S = 5.0
_local = threading.local()
_tasks: dict[str, tuple[Any, ...]] = {}
_tasks_at = 0.0
_lock = threading.Lock()
_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _conn() -> psycopg.Connection[Any]:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = re.sub(r"^postgres://", "postgresql://", os.environ["DATABASE_URL"])
        conn = psycopg.Connection.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        _local.conn = conn
    return conn


def _active_tasks() -> dict[str, tuple[Any, ...]]:
    """task_id -> (application_id, kind, threshold, currency, starts_at, ends_at), re-read every
    5 s as paysvc does."""
    global _tasks, _tasks_at
    if time.monotonic() - _tasks_at >= _TASK_TTL_S:
        with _lock:
            if time.monotonic() - _tasks_at >= _TASK_TTL_S:
                rows = _conn().execute(
                    "SELECT task_id, application_id, kind, threshold, currency, starts_at, ends_at "
                    "FROM campaigns_task WHERE is_active"
                )
                _tasks = {r[0]: r[1:] for r in rows}
                _tasks_at = time.monotonic()
    return _tasks


Facts = dict[tuple[int, str], dict[str, list[Any]]]


def _completed(task: tuple[Any, ...], customers: Facts) -> bool:
    app, kind, threshold, currency, starts, ends = task

    def inside(at: Any) -> bool:
        if starts is None and ends is None:
            return True
        return at is not None and (starts is None or at >= starts) and (ends is None or at < ends)

    for (app_id, _ref), facts in customers.items():
        if app_id != app:
            continue
        if kind == "account_shared":
            if any(inside(at) for at in facts["s"]):
                return True
            continue
        counted = [
            net
            for cur, at, net in facts["o"]
            if net > 0 and inside(at) and (not currency or cur == currency)
        ]
        value = Decimal(len(counted)) if kind == "paid_order_count" else sum(counted, Decimal(0))
        if threshold is not None and value >= threshold * _RATIO:
            return True
    return False


def _answer(query: str) -> dict[str, bool]:
    args = urllib.parse.parse_qs(query)
    raw = args["walletAddress"][0].strip()
    asked = json.loads(args.get("task", ["[]"])[0] or "[]")
    active = _active_tasks()
    tasks = {t: active[t] for t in asked} if asked else dict(sorted(active.items()))
    shared, held, paid = json.loads(os.environ["BENCH_FLOOR_STATUSES"])
    params = [
        raw.lower() if _EVM.fullmatch(raw) else raw,
        raw,
        sorted({t[0] for t in tasks.values()}),
        shared,
        held,
        paid,
        any(t[1] == "account_shared" for t in tasks.values()),
    ]
    cur = _conn().cursor()
    cur.execute("SET LOCAL statement_timeout = 2950; " + os.environ["BENCH_FLOOR_SQL"], params)
    cur.nextset()
    customers: Facts = {}
    for source, app_id, ref, currency, at, amount, refunded in cur.fetchall():
        facts = customers.setdefault((app_id, ref), {"o": [], "s": []})
        if source == "o":
            net = max(Decimal(0), amount - (refunded or 0)) if amount is not None else Decimal(0)
            facts["o"].append((currency or "", at, net))
        elif source == "s":
            facts["s"].append(at)
    return {task_id: _completed(task, customers) for task_id, task in tasks.items()}


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") == "/web3/v1/time":
        data: Any = int(time.time() * 1000)
    else:
        data = _answer(environ.get("QUERY_STRING", ""))
    body = json.dumps({"code": "000000", "message": "success", "data": data}).encode()
    start_response("200 OK", [*_HEADERS, ("Content-Length", str(len(body)))])
    return [body]
