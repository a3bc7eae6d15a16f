"""Signed Create Order v2 calls per second against the sandbox (target: at least 500/s).

Starts `python -m sandbox serve` (its default 2 gunicorn workers x 8 threads) on a free loopback
port with a fresh database, then several client processes, each with keep-alive connections on
threads, sign and send Create Order calls for a fixed time. Every call is a new order (a new
merchantTradeNo, nonce and signature); only answers with status SUCCESS count.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import base_env, free_port, process, progress, report, summary_ms, wait_for_url

API_KEY = "b" * 64
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"  # noqa: S105
DURATION_S = float(os.environ.get("BENCH_SECONDS", "15"))
PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "3"))
THREADS = int(os.environ.get("BENCH_CLIENT_THREADS", "8"))


def signed(body: bytes) -> dict[str, str]:
    ts = str(time.time_ns() // 1_000_000)
    nonce = uuid.uuid4().hex
    payload = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    signature = hmac.new(SECRET.encode(), payload, hashlib.sha512).hexdigest().upper()
    return {
        "Content-Type": "application/json",
        "BinancePay-Timestamp": ts,
        "BinancePay-Nonce": nonce,
        "BinancePay-Certificate-SN": API_KEY,
        "BinancePay-Signature": signature,
    }


def order_body() -> bytes:
    return json.dumps(
        {
            "env": {"terminalType": "WEB"},
            "merchantTradeNo": uuid.uuid4().hex,
            "orderAmount": "25.17",
            "currency": "USDT",
            "goods": {
                "goodsType": "02",
                "goodsCategory": "Z000",
                "referenceGoodsId": "sku001",
                "goodsName": "Ice Cream",
            },
        },
        separators=(",", ":"),
    ).encode()


def client_thread(port: int, deadline: float, latencies: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < deadline:
        body = order_body()
        started = time.perf_counter()
        try:
            conn.request("POST", "/binancepay/openapi/v2/order", body=body, headers=signed(body))
            response = conn.getresponse()
            answer = json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        if answer.get("status") == "SUCCESS":
            latencies.append(time.perf_counter() - started)
        else:
            errors.append(str(answer.get("code")))
    conn.close()


def client_process(port: int, deadline: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=client_thread, args=(port, deadline, latencies, errors))
        for _ in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors))


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(
            SANDBOX_PORT=str(port),
            SANDBOX_DB_PATH=str(Path(tmp) / "sandbox.sqlite3"),
            SANDBOX_API_KEY=API_KEY,
            SANDBOX_SECRET_KEY=SECRET,
            SANDBOX_RSA_KEY_SIZE="2048",  # the key is not used by this benchmark
        )
        argv = [sys.executable, "-m", "sandbox", "serve"]
        with process(argv, env, Path(tmp) / "sandbox.log"):
            wait_for_url(f"http://127.0.0.1:{port}/sandbox/health")
            started = time.monotonic()
            deadline = started + DURATION_S
            queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
            procs = [
                mp.Process(target=client_process, args=(port, deadline, queue))
                for _ in range(PROCESSES)
            ]
            for p in procs:
                p.start()
            while time.monotonic() < deadline:
                progress(int(time.monotonic() - started), DURATION_S, started, "sandbox")
                time.sleep(0.5)
            results = [queue.get() for _ in procs]
            for p in procs:
                p.join()
            sys.stderr.write("\n")
    latencies = [x for lats, _ in results for x in lats]
    errors = [e for _, errs in results for e in errs]
    report(
        "sandbox_create",
        {
            "what": "signed Create Order v2 calls/s against the sandbox",
            "target_per_s": 500,
            "duration_s": DURATION_S,
            "clients": f"{PROCESSES} processes x {THREADS} keep-alive connections",
            "orders_created": len(latencies),
            "orders_per_s": round(len(latencies) / DURATION_S, 1),
            "errors": len(errors),
            "error_kinds": sorted(set(errors))[:10],
            "latency": summary_ms(latencies),
            "cpus": os.cpu_count(),
        },
    )


if __name__ == "__main__":
    main()
