"""Fault injection on one machine (docs/reliability.md#b3-durability): private servers, live
processes, paced load.

Everything a fault test breaks is its own: a redis-server or a PostgreSQL cluster started by the
test on a spare loopback port (never the shared ones on 5432/6379), and paysvc processes (gunicorn,
a prefork Celery worker, beat) each in their own process group, so that a test can SIGKILL a whole
worker and its pool and clean up everything it started, and nothing else. Binance is reduced to
what the intake needs: a stub of Query Certificates serving the test key, so that the receiver
trusts the deliveries the test signs. The processes use ``tests.faults.settings`` (production
settings, with beat running only the webhook sweeper, every 2 s).

Counts are read from the database. Figures are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.factories import ApplicationFactory, OrderFactory
from tests.live import REPO_ROOT, free_port, wait_until
from tests.soak import record
from tests.webhooks.factories import Signer

SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'
API_KEY = "k" * 32 + "fa017e57fa017e57fa017e57fa017e57"
API_SECRET = "paysvc-fault-tests-secret-0123456789-ABCDEFGHIJKLMNOPQRSTUVWX"
SETTINGS = "tests.faults.settings"
SWEEP_SECONDS = 5.0  # beat's sweeper interval in these tests (production: 30 s); shorter
# intervals let a loaded CI machine miss whole sweeps (each sweep task expires after one interval)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


# -- processes ------------------------------------------------------------------------------------


class Proc:
    """A child process in a process group of its own (it and everything it forks)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        restart: bool = False,
    ) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.groups: list[int] = []  # every process group it had (one per (re)start)
        # ``restart``: start it again when it exits by itself, as docker-compose's
        # ``restart: unless-stopped`` does for the worker in production.
        self.restart = restart
        self.restarts = 0
        self._stopping = False
        self._watcher: threading.Thread | None = None

    def start(self) -> Proc:
        self._spawn()
        if self.restart and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True)
            self._watcher.start()
        return self

    def _spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches its children
            )
        self.groups.append(self.proc.pid)

    def _watch(self) -> None:
        while not self._stopping:
            proc = self.proc
            if proc is not None and proc.poll() is not None and not self._stopping:
                # What it left behind (pool processes of a crashed main) goes with it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                time.sleep(1.0)
                if not self._stopping:
                    self.restarts += 1
                    self._spawn()
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        """Direct children (e.g. a prefork worker's pool processes)."""
        pids: list[int] = []
        for path in glob.glob(f"/proc/{self.pid}/task/*/children"):
            try:
                pids += [int(p) for p in Path(path).read_text().split()]
            except OSError:
                continue
        return sorted(set(pids))

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group at once (a container kill when SIGKILL: not restarted)."""
        assert self.proc is not None
        if sig == signal.SIGKILL:
            self._stopping = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            self.proc.wait()

    def terminate(self, timeout: float = 60.0) -> tuple[int | None, float]:
        """Stop it as an orchestrator does (``docker stop``, systemd): SIGTERM to the main
        process only, which shuts down gracefully (gunicorn finishes its requests, Celery's warm
        shutdown its tasks), and wait. Not restarted. (exit code or None if it outlived
        ``timeout``, seconds it took)."""
        assert self.proc is not None
        self._stopping = True
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        return self.proc.poll(), round(time.monotonic() - started, 2)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.join()
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        # Whatever is left in its groups (a hung main, orphaned pool children) goes too.
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait()


class Processes:
    """Starts paysvc processes for one test; stops all of them at the end, newest first."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Proc] = []
        self._count: Counter[str] = Counter()
        self._lock = threading.Lock()  # a test may start processes from several threads
        self._workers_named = 0

    def start(
        self, name: str, argv: list[str], env: dict[str, str], *, restart: bool = False
    ) -> Proc:
        with self._lock:
            self._count[name] += 1
            log_path = self.logs / f"{name}-{self._count[name]}.log"
            proc = Proc(name, argv, env, log_path, restart=restart)
            self.started.append(proc)
        return proc.start()

    def web(
        self, env: dict[str, str], *, workers: int = 2, threads: int = 8, port: int | None = None
    ) -> str:
        port = port or free_port()
        self.web_process(env, workers=workers, threads=threads, port=port)
        return f"http://127.0.0.1:{port}"

    def web_process(
        self,
        env: dict[str, str],
        *,
        port: int,
        workers: int = 2,
        threads: int = 8,
        reuse_port: bool = False,
        own_port: int | None = None,
    ) -> Proc:
        """gunicorn on ``port``, answering /healthz when this returns. ``reuse_port``: several
        instances listen on ``port`` at once (SO_REUSEPORT; the kernel spreads connections among
        them); ``own_port``: also on a port of its own, to reach this instance alone."""
        argv = [
            sys.executable, "-m", "gunicorn", "paysvc.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
            "--timeout", "30", "--graceful-timeout", "5",
        ]  # fmt: skip
        if reuse_port:
            argv.append("--reuse-port")
        if own_port is not None:
            argv += ["--bind", f"127.0.0.1:{own_port}"]
        proc = self.start("gunicorn", argv, env)
        _wait_for_http(f"http://127.0.0.1:{own_port or port}/healthz", proc)
        return proc

    def worker(self, env: dict[str, str], *, concurrency: int = 2) -> Proc:
        """A real prefork worker (acks_late, reject_on_worker_lost, prefetch 1: the settings),
        restarted when it exits by itself (docker-compose: ``restart: unless-stopped``)."""
        with self._lock:  # a node name of its own, even when started from several threads
            self._workers_named += 1
            n = self._workers_named
        argv = [
            sys.executable, "-m", "celery", "-A", "paysvc", "worker", "-l", "INFO",
            "--pool", "prefork", "--concurrency", str(concurrency), "-n", f"faults{n}@%h",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        proc = self.start("worker", argv, env, restart=True)
        ready = wait_until(lambda: " ready." in proc.log() or not proc.alive(), timeout=60)
        assert ready and proc.alive(), proc.log()[-3000:]
        return proc

    def beat(self, env: dict[str, str]) -> Proc:
        """Celery beat sending ``webhooks.sweep`` every SWEEP_SECONDS (tests.faults.settings)."""
        schedule = self.logs / f"beat-schedule-{self._count['beat'] + 1}"
        argv = [
            sys.executable, "-m", "celery", "-A", "paysvc", "beat", "-l", "INFO",
            "-s", str(schedule), "--max-interval", "1",
        ]  # fmt: skip
        proc = self.start("beat", argv, env)
        started = wait_until(lambda: "beat: Starting" in proc.log() or not proc.alive(), 60)
        assert started and proc.alive(), proc.log()[-3000:]
        return proc

    def sandbox(self, env: dict[str, str]) -> str:
        """``python -m sandbox serve`` (Binance); SANDBOX_PORT must be in ``env``."""
        proc = self.start("sandbox", [sys.executable, "-m", "sandbox", "serve"], env)
        url = f"http://127.0.0.1:{env['SANDBOX_PORT']}"
        _wait_for_http(url + "/sandbox/health", proc)
        return url

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()

    def tail(self, chars: int = 2500) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log()[-chars:]}" for p in self.started)


def _wait_for_http(url: str, proc: Proc, timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited before {url} answered:\n{proc.log()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes(logs)
    try:
        yield procs
    finally:
        procs.stop_all()


# -- a private Redis ------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a spare loopback port, without persistence: a restart loses its data."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip
        with open(self.workdir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        assert wait_until(self.answers, timeout=10), "private redis-server did not start"

    def answers(self) -> bool:
        try:
            return bool(self.client(timeout=0.5).ping())
        except Exception:
            return False

    def client(self, db: int = 0, timeout: float = 2.0) -> Any:
        import redis

        return redis.Redis(
            host="127.0.0.1", port=self.port, db=db, socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )  # fmt: skip

    def queued(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))

    def unacked(self) -> int:
        """Messages delivered to a consumer and not acknowledged yet (kombu's ``unacked``)."""
        return int(self.client().hlen("unacked"))

    def kill(self) -> None:
        """Crash it (SIGKILL): its data is gone, connections are refused until restarted."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    stop = kill

    def hang(self) -> None:
        """SIGSTOP: connections are still accepted (by the kernel), nothing is answered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("needs the redis-server binary for a private broker")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()


# -- a private PostgreSQL cluster -----------------------------------------------------------------


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb) on a spare loopback port, trust auth.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user and
    initdb/pg_ctl run through ``runuser``. Its directory is outside pytest's tmp_path, which is
    private to root (mode 0700), and is removed at the end.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="paysvc-faults-pg-"))
        self.data = self.dir / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [*self._as, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}"
            )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "--username=postgres",
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        # Durability settings stay at their defaults (fsync, synchronous_commit on): the tests
        # crash this server, and a commit it acknowledged must survive that, as in production.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.dir / "postgres.log"), "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: the server quits at once, like a crash; connections drop."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/{database}",
            autocommit=True,
            connect_timeout=3,
        )

    def log(self) -> str:
        try:
            return (self.dir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("needs PostgreSQL's initdb/pg_ctl for a private cluster")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root needs a 'postgres' user to own a private cluster")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# -- Binance, as far as the intake needs it -------------------------------------------------------


@pytest.fixture(scope="session")
def signer() -> Signer:
    """Binance's webhook key in these tests (RSA-2048: generating 4096 is slow)."""
    return Signer.generate()


@pytest.fixture(scope="session")
def cert_stub(signer: Signer) -> Iterator[str]:
    """Query Certificates (docs/binance-pay.md#query-certificates) serving ``signer``'s key; its
    base URL."""
    payload = json.dumps(
        {
            "status": "SUCCESS",
            "code": "000000",
            "data": [{"certSerial": signer.serial, "certPublic": signer.pem}],
            "errorMessage": "",
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/binancepay/openapi/certificates":
                status, body = 200, payload
            else:
                status, body = 404, b'{"status":"FAIL","code":"404","errorMessage":"stub"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def paysvc_env(
    *,
    database_url: str,
    broker_url: str,
    cache_url: str,
    binance_url: str,
    **extra: str,
) -> dict[str, str]:
    """The environment of a paysvc process in these tests: every dependency named explicitly,
    so that nothing reaches the shared PostgreSQL/Redis of the machine or of CI by accident."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PAYSVC_FAULTS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "PAYSVC_FAULTS_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "REDIS_URL": cache_url,
            "BINANCE_PAY_BASE_URL": binance_url,
            "BINANCE_PAY_API_KEY": API_KEY,
            "BINANCE_PAY_SECRET_KEY": API_SECRET,
            "BINANCE_PAY_WEBHOOK_URL": "",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


# -- load -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    index: int
    started: float  # time.monotonic() when the request was sent
    seconds: float
    status: int | None  # None: no answer (connection refused/reset, timeout)
    body: bytes


@dataclass
class Sending:
    """POSTs pre-signed deliveries at ``rate`` per second from ``threads`` keep-alive clients.

    Request i is sent at ``t0 + i / rate``; each answer is recorded with its send time, so that a
    test can pick the ones sent during a fault. With enough clients (``threads`` > rate x the
    slowest answer) the arrivals do not wait for the answers, as Binance's would not: slow
    answers then show as queueing instead of being hidden by a slower sender.
    """

    url: str
    deliveries: Sequence[tuple[bytes, dict[str, str]]]
    rate: float
    threads: int = 64
    timeout: float = 10.0
    answers: list[Answer] = field(default_factory=list)
    t0: float = 0.0

    def start(self) -> Sending:
        parsed = urllib.parse.urlsplit(self.url)
        self._host, self._port, self._path = parsed.hostname, parsed.port, parsed.path
        self._next = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.t0 = time.monotonic()
        self._workers = [threading.Thread(target=self._run) for _ in range(self.threads)]
        for thread in self._workers:
            thread.start()
        return self

    def stop(self) -> list[Answer]:
        """Send nothing more (deliveries not sent yet stay unsent), then ``join``."""
        self._stopped.set()
        return self.join()

    def join(self) -> list[Answer]:
        for thread in self._workers:
            thread.join()
        return sorted(self.answers, key=lambda a: a.index)

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _run(self) -> None:
        conn = self._connection()
        while True:
            with self._lock:
                index = self._next
                self._next += 1
            if index >= len(self.deliveries):
                break
            delay = self.t0 + index / self.rate - time.monotonic()
            if delay > 0:
                self._stopped.wait(delay)
            if self._stopped.is_set():
                break
            body, headers = self.deliveries[index]
            started = time.monotonic()
            try:
                conn.request(
                    "POST",
                    self._path,
                    body=body,
                    headers={"Content-Type": "application/json; charset=utf-8", **headers},
                )
                response = conn.getresponse()
                status, content = response.status, response.read()
                if response.will_close:
                    conn.close()
                    conn = self._connection()
            except (OSError, http.client.HTTPException):
                status, content = None, b""
                conn.close()
                conn = self._connection()
            seconds = time.monotonic() - started
            with self._lock:
                self.answers.append(Answer(index, started, seconds, status, content))
        conn.close()


def deliveries_for(orders: Sequence[Any], signer: Signer) -> list[tuple[bytes, dict[str, str]]]:
    """One validly signed PAY_SUCCESS delivery per order (fresh nonce and timestamp)."""
    from tests.webhooks.factories import pay_body

    out = []
    for order in orders:
        body = pay_body(order)
        out.append((body, signer.headers(body)))
    return out


def make_orders(n: int) -> list[Any]:
    """``n`` orders as paysvc stores them once Binance created them (INITIAL, 25.17 USDT)."""

    application = ApplicationFactory()
    return [OrderFactory(application=application) for _ in range(n)]


# -- figures and checks ---------------------------------------------------------------------------


def ms(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000, 1)

    return {
        "n": len(ordered),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def p99(seconds: Sequence[float]) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def report(name: str, figures: dict[str, Any]) -> None:
    """Print the figures and, under `make soak` (PAYSVC_FIGURES), append them to its file."""
    record(name, figures)


def outcome_counts(order_ids: Sequence[int]) -> dict[str, Any]:
    """From the database: events by status, PAID transitions per order, orders by status."""
    from django.db.models import Count

    from orders.models import Order, OrderEvent
    from webhooks.models import WebhookEvent

    per_order = Counter(
        dict(
            OrderEvent.objects.filter(
                kind="status_change",
                to_status__in=["PAID", "PAID_AFTER_CLOSE"],
                order_id__in=order_ids,
            )
            .values_list("order_id")
            .annotate(n=Count("id"))
            .values_list("order_id", "n")
        )
    )
    return {
        "events": WebhookEvent.objects.count(),
        "events_by_status": dict(Counter(WebhookEvent.objects.values_list("status", flat=True))),
        "events_run_more_than_once": WebhookEvent.objects.filter(attempts__gt=1).count(),
        "orders_paid": Order.objects.filter(pk__in=order_ids, status="PAID").count(),
        "orders_with_one_paid_transition": sum(1 for n in per_order.values() if n == 1),
        "orders_with_several_paid_transitions": sum(1 for n in per_order.values() if n > 1),
    }


def processed_count() -> int:
    from webhooks.models import EventStatus, WebhookEvent

    return WebhookEvent.objects.filter(status=EventStatus.PROCESSED).count()


def wait_processed(n: int, timeout: float, interval: float = 0.2) -> float | None:
    """Seconds until ``n`` events are processed, or None."""
    from django.db import connection

    started = time.monotonic()
    done = wait_until(lambda: processed_count() >= n, timeout=timeout, interval=interval)
    connection.close()
    return round(time.monotonic() - started, 2) if done else None


def assert_exactly_once(order_ids: Sequence[int], counts: dict[str, Any], tail: Callable[[], str]):
    n = len(order_ids)
    assert counts["events"] == n, (counts, tail())
    assert counts["events_by_status"] == {"processed": n}, (counts, tail())
    assert counts["orders_paid"] == n, counts
    assert counts["orders_with_one_paid_transition"] == n, counts
    assert counts["orders_with_several_paid_transitions"] == 0, counts


def free_closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    port = free_port()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    return port


@pytest.fixture
def stack_env(private_redis: PrivateRedis, cert_stub: str) -> Callable[..., dict[str, str]]:
    """``stack_env(**overrides)``: env of paysvc processes on the test database, with the private
    Redis as broker (db 0) and cache (db 1)."""
    from tests.live import test_database_url

    def make(**overrides: str) -> dict[str, str]:
        return paysvc_env(
            database_url=test_database_url(),
            broker_url=private_redis.url(0),
            cache_url=private_redis.url(1),
            binance_url=cert_stub,
            **overrides,
        )

    return make
