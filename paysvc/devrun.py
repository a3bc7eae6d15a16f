"""`make run`: the whole system on one machine, on embedded defaults.

Starts the Binance Pay sandbox, the web process (gunicorn), a Celery worker (with its metrics
exporter) and Celery beat as child processes, prefixes their output with their name, waits until
each is up, prints the URLs and demo credentials last (after the children's start-up output), and
stops everything on Ctrl-C, SIGINT or SIGTERM (or when any child dies).

- Every port it will use is checked before anything starts: a busy one stops the launcher at
  once, naming the port and the variable that sets it.
- Each child runs in a process group of its own, so stopping it stops its children too (gunicorn's
  workers, Celery's pool): nothing outlives the launcher.
- `python -m paysvc.devrun env` prints the same environment as shell exports, for running
  `manage.py` commands against the same database outside `make run` (README).

Every default below is a local-only demo value; anything already set in the environment wins, so
`DATABASE_URL=... CELERY_BROKER_URL=... make run` runs the same stack on PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.config import DEMO_API_KEY, DEMO_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
COLOURS = {"sandbox": "35", "web": "36", "worker": "33", "beat": "32"}
READY_TIMEOUT_SECONDS = 90
# The sandbox receiver the demo application's webhook endpoint points at (sandbox/receiver.py).
DEMO_RECEIVER = "demo"
STOP_TIMEOUT_SECONDS = 10
# Signals whose handler GNU make resets to the default when it receives them (see parent_watch).
_FATAL_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    # A line of the child's output that says it has finished starting (None: its URL answers).
    ready_line: str | None = None
    process: subprocess.Popen[bytes] | None = None
    ready: threading.Event = field(default_factory=threading.Event)


def var_dir(env: dict[str, str]) -> Path:
    return BASE_DIR / env.get("PAYSVC_VAR_DIR", str(BASE_DIR / "var"))


def demo_environment() -> dict[str, str]:
    """The environment of every child: the caller's, over the local demo defaults."""
    return {**demo_defaults(), **os.environ}


def demo_defaults() -> dict[str, str]:
    web_port = os.environ.get("PAYSVC_PORT", "8000")
    sandbox_port = os.environ.get("SANDBOX_PORT", "8090")
    webhook_url = f"http://127.0.0.1:{web_port}/webhooks/binance-pay/"
    return {
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "dev-only-insecure-secret-key-change-me",
        "PAYSVC_PORT": web_port,
        "SANDBOX_PORT": sandbox_port,
        "PAYSVC_WORKER_METRICS_PORT": "9808",
        "BINANCE_PAY_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "BINANCE_PAY_API_KEY": DEMO_API_KEY,
        "BINANCE_PAY_SECRET_KEY": DEMO_SECRET_KEY,
        "BINANCE_PAY_WEBHOOK_URL": webhook_url,
        "SANDBOX_API_KEY": DEMO_API_KEY,
        "SANDBOX_SECRET_KEY": DEMO_SECRET_KEY,
        "SANDBOX_WEBHOOK_URL": webhook_url,
        # The sandbox's state lives with paysvc's (PAYSVC_VAR_DIR), not always under ./var.
        "SANDBOX_DB_PATH": str(var_dir(dict(os.environ)) / "sandbox.sqlite3"),
        "PAYSVC_ALLOW_PRIVATE_URLS": "1",  # everything runs on 127.0.0.1 here
        "PYTHONUNBUFFERED": "1",
    }


def ports(env: dict[str, str]) -> list[tuple[str, str, int, str]]:
    """(host, variable, port, what) of every port the children will listen on."""
    found = [
        ("127.0.0.1", "PAYSVC_PORT", int(env["PAYSVC_PORT"]), "web (gunicorn)"),
        (env.get("SANDBOX_HOST", "127.0.0.1"), "SANDBOX_PORT", int(env["SANDBOX_PORT"]), "sandbox"),
    ]
    metrics_port = int(env.get("PAYSVC_WORKER_METRICS_PORT") or 0)
    if metrics_port:
        host = env.get("PAYSVC_WORKER_METRICS_ADDR", "127.0.0.1")
        found.append((host, "PAYSVC_WORKER_METRICS_PORT", metrics_port, "worker metrics"))
    return found


def busy_ports(env: dict[str, str]) -> list[str]:
    """A message for each port that something else already listens on."""
    problems = []
    for host, variable, port, what in ports(env):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As gunicorn binds: a port left in TIME_WAIT by an earlier run is free, a listener
            # is not.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                problems.append(
                    f"port {port} on {host} ({what}, {variable}) is not free: {exc.strerror}. "
                    f"Stop what uses it, or choose another: {variable}=<port> make run"
                )
    return problems


def children(env: dict[str, str]) -> list[Child]:
    python = sys.executable
    metrics = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or var_dir(env) / "prometheus")

    def own_metrics(role: str) -> dict[str, str]:
        # One directory per role (paysvc/metrics_dir.py): web and worker each export their own.
        return {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics / role)}

    return [
        Child("sandbox", [python, "-m", "sandbox", "serve"], env),
        Child(
            "web",
            [
                python, "-m", "gunicorn", "paysvc.wsgi", "--config", "python:paysvc.gunicorn_conf",
                "--bind", f"127.0.0.1:{env['PAYSVC_PORT']}",
            ],
            own_metrics("web"),
        ),
        Child("worker", [python, "-m", "paysvc.worker", "-l", "INFO", "--concurrency", "2"],
              own_metrics("worker"), ready_line=" ready."),
        Child("beat", [python, "-m", "celery", "-A", "paysvc", "beat", "-l", "INFO"],
              own_metrics("beat"), ready_line="beat: Starting"),
    ]  # fmt: skip


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command; returns its standard output."""
    argv = [sys.executable, "manage.py", *args]
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return done.stdout


def demo_setup_values(output: str) -> dict[str, str]:
    """The ``name: value`` lines demo_setup prints (the API key, the endpoint secret)."""
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def receiver_url(env: dict[str, str]) -> str:
    """The sandbox's demo receiver: the demo application's webhook endpoint."""
    return f"http://127.0.0.1:{env['SANDBOX_PORT']}/receiver/{DEMO_RECEIVER}"


def receiver_register(env: dict[str, str], secret: str) -> None:
    """Give the demo receiver the endpoint's secret, so that it can say "signature verified".

    Through the sandbox's control API (the secret never reaches a log or the banner).
    """
    connection = http.client.HTTPConnection("127.0.0.1", int(env["SANDBOX_PORT"]), timeout=5)
    headers = {"Content-Type": "application/json"}
    if env.get("SANDBOX_CONTROL_TOKEN"):
        headers["X-Sandbox-Token"] = env["SANDBOX_CONTROL_TOKEN"]
    try:
        body = json.dumps({"secrets": [secret]})
        connection.request("PUT", f"/sandbox/receiver/{DEMO_RECEIVER}/secrets", body, headers)
        status = connection.getresponse().status
    finally:
        connection.close()
    if status != 200:
        print(f"make run: the demo receiver refused its secret (HTTP {status})", file=sys.stderr)


def pump(child: Child) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    if child.process is None or child.process.stdout is None:
        return
    prefix = f"{child.name:>7} | "
    if sys.stdout.isatty():
        prefix = f"\033[{COLOURS.get(child.name, '0')}m{prefix}\033[0m"
    for raw in iter(child.process.stdout.readline, b""):
        line = raw.decode("utf-8", "replace")
        if child.ready_line is not None and child.ready_line in line:
            child.ready.set()
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def answers(port: int, path: str) -> bool:
    """Whether 127.0.0.1:port answers GET path with 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def describe_url(url: str | None, default: str) -> str:
    """scheme://host:port/path of a service URL, never its credentials."""
    if not url:
        return default
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def banner(env: dict[str, str], api_key: str) -> str:
    web = f"http://127.0.0.1:{env['PAYSVC_PORT']}"
    sandbox = f"http://127.0.0.1:{env['SANDBOX_PORT']}"
    metrics = f"{web}/metrics"
    if int(env.get("PAYSVC_WORKER_METRICS_PORT") or 0):
        metrics += f"   http://127.0.0.1:{env['PAYSVC_WORKER_METRICS_PORT']}/metrics (worker)"
    rows = [
        ("API docs", f"{web}/api/docs/"),
        ("Admin", f"{web}/{env.get('PAYSVC_ADMIN_PATH', 'admin/')}   (user demo / demo-password)"),
        ("Merchant API key", f"{api_key}   (demo key, all scopes; new each run)"),
        ("Sandbox", f"{sandbox}/   (a local Binance Pay: checkout pages, webhooks)"),
        ("Merchant events", f"{sandbox}/receiver   (the demo shop's endpoint: signed, verified)"),
        ("Health", f"{web}/healthz   {web}/readyz"),
        ("Metrics", metrics),
        ("Binance Pay API", env["BINANCE_PAY_BASE_URL"]),
        ("Database", describe_url(env.get("DATABASE_URL"), "SQLite under var/")),
        ("Broker", describe_url(env.get("CELERY_BROKER_URL"), "embedded, var/broker")),
    ]
    lines = ["", "paysvc is running (Ctrl-C stops everything)"]
    lines += [f"  {label:<17} {value}" for label, value in rows]
    lines.append("")
    return "\n".join(lines)


def start(child: Child) -> None:
    child.process = subprocess.Popen(  # noqa: S603 - fixed argv built above
        child.argv,
        cwd=BASE_DIR,
        env=child.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Its own process group: stop_all signals the child's whole tree, and a Ctrl-C in the
        # terminal reaches only us, so children stop in order, once.
        start_new_session=True,
    )
    threading.Thread(target=pump, args=(child,), daemon=True).start()


def _signal_group(child: Child, sig: int) -> None:
    if child.process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)


def stop_all(procs: list[Child]) -> None:
    """SIGTERM each child (its main process stops its own workers), then SIGKILL whatever is
    left in its process group after STOP_TIMEOUT_SECONDS, or at once once its main process
    has exited (an orphaned worker)."""
    for child in procs:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in procs:
        if child.process is None:
            continue
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    time.sleep(0.2)
    for child in procs:
        _signal_group(child, signal.SIGKILL)
        if child.process is not None:
            child.process.wait()


def first_exited(procs: list[Child]) -> Child | None:
    return next((c for c in procs if c.process is not None and c.process.poll() is not None), None)


def _caught_signals(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def parent_watch(stopping: threading.Event) -> None:
    """Stop when our parent dies, or when GNU make, our parent under `make run`, is signalled.

    `kill -INT <make's pid>` reaches make alone: make passes SIGTERM on to its children but not
    SIGINT, SIGHUP or SIGQUIT (it assumes the terminal sent those to the whole process group) and
    then waits for its children forever. Its handler resets the signal to the default first, and
    /proc shows that: a fatal signal make caught when we started and no longer catches means it
    has received it, so we stop as if we had (Linux; elsewhere only the parent's death is seen).
    """
    parent = os.getppid()
    try:
        name = Path(f"/proc/{parent}/comm").read_text().strip()
    except OSError:
        name = ""
    mask = lambda sigs: sum(1 << (s - 1) for s in sigs)  # noqa: E731
    watched = mask(_FATAL_SIGNALS)
    initial = _caught_signals(parent) if name in ("make", "gmake") else None
    while not stopping.wait(0.3):
        if os.getppid() != parent:
            print("parent process exited; stopping.", flush=True)
            stopping.set()
        elif initial is not None:
            now = _caught_signals(parent)
            if now is not None and (initial & watched) & ~now:
                print("make was interrupted; stopping.", flush=True)
                stopping.set()


def print_env() -> int:
    """`python -m paysvc.devrun env`: the demo environment as shell exports."""
    env = demo_environment()
    for key in demo_defaults():
        print(f"export {key}={shlex.quote(env[key])}")
    return 0


def main() -> int:
    env = demo_environment()
    problems = busy_ports(env)
    if problems:
        for problem in problems:
            print(f"make run: {problem}", file=sys.stderr, flush=True)
        return 1
    var = var_dir(env)
    var.mkdir(parents=True, exist_ok=True)
    # Metric values of an earlier run (web, worker and beat all write here) must not count.
    shutil.rmtree(Path(env.get("PROMETHEUS_MULTIPROC_DIR") or var / "prometheus"), True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    demo = demo_setup_values(manage(env, "demo_setup", "--receiver-url", receiver_url(env)))
    api_key = demo["demo API key"]
    procs = children(env)
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    threading.Thread(target=parent_watch, args=(stopping,), daemon=True).start()
    for child in procs:
        start(child)

    exit_code = 0
    ready = wait_ready(env, procs, stopping)
    if ready:
        receiver_register(env, demo["demo endpoint secret"])
        # Last, after every child's start-up output, so that it stays on screen.
        time.sleep(0.5)
        print(banner(env, api_key), flush=True)
    elif not stopping.is_set():
        exit_code = 1
        stopping.set()

    while not stopping.is_set():
        dead = first_exited(procs)
        if dead is not None and dead.process is not None:
            print(f"{dead.name} exited with {dead.process.returncode}; stopping.", flush=True)
            exit_code = 1
            stopping.set()
        stopping.wait(0.5)
    stop_all(procs)
    return exit_code


def wait_ready(env: dict[str, str], procs: list[Child], stopping: threading.Event) -> bool:
    """Wait until every child is up; False (with the reason printed) as soon as one dies."""
    urls = {"sandbox": (int(env["SANDBOX_PORT"]), "/sandbox/health"),
            "web": (int(env["PAYSVC_PORT"]), "/readyz")}  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    waiting = list(procs)
    while waiting and not stopping.is_set():
        dead = first_exited(procs)
        if dead is not None and dead.process is not None:
            time.sleep(0.3)  # let its last lines through
            print(
                f"make run: {dead.name} exited with {dead.process.returncode} while starting; "
                "see its output above. Stopping everything.",
                file=sys.stderr,
                flush=True,
            )
            return False
        if time.monotonic() > deadline:
            names = ", ".join(child.name for child in waiting)
            print(f"make run: not ready after {READY_TIMEOUT_SECONDS} s: {names}", file=sys.stderr)
            return False
        for child in list(waiting):
            up = answers(*urls[child.name]) if child.name in urls else child.ready.is_set()
            if up:
                waiting.remove(child)
        stopping.wait(0.3)
    return not waiting


if __name__ == "__main__":
    if sys.argv[1:] == ["env"]:
        sys.exit(print_env())
    sys.exit(main())
