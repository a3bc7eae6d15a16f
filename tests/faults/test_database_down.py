"""The database goes down while webhooks arrive (docs/reliability.md#20-database-down, scaled).

paysvc runs on a private PostgreSQL cluster (initdb on a spare port) with a private Redis; the
sandbox is Binance: it creates the orders, is paid for them one after the other, and delivers
their PAY_SUCCESS webhooks, retrying failed ones 6 times within 5 s (Binance: 6 retries at
undocumented intervals). The cluster is crashed (``pg_ctl stop -m immediate``) for 6 s while
payments go on. Checked: no 200 while it is down (only 5xx/timeouts, answered fast); after it is
back, retried deliveries are accepted; payments whose retries all fell in the outage are found by
one reconciliation pass (Query Order); no order ends with a status other than Binance's, and
none is paid twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import SANDBOX_API_KEY, SANDBOX_SECRET
from tests.factories import order_body
from tests.faults.conftest import ms, paysvc_env, report
from tests.live import REPO_ROOT, free_port, wait_until
from tests.soak import size
from tests.webhooks.factories import WEBHOOK_PATH

pytestmark = [pytest.mark.live]

# The suite's size; `make soak` (PAYSVC_SOAK=1): 2,000 payments at 25/s (80 s), the database
# down from 10 s to 70 s (docs/reliability.md#20-database-down: 60 s during 2,000).
ORDERS = size(120, 2000)
PAY_RATE = size(15.0, 25.0)  # payments per second at the sandbox (8 s in all; full: 80 s)
DOWN_AT = size(2.0, 10.0)  # seconds after the first payment
DOWN_FOR = size(6.0, 60.0)
WAIT = size(60, 600)  # seconds allowed for deliveries, processing and reconciliation to finish
RETRY_SCHEDULE = "0.5,0.5,1,1,1,1"  # 5 s: deliveries early in the outage exhaust their retries

RECONCILE = """
import json
from collections import Counter
from orders.reconciliation import order_reconcile, reconcile_candidates
order_ids, _ = reconcile_candidates()
print("RESULT " + json.dumps(Counter(order_reconcile(order_id=pk) for pk in order_ids)))
"""


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, json.loads(response.read() or b"null")


def _answer(method: str, url: str, headers: dict[str, str]) -> tuple[int, str | None, str]:
    """(status, Retry-After, error code) of a request answered with an error."""
    try:
        status, _ = _http(method, url, None, headers)
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"null")
        return exc.code, exc.headers.get("Retry-After"), body["error"]["code"]
    return status, None, ""


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=max(120, 2 * WAIT),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_database_down_no_200_without_storage_and_nothing_lost_after_recovery(
    private_postgres, private_redis, processes, signer, tmp_path: Path
):
    pg = private_postgres
    with pg.connect() as conn:
        conn.execute("CREATE DATABASE paysvc")
    web_port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = paysvc_env(
        database_url=pg.url("paysvc"),
        broker_url=private_redis.url(0),
        cache_url=private_redis.url(1),
        binance_url=sandbox_url,
        BINANCE_PAY_API_KEY=SANDBOX_API_KEY,
        BINANCE_PAY_SECRET_KEY=SANDBOX_SECRET,
        PAYSVC_API_RATE="",
        PAYSVC_ORDER_CREATE_RATE="",
    )
    key_file = tmp_path / "webhook-key.pem"
    key_file.write_bytes(
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    sandbox_env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_DB_PATH": str(tmp_path / "sandbox.sqlite3"),
        "SANDBOX_API_KEY": SANDBOX_API_KEY,
        "SANDBOX_SECRET_KEY": SANDBOX_SECRET,
        "SANDBOX_RSA_KEY_FILE": str(key_file),
        "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{web_port}{WEBHOOK_PATH}",
        "SANDBOX_WEBHOOK_RETRY_SCHEDULE": RETRY_SCHEDULE,
        "SANDBOX_WORKERS": "1",
    }
    migrated_in = time.monotonic()
    _manage(env, "migrate", "--noinput", "-v", "0")
    migrated_in = round(time.monotonic() - migrated_in, 1)
    api_key = _manage(env, "create_api_key", "--name", "faults").split("API key: ")[1].split()[0]
    sandbox = processes.sandbox(sandbox_env)
    web = processes.web(env, port=web_port)
    processes.worker(env)
    processes.beat(env)

    auth = {"Authorization": f"Bearer {api_key}"}
    order = order_body()
    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(
            pool.map(lambda _: _http("POST", web + "/api/v1/orders", order, auth), range(ORDERS))
        )
    assert {status for status, _ in created} == {201}
    trade_nos = [body["merchantTradeNo"] for _, body in created]

    def pay_all() -> None:
        t0 = time.monotonic()
        for i, trade_no in enumerate(trade_nos):
            time.sleep(max(0.0, t0 + i / PAY_RATE - time.monotonic()))
            assert _http("POST", f"{sandbox}/sandbox/orders/{trade_no}/pay", {})[0] == 200

    payer = threading.Thread(target=pay_all)
    payer.start()
    time.sleep(DOWN_AT)
    pg.stop("immediate")
    down_ms = time.time_ns() // 1_000_000
    # The merchant API on the same kept connections: a 503 to retry, not a 500.
    api_while_down = _answer("GET", f"{web}/api/v1/orders/{trade_nos[0]}", auth)
    time.sleep(DOWN_FOR)
    up_ms = time.time_ns() // 1_000_000
    pg.start()
    payer.join()

    def notifications() -> list[dict[str, Any]]:
        return _http("GET", f"{sandbox}/sandbox/webhooks?limit={max(1000, 2 * ORDERS)}")[1][
            "webhooks"
        ]

    finished = wait_until(
        lambda: all(n["state"] in ("delivered", "failed") for n in notifications()),
        timeout=WAIT,
        interval=size(0.1, 2.0),
    )
    log = notifications()
    with pg.connect("paysvc") as conn:

        def waiting() -> int:
            return conn.execute(
                "SELECT count(*) FROM webhooks_webhookevent WHERE status IN ('received', 'orphan')"
            ).fetchone()[0]

        processed = wait_until(lambda: waiting() == 0, timeout=WAIT, interval=0.2)
        events = dict(
            conn.execute(
                "SELECT status, count(*) FROM webhooks_webhookevent GROUP BY status"
            ).fetchall()
        )
        stored = {
            row[0] for row in conn.execute("SELECT merchant_trade_no FROM webhooks_webhookevent")
        }
    outcome = json.loads(_manage(env, "shell", "-c", RECONCILE).split("RESULT ")[1].splitlines()[0])

    with pg.connect("paysvc") as conn:
        ours = dict(conn.execute("SELECT merchant_trade_no, status FROM orders_order").fetchall())
        paid_transitions = Counter(
            dict(
                conn.execute(
                    "SELECT o.merchant_trade_no, count(*) FROM orders_orderevent e"
                    " JOIN orders_order o ON o.id = e.order_id WHERE e.kind = 'status_change'"
                    " AND e.to_status IN ('PAID', 'PAID_AFTER_CLOSE')"
                    " GROUP BY o.merchant_trade_no"
                ).fetchall()
            )
        )
        by_source = dict(
            conn.execute(
                "SELECT source, count(*) FROM orders_orderevent WHERE kind = 'status_change'"
                " AND to_status = 'PAID' GROUP BY source"
            ).fetchall()
        )
    binance = {t: _http("GET", f"{sandbox}/sandbox/orders/{t}")[1]["status"] for t in trade_nos}
    wrong = {t: (ours.get(t), binance[t]) for t in trade_nos if ours.get(t) != binance[t]}

    attempts = [a for n in log for a in n["log"]]
    while_down = [
        a for a in attempts if a["at"] >= down_ms and a["at"] + (a["durationMs"] or 0) <= up_ms
    ]
    # Binance saw SUCCESS for these: each must have its stored event.
    accepted_not_stored = [
        n["merchantTradeNo"]
        for n in log
        if n["state"] == "delivered" and n["merchantTradeNo"] not in stored
    ]
    retried_then_accepted = sum(
        1
        for n in log
        if n["state"] == "delivered" and any(a["httpStatus"] != 200 for a in n["log"])
    )
    report(
        "database down (#20)",
        {
            "orders": ORDERS,
            "postgres_down_s": round((up_ms - down_ms) / 1000, 1),
            "migrate_s": migrated_in,
            "deliveries_attempted": len(attempts),
            "attempts_while_down": dict(Counter(str(a["httpStatus"]) for a in while_down)),
            "answer_while_down": ms([(a["durationMs"] or 0) / 1000 for a in while_down]),
            "webhooks_delivered": sum(1 for n in log if n["state"] == "delivered"),
            "webhooks_delivered_after_a_retry": retried_then_accepted,
            "webhooks_given_up_by_binance": sum(1 for n in log if n["state"] == "failed"),
            "answered_200_without_stored_event": len(accepted_not_stored),
            "events_by_status": events,
            "reconciliation": outcome,
            "paid_transitions_by_source": by_source,
            "orders_with_wrong_status": len(wrong),
            "orders_paid_twice": sum(1 for n in paid_transitions.values() if n > 1),
        },
    )
    assert api_while_down == (503, "5", "database_unavailable"), processes.tail()
    assert finished, processes.tail()
    assert processed, (events, processes.tail())
    assert len(while_down) >= size(20, 1000), "too few deliveries fell in the outage"
    assert not [a for a in while_down if a["httpStatus"] == 200], while_down
    assert accepted_not_stored == []
    assert all(a["durationMs"] is not None and a["durationMs"] < 3000 for a in while_down)
    assert retried_then_accepted >= 1  # a failed delivery, retried after recovery, was accepted
    # Some payments' deliveries all fell in the outage: reconciliation found them.
    assert sum(1 for n in log if n["state"] == "failed") >= 1
    assert outcome.get("changed", 0) >= 1
    assert wrong == {}, wrong
    assert set(binance.values()) == {"PAID"}
    assert len(paid_transitions) == ORDERS and set(paid_transitions.values()) == {1}
