"""Webhook intake under gunicorn on PostgreSQL and Redis: accepted webhooks/s and latency at
saturation (wrk), end-to-end receipt -> PAID at a steady 200 webhooks/s with a real worker, and
the loss/duplicate counts (docs/reliability.md#b5-load).

Set-up: PostgreSQL (DATABASE_URL, else a fresh `paysvc_bench_wh` database on the local server),
Redis (CELERY_BROKER_URL / REDIS_URL, else databases 11 and 12 of the local server, flushed
first). Orders are created in the database as Create Order would leave them; every delivery is a
distinct PAY_SUCCESS for one of them, signed beforehand with an RSA-4096 key (Binance's size) whose
certificate paysvc fetches from a stub of Query Certificates served by this process.

(a) Saturation: for each gunicorn configuration (BENCH_WH_CONFIGS, e.g. `sync:3,gthread:2x4`)
    wrk (Debian's, with a Lua script reading the pre-signed requests) sends for BENCH_WH_SECONDS
    over BENCH_WH_CONNECTIONS keep-alive connections, with no worker running. Reported: accepted
    (200 SUCCESS) per second, wrk's latency percentiles, and the CPU each request cost in
    gunicorn, PostgreSQL, Redis and wrk (from /proc), with the machine's CPU use.
(b) A worker (BENCH_WH_WORKER_POOL x BENCH_WH_WORKER_CONCURRENCY, prefork x 2 by default)
    first drains (a)'s backlog (its rate is reported), then the best configuration gets paced
    webhooks from an open-loop sender: BENCH_WH_LOW_RATE/s (default half the worker's drain
    rate) for BENCH_WH_LOW_SECONDS, then BENCH_WH_RATE (200)/s for BENCH_WH_STEADY_SECONDS.
    Per phase: ack latency, and end-to-end time from the event's received_at to the order's
    PAID status change (its OrderEvent's created_at).
(c) Every delivery answered 200 has its stored event (counts per phase), every event ends
    processed, and every order has exactly one PAID transition.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_ROOT,
    base_env,
    bench_database,
    free_port,
    process,
    process_cpu,
    process_tree,
    processes_named,
    progress,
    report,
    summary_ms,
    wait_for_url,
)

CONFIGS = os.environ.get("BENCH_WH_CONFIGS", "sync:2,sync:3,gthread:2x4,gthread:3x2")
SECONDS = float(os.environ.get("BENCH_WH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("BENCH_WH_CONNECTIONS", "8"))
RATE = float(os.environ.get("BENCH_WH_RATE", "200"))
STEADY_SECONDS = float(os.environ.get("BENCH_WH_STEADY_SECONDS", "60"))
# A second paced phase below the worker's capacity (default: half its measured drain rate).
LOW_RATE = float(os.environ.get("BENCH_WH_LOW_RATE", "0"))
LOW_SECONDS = float(os.environ.get("BENCH_WH_LOW_SECONDS", "20"))
WORKER_POOL = os.environ.get("BENCH_WH_WORKER_POOL", "prefork")
WORKER_CONCURRENCY = os.environ.get("BENCH_WH_WORKER_CONCURRENCY", "2")
LOG_LEVEL = os.environ.get("BENCH_WH_LOG_LEVEL", "WARNING")
# Deliveries signed for the first configuration: enough for this rate during SECONDS.
FIRST_RATE_GUESS = 2000.0
WARMUP = 100
WEBHOOK_PATH = "/webhooks/binance-pay/"
API_KEY = "b" * 64
API_SECRET = "bench-webhooks-secret-0123456789-abcdefghijklmnopqrstuvwxyzABCD"  # noqa: S105
SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'

WRK_SCRIPT = r"""
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  local nthreads, file, host = tonumber(args[1]), args[2], args[3]
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid - 1 then
      local ts, nonce, sn, sig, body =
        line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
      reqs[#reqs + 1] = wrk.format("POST", nil, {
        ["Host"] = host,
        ["Content-Type"] = "application/json; charset=utf-8",
        ["BinancePay-Timestamp"] = ts,
        ["BinancePay-Nonce"] = nonce,
        ["BinancePay-Certificate-SN"] = sn,
        ["BinancePay-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  n, ok, bad, ran_out = 0, 0, 0, 0
end

function request()
  n = n + 1
  if n > #reqs then
    -- Out of distinct deliveries: stop this thread (a repeat would be a duplicate).
    ran_out = 1
    wrk.thread:stop()
    return reqs[#reqs]
  end
  return reqs[n]
end

function response(status, headers, body)
  if status == 200 and body == '{"returnCode":"SUCCESS","returnMessage":null}' then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local ok_t, bad_t, out_t = 0, 0, 0
  for _, t in ipairs(threads) do
    ok_t = ok_t + t:get("ok")
    bad_t = bad_t + t:get("bad")
    out_t = out_t + t:get("ran_out")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"ran_out":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,' ..
    '"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, ok_t, bad_t, out_t, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""

# Run in `manage.py shell` (the bench's environment): database work without a second settings.
CREATE_ORDERS = """
import datetime as dt, json
from decimal import Decimal
from django.utils import timezone
from clients.models import ClientApplication
from orders.models import Order
rows = json.load(open("{path}"))
app, _ = ClientApplication.objects.get_or_create(name="bench-webhooks")
expire = timezone.now() + dt.timedelta(hours=2)
Order.objects.bulk_create(
    [Order(application=app, merchant_trade_no=mtn, prepay_id=pid, terminal_type="WEB",
           order_amount=Decimal("25.17"), currency="USDT", total_fee=Decimal("25.17"),
           create_state="created", status="INITIAL", expire_time=expire,
           goods={{"goodsType": "02", "goodsName": "Ice Cream"}}, env={{"terminalType": "WEB"}})
     for mtn, pid in rows],
    batch_size=2000,
)
print("CREATED", len(rows))
"""

FIGURES = """
import json
from collections import Counter
from django.db.models import Count, Min
from orders.models import Order, OrderEvent
from webhooks.models import WebhookEvent
phases = json.load(open("{path}"))
out = {{"events_by_status": dict(Counter(WebhookEvent.objects.values_list("status", flat=True)))}}
paid = dict(
    OrderEvent.objects.filter(kind="status_change", to_status__in=["PAID", "PAID_AFTER_CLOSE"])
    .values_list("order__merchant_trade_no").annotate(n=Count("id"), at=Min("created_at"))
    .values_list("order__merchant_trade_no", "n")
)
out["orders"] = Order.objects.count()
out["orders_paid"] = Order.objects.filter(status="PAID").count()
out["orders_with_one_paid_transition"] = sum(1 for n in paid.values() if n == 1)
out["orders_with_several_paid_transitions"] = sum(1 for n in paid.values() if n > 1)
for name, trade_nos in phases.items():
    out["stored_" + name] = WebhookEvent.objects.filter(merchant_trade_no__in=trade_nos).count()
out["e2e_seconds"] = {{}}
for name in ("steady_low", "steady"):
    trade_nos = phases.get(name, [])
    received = dict(
        WebhookEvent.objects.filter(merchant_trade_no__in=trade_nos)
        .values_list("merchant_trade_no", "received_at")
    )
    paid_at = dict(
        OrderEvent.objects.filter(
            kind="status_change", to_status="PAID", order__merchant_trade_no__in=trade_nos
        ).values_list("order__merchant_trade_no", "created_at")
    )
    out["e2e_seconds"][name] = [
        (paid_at[t] - received[t]).total_seconds()
        for t in trade_nos if t in paid_at and t in received
    ]
print("FIGURES " + json.dumps(out))
"""


# -- environment ----------------------------------------------------------------------------------


def redis_urls() -> tuple[str, str, bool]:
    """(broker, cache, owned): the given URLs, else databases 11 and 12 of the local Redis."""
    broker = os.environ.get("CELERY_BROKER_URL")
    cache = os.environ.get("REDIS_URL")
    if broker and cache:
        return broker, cache, False
    return broker or "redis://127.0.0.1:6379/11", cache or "redis://127.0.0.1:6379/12", True


def flush_redis(*urls: str) -> None:
    import redis

    for url in urls:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()


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


def shell(env: dict[str, str], script: str, marker: str) -> str:
    out = manage(env, "shell", "-c", script)
    return out.split(marker + " ", 1)[1].splitlines()[0]


class CertificateStub:
    """Binance's Query Certificates for the bench key, on a loopback port of this process."""

    def __init__(self, serial: str, pem: str) -> None:
        payload = json.dumps(
            {
                "status": "SUCCESS",
                "code": "000000",
                "data": [{"certSerial": serial, "certPublic": pem}],
                "errorMessage": "",
            }
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- deliveries -----------------------------------------------------------------------------------

_KEY: Any = None
_SERIAL = ""


def _init_signer(pem: bytes, serial: str) -> None:
    global _KEY, _SERIAL
    from cryptography.hazmat.primitives import serialization

    _KEY = serialization.load_pem_private_key(pem, password=None)
    _SERIAL = serial


def _body(trade_no: str, prepay_id: str) -> str:
    """PAY_SUCCESS as Binance sends it (docs/binance-pay.md#webhook-envelope): `data` is a JSON
    string."""
    data = (
        f'{{"merchantTradeNo":"{trade_no}","productType":"02","productName":"Ice Cream",'
        f'"transactTime":{int(time.time() * 1000)},"tradeType":"WEB","totalFee":25.17000000,'
        '"currency":"USDT","transactionId":"M_P_219129203579346945",'
        '"openUserId":"f36fae12c2b40cdbc9ee6ed5402638e0","commission":0,'
        '"paymentInfo":{"payerId":158292251,"payMethod":"funding","paymentInstructions":'
        '[{"currency":"USDT","amount":25.17000000,"price":1}],"channel":"DEFAULT"}}'
    )
    return (
        '{"bizType":"PAY","data":' + json.dumps(data, separators=(",", ":")) + ","
        f'"bizIdStr":"{prepay_id}","bizId":{prepay_id},"bizStatus":"PAY_SUCCESS"}}'
    )


def _sign(item: tuple[str, str]) -> str:
    """One line `ts TAB nonce TAB serial TAB signature TAB body`
    (docs/binance-pay.md#webhook-signature)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = _body(*item)
    ts = str(int(time.time() * 1000))
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    payload = f"{ts}\n{nonce}\n{body}\n".encode()
    signature = base64.b64encode(_KEY.sign(payload, padding.PKCS1v15(), hashes.SHA256()))
    return f"{ts}\t{nonce}\t{_SERIAL}\t{signature.decode()}\t{body}"


class Deliveries:
    """Creates orders and signs one distinct PAY_SUCCESS delivery for each, in batches."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.env, self.tmp = env, tmp
        key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        self.pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
            .rstrip("\n")
        )
        self.serial = hashlib.md5(self.public_pem.encode(), usedforsecurity=False).hexdigest()
        self.serial = self.serial.upper()
        self._prepay_ids: set[str] = set()
        self._pool = multiprocessing.get_context("fork").Pool(
            os.cpu_count() or 2, initializer=_init_signer, initargs=(self.pem, self.serial)
        )
        self.batches = 0

    def make(self, n: int, label: str) -> tuple[Path, list[str]]:
        """A file of ``n`` signed deliveries for ``n`` new orders; their merchantTradeNos."""
        rows = []
        for _ in range(n):
            prepay_id = str(random.randint(10**17, 10**18 - 1))
            while prepay_id in self._prepay_ids:
                prepay_id = str(random.randint(10**17, 10**18 - 1))
            self._prepay_ids.add(prepay_id)
            rows.append((uuid.uuid4().hex, prepay_id))
        self.batches += 1
        orders_file = self.tmp / f"orders-{self.batches}.json"
        orders_file.write_text(json.dumps(rows))
        shell(self.env, CREATE_ORDERS.format(path=orders_file), "CREATED")
        started = time.monotonic()
        lines = self._pool.map(_sign, rows, chunksize=200)
        sys.stderr.write(f"{label}: signed {n} deliveries in {time.monotonic() - started:.1f} s\n")
        path = self.tmp / f"deliveries-{self.batches}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path, [mtn for mtn, _ in rows]

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


def read_lines(path: Path) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for line in path.read_text().splitlines():
        ts, nonce, serial, signature, body = line.split("\t", 4)
        out.append(
            (
                body.encode(),
                {
                    "BinancePay-Timestamp": ts,
                    "BinancePay-Nonce": nonce,
                    "BinancePay-Certificate-SN": serial,
                    "BinancePay-Signature": signature,
                },
            )
        )
    return out


# -- CPU accounting (/proc) -----------------------------------------------------------------------


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds used between start() and stop() by gunicorn's tree and by the servers."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.gunicorn_pid = gunicorn_pid

    def _sample(self) -> dict[str, float]:
        return {
            "gunicorn": sum(process_cpu(p) for p in process_tree(self.gunicorn_pid)),
            "postgres": sum(process_cpu(p) for p in processes_named("postgres")),
            "redis": sum(process_cpu(p) for p in processes_named("redis-server")),
        }

    def start(self) -> None:
        self.before = self._sample()
        self.machine_before = _machine_busy()

    def stop(self, extra: dict[str, float] | None = None) -> dict[str, float]:
        after = self._sample()
        busy, total = _machine_busy()
        used = {k: after[k] - self.before[k] for k in after}
        used.update(extra or {})
        used["machine_busy_pct"] = round(
            100 * (busy - self.machine_before[0]) / max(1, total - self.machine_before[1]), 1
        )
        return used


# -- load -----------------------------------------------------------------------------------------


def gunicorn_argv(port: int, config: str, app: str = "paysvc.wsgi") -> list[str]:
    kind, _, size = config.partition(":")
    workers, _, threads = size.partition("x")
    argv = [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", workers, "--worker-class", kind, "--backlog", "2048", "--timeout", "30",
        "--keep-alive", "5",
    ]  # fmt: skip
    if threads:
        argv += ["--threads", threads]
    return argv


def run_wrk(url: str, deliveries: Path, tmp: Path) -> tuple[dict[str, Any], float]:
    """wrk for SECONDS (one thread, CONNECTIONS connections); its figures and its CPU time."""
    script = tmp / "webhooks.lua"
    script.write_text(WRK_SCRIPT)
    host = url.split("//", 1)[1].split("/", 1)[0]
    argv = [
        "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS:g}s", "--timeout", "5s", "-s",
        str(script), url, "--", "1", str(deliveries), host,
    ]  # fmt: skip
    out = subprocess.run(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    ).stdout
    cpu = _children_cpu()  # wrk is the only child waited for since the meter started
    match = re.search(r"WRKJSON (\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk failed:\n{out}")
    return json.loads(match.group(1)), cpu


_children_before = 0.0


def _children_cpu() -> float:
    """CPU of waited-for children since the last call (wrk's, when it is the only one)."""
    global _children_before
    usage = os.times()
    total = usage.children_user + usage.children_system
    used, _children_before = total - _children_before, total
    return used


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        sys.stderr.write("installing Debian's wrk\n")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
            check=True,
            env=env,
        )
    if not shutil.which("wrk"):
        raise SystemExit("bench webhooks needs wrk (apt-get install wrk)")


class PacedSender:
    """Open loop: delivery i is sent at t0 + i / rate from a pool of keep-alive connections."""

    def __init__(
        self,
        url: str,
        deliveries: list[tuple[bytes, dict[str, str]]],
        rate: float,
        label: str = "",
    ) -> None:
        self.host, self.port = url.split("//", 1)[1].split(":")
        self.deliveries, self.rate = deliveries, rate
        self.label = label or f"paced {rate:g}/s"
        self.answers: list[tuple[int, int | None, bytes, float]] = []
        self._next = 0
        self._lock = threading.Lock()

    def run(self, threads: int = 64) -> float:
        self.t0 = time.monotonic()
        workers = [threading.Thread(target=self._run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        total = len(self.deliveries) / self.rate
        while any(w.is_alive() for w in workers):
            progress(int(time.monotonic() - self.t0), total, self.t0, self.label)
            time.sleep(0.5)
        sys.stderr.write("\n")
        return time.monotonic() - self.t0

    def _run(self) -> None:
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        while True:
            with self._lock:
                index, self._next = self._next, self._next + 1
            if index >= len(self.deliveries):
                break
            time.sleep(max(0.0, self.t0 + index / self.rate - time.monotonic()))
            body, headers = self.deliveries[index]
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    WEBHOOK_PATH,
                    body=body,
                    headers={"Content-Type": "application/json; charset=utf-8", **headers},
                )
                response = conn.getresponse()
                status, content = response.status, response.read()
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                status, content = None, b""
                conn.close()
            with self._lock:
                self.answers.append((index, status, content, time.perf_counter() - started))
        conn.close()


# -- the benchmark --------------------------------------------------------------------------------


def main() -> None:
    ensure_wrk()
    db_url, fresh = bench_database("paysvc_bench_wh")
    broker_url, cache_url, owned = redis_urls()
    if owned:
        flush_redis(broker_url, cache_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    env = base_env(
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throwaway bench value
        DATABASE_URL=db_url,
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=cache_url,
        BINANCE_PAY_API_KEY=API_KEY,
        BINANCE_PAY_SECRET_KEY=API_SECRET,
        BINANCE_PAY_WEBHOOK_URL="",
        LOG_LEVEL=LOG_LEVEL,
        PAYSVC_VAR_DIR=str(tmp / "var"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    env.pop("CELERY_BROKER_WRITE_URL", None)
    manage(env, "migrate", "--noinput", "-v", "0")
    deliveries = Deliveries(env, tmp)
    stub = CertificateStub(deliveries.serial, deliveries.public_pem)
    env["BINANCE_PAY_BASE_URL"] = stub.url
    phases: dict[str, list[str]] = {}
    saturation: dict[str, Any] = {}
    best: tuple[float, str] = (0.0, "")
    try:
        # Sent once to the first gunicorn (stored), then again to warm up each new one (workers
        # booted, certificates fetched, connections open): duplicates, answered 200, not stored.
        warmup_path, phases["warmup"] = deliveries.make(WARMUP, "warm-up")
        warmup = read_lines(warmup_path)
        for config in [c.strip() for c in CONFIGS.split(",") if c.strip()]:
            guess = FIRST_RATE_GUESS if not best[1] else best[0] * 1.6
            path, trade_nos = deliveries.make(int(guess * SECONDS) + 200, config)
            phases[f"saturation_{config}"] = trade_nos
            # The floor (bench/intake_floor.py) right before paysvc, same configuration, same
            # kind of deliveries: the ratio is what paysvc's extra work costs.
            floor_path, _ = deliveries.make(int(guess * 1.3 * SECONDS) + 200, f"floor {config}")
            floor = run_floor(config, env, deliveries.public_pem, floor_path, tmp, warmup)
            saturation[config] = run_config(config, env, path, tmp, warmup, phases)
            saturation[config]["floor"] = floor
            saturation[config]["ratio_to_floor"] = round(
                saturation[config]["accepted_per_s"] / max(0.1, floor["accepted_per_s"]), 3
            )
            sys.stderr.write(
                f"{config}: paysvc {saturation[config]['accepted_per_s']}/s, floor "
                f"{floor['accepted_per_s']}/s, ratio {saturation[config]['ratio_to_floor']}\n"
            )
            rate = saturation[config]["accepted_per_s"]
            if rate > best[0]:
                best = (rate, config)
        steady = run_steady(best[1], env, deliveries, tmp, phases, warmup)
    finally:
        deliveries.close()
        stub.close()
    phases_file = tmp / "phases.json"
    phases_file.write_text(json.dumps(phases))
    figures = json.loads(shell(env, FIGURES.format(path=phases_file), "FIGURES"))
    e2e = figures.pop("e2e_seconds")
    # wrk stops at its deadline without reading the answers still in flight (at most one per
    # connection): those events are stored but not counted as accepted.
    integrity: dict[str, Any] = {}
    for name in [n for n in phases if not n.endswith("_accepted")]:
        stored = figures.pop(f"stored_{name}")
        if f"{name}_accepted" in phases:
            # Exact: each delivery answered 200 must have its own event.
            accepted = len(phases[f"{name}_accepted"])
            missing = accepted - figures.pop(f"stored_{name}_accepted")
        else:
            accepted = saturation[name.removeprefix("saturation_")]["accepted"]
            missing = max(0, accepted - stored)
        integrity[name] = {
            "answered_200": accepted,
            "stored": stored,
            "answered_200_without_stored_event": missing,
            "stored_but_answer_unread_when_wrk_stopped": max(0, stored - accepted),
        }
    for name, result in steady["phases"].items():
        result["end_to_end_received_to_paid"] = summary_ms(e2e.get(name, []))
    report(
        "webhook_intake",
        {
            "what": "POST /webhooks/binance-pay/ (RSA-4096-signed PAY_SUCCESS) under gunicorn",
            "targets": "(a) >= 0.9x the floor's accepted/s (bench/intake_floor.py, same run, "
            "same gunicorn configuration), >= 800 accepted/s, p99 <= 50 ms at saturation; "
            "(b) e2e p99 <= 1 s at 200/s; (c) 0 lost, 0 duplicated",
            "intake_vs_floor": {
                config: {
                    "paysvc_per_s": result["accepted_per_s"],
                    "floor_per_s": result["floor"]["accepted_per_s"],
                    "ratio": result["ratio_to_floor"],
                    "paysvc_gunicorn_cpu_ms": result["cpu_per_request"]["gunicorn_ms"],
                    "floor_gunicorn_cpu_ms": result["floor"]["cpu_per_request"]["gunicorn_ms"],
                    # Less sensitive to other load on the machine than the rates: what one
                    # delivery costs in gunicorn + PostgreSQL + Redis, floor over paysvc.
                    "cpu_ratio": round(
                        _server_cpu(result["floor"]) / max(1e-6, _server_cpu(result)), 3
                    ),
                }
                for config, result in saturation.items()
            },
            "database": "PostgreSQL 127.0.0.1 (fresh paysvc_bench_wh)" if fresh else "DATABASE_URL",
            "redis": f"broker {broker_url}, cache {cache_url}",
            "cpus": os.cpu_count(),
            "log_level": LOG_LEVEL,
            "saturation": {
                "load": f"wrk 1 thread x {CONNECTIONS} keep-alive connections, {SECONDS:g} s, "
                "no worker running",
                **saturation,
            },
            "best_config": best[1],
            "steady": steady,
            "checks": {"per_phase": integrity, **figures},
        },
    )


def warm_up(url: str, warmup: list[tuple[bytes, dict[str, str]]], phases: dict[str, Any]) -> None:
    sender = PacedSender(url, warmup, 200.0, label="warm-up")
    sender.run(threads=8)
    if "warmup_accepted" not in phases:  # the first time: stored
        trade_nos = phases["warmup"]
        phases["warmup_accepted"] = [
            trade_nos[a[0]] for a in sender.answers if a[1] == 200 and a[2] == SUCCESS
        ]


def _server_cpu(figures: dict[str, Any]) -> float:
    cpu = figures["cpu_per_request"]
    return float(cpu["gunicorn_ms"] + cpu["postgres_ms"] + cpu["redis_ms"])


def floor_count(env: dict[str, str]) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.intake_floor", "count"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(out.split("FLOOR ", 1)[1].splitlines()[0])


def run_floor(
    config: str,
    env: dict[str, str],
    pem: str,
    path: Path,
    tmp: Path,
    warmup: list[tuple[bytes, dict[str, str]]],
) -> dict[str, Any]:
    """The floor view under the same gunicorn configuration; every 200 checked against its row."""
    env = {**env, "BENCH_FLOOR_PEM": pem}
    subprocess.run(
        [sys.executable, "-m", "bench.intake_floor", "setup"], cwd=REPO_ROOT, env=env, check=True
    )
    app = "bench.intake_floor:application"
    figures = run_config(config, env, path, tmp, warmup, {"warmup_accepted": []}, app=app)
    counts = floor_count(env)
    accepted = figures["accepted"]
    figures["checks"] = {
        **counts,
        # Warm-up deliveries are stored too (the table is new): at most WARMUP of them.
        "answered_200_without_stored_row": max(0, accepted - (counts["stored"])),
        "stored_but_not_queued": counts["stored"] - counts["queued"],
    }
    return figures


def run_config(
    config: str,
    env: dict[str, str],
    path: Path,
    tmp: Path,
    warmup: list[tuple[bytes, dict[str, str]]],
    phases: dict[str, Any],
    app: str = "paysvc.wsgi",
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    log = tmp / f"gunicorn-{config}-{app.split('.')[0]}.log"
    with process(gunicorn_argv(port, config, app), env, log) as web:
        wait_for_url(f"http://127.0.0.1:{port}/healthz")
        warm_up(f"http://127.0.0.1:{port}", warmup, phases)
        meter = CpuMeter(web.pid)
        _children_cpu()
        meter.start()
        result, wrk_cpu = run_wrk(url, path, tmp)
        cpu = meter.stop({"wrk": wrk_cpu})
    seconds = result["duration_us"] / 1e6
    accepted = result["ok"]
    per_request = {
        f"{name}_ms": round(1000 * used / max(1, result["requests"]), 3)
        for name, used in cpu.items()
        if name != "machine_busy_pct"
    }
    figures = {
        "accepted": accepted,
        "accepted_per_s": round(accepted / seconds, 1),
        "not_accepted": result["bad"],
        "socket_errors": {
            k: result[k]
            for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            if result[k]
        },
        "ran_out_of_deliveries": bool(result["ran_out"]),
        "latency_ms": {
            "p50": round(result["p50_us"] / 1000, 2),
            "p90": round(result["p90_us"] / 1000, 2),
            "p99": round(result["p99_us"] / 1000, 2),
            "max": round(result["max_us"] / 1000, 2),
        },
        "cpu_per_request": per_request,
        "machine_busy_pct": cpu["machine_busy_pct"],
    }
    sys.stderr.write(f"{config}: {json.dumps(figures)}\n")
    return figures


def run_steady(
    config: str,
    env: dict[str, str],
    deliveries: Deliveries,
    tmp: Path,
    phases: dict[str, Any],
    warmup: list[tuple[bytes, dict[str, str]]],
) -> dict[str, Any]:
    """The best configuration with a worker: drain the backlog, then paced phases."""
    import redis

    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"], socket_timeout=5)

    def waiting() -> int:
        return int(broker.llen("celery")) + int(broker.hlen("unacked"))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    worker_argv = [
        sys.executable, "-m", "celery", "-A", "paysvc", "worker", "-l", "WARNING",
        "--pool", WORKER_POOL, "--concurrency", WORKER_CONCURRENCY, "-n", "bench-webhooks@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    results: dict[str, Any] = {}
    with (
        process(gunicorn_argv(port, config), env, tmp / "gunicorn-steady.log"),
        process(worker_argv, env, tmp / "worker.log"),
    ):
        wait_for_url(url + "/healthz")
        warm_up(url, warmup, phases)
        # The worker first drains the saturation phases' backlog: its own throughput.
        backlog = waiting()
        started = time.monotonic()
        while waiting() > 0:
            progress(backlog - waiting(), backlog, started, "worker drain")
            time.sleep(0.5)
        drained_s = time.monotonic() - started
        sys.stderr.write("\n")
        drain_rate = backlog / drained_s if drained_s else 0.0
        # Below what the worker sustains (half its drain rate): latency without a backlog.
        low_rate = LOW_RATE or max(5.0, 5 * round(drain_rate / 2 / 5))
        for name, rate, seconds in (
            ("steady_low", low_rate, LOW_SECONDS),
            ("steady", RATE, STEADY_SECONDS),
        ):
            path, trade_nos = deliveries.make(int(rate * seconds), name)
            phases[name] = trade_nos
            sender = PacedSender(url, read_lines(path), rate)
            elapsed = sender.run()
            sent_at = time.monotonic()
            deadline = sent_at + 900
            while waiting() and time.monotonic() < deadline:
                time.sleep(0.2)
            caught_up = time.monotonic() - sent_at
            time.sleep(1.0)
            answers = sender.answers
            ok = [a for a in answers if a[1] == 200 and a[2] == SUCCESS]
            phases[f"{name}_accepted"] = [trade_nos[a[0]] for a in ok]
            results[name] = {
                "rate_per_s": rate,
                "seconds": seconds,
                "sent": len(answers),
                "achieved_per_s": round(len(answers) / elapsed, 1),
                "accepted": len(ok),
                "not_accepted": len(answers) - len(ok),
                "ack_latency": summary_ms([a[3] for a in answers]),
                "worker_caught_up_s_after_last_send": round(caught_up, 1),
            }
    return {
        "config": config,
        "worker": f"celery {WORKER_POOL} x {WORKER_CONCURRENCY}",
        "worker_drain": {
            "backlog_tasks": backlog,
            "seconds": round(drained_s, 1),
            "tasks_per_s": round(drain_rate, 1),
        },
        "phases": results,
    }


if __name__ == "__main__":
    main()
