"""`make run`: the whole system on one machine, on embedded defaults.

Starts the Binance Pay sandbox, the web process (gunicorn), a Celery worker and Celery beat as
child processes, prefixes their output with their name, waits until each answers, prints the URLs
and demo credentials, and stops everything on Ctrl-C (or when any child dies).

Every default below is a local-only demo value; anything already set in the environment wins, so
`DATABASE_URL=... CELERY_BROKER_URL=... make run` runs the same stack on PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sandbox.config import DEMO_API_KEY, DEMO_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
COLOURS = {"sandbox": "35", "web": "36", "worker": "33", "beat": "32"}
READY_TIMEOUT_SECONDS = 60


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None


def demo_environment() -> dict[str, str]:
    """The environment of every child: the caller's, over the local demo defaults."""
    web_port = os.environ.get("PAYSVC_PORT", "8000")
    sandbox_port = os.environ.get("SANDBOX_PORT", "8090")
    webhook_url = f"http://127.0.0.1:{web_port}/webhooks/binance-pay/"
    defaults = {
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "dev-only-insecure-secret-key-change-me",
        "PAYSVC_PORT": web_port,
        "SANDBOX_PORT": sandbox_port,
        "BINANCE_PAY_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "BINANCE_PAY_API_KEY": DEMO_API_KEY,
        "BINANCE_PAY_SECRET_KEY": DEMO_SECRET_KEY,
        "BINANCE_PAY_WEBHOOK_URL": webhook_url,
        "SANDBOX_API_KEY": DEMO_API_KEY,
        "SANDBOX_SECRET_KEY": DEMO_SECRET_KEY,
        "SANDBOX_WEBHOOK_URL": webhook_url,
        "PAYSVC_ALLOW_PRIVATE_URLS": "1",  # everything runs on 127.0.0.1 here
        "PYTHONUNBUFFERED": "1",
    }
    return {**defaults, **os.environ}


def children(env: dict[str, str]) -> list[Child]:
    python = sys.executable
    return [
        Child("sandbox", [python, "-m", "sandbox", "serve"]),
        Child(
            "web",
            [
                python, "-m", "gunicorn", "paysvc.wsgi", "--config", "python:paysvc.gunicorn_conf",
                "--bind", f"127.0.0.1:{env['PAYSVC_PORT']}",
            ],
        ),
        Child("worker", [python, "-m", "celery", "-A", "paysvc", "worker", "-l", "INFO",
                         "--concurrency", "2"]),
        Child("beat", [python, "-m", "celery", "-A", "paysvc", "beat", "-l", "INFO"]),
    ]  # fmt: skip


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command; returns its standard output."""
    argv = [sys.executable, "manage.py", *args]
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return done.stdout


def pump(child: Child) -> None:
    """Copy a child's output to ours, each line prefixed with the child's name."""
    if child.process is None or child.process.stdout is None:
        return
    prefix = f"{child.name:>7} | "
    if sys.stdout.isatty():
        prefix = f"\033[{COLOURS.get(child.name, '0')}m{prefix}\033[0m"
    for raw in iter(child.process.stdout.readline, b""):
        sys.stdout.write(prefix + raw.decode("utf-8", "replace"))
        sys.stdout.flush()


def wait_until_ok(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


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
    rows = [
        ("API docs", f"{web}/api/docs/"),
        ("Admin", f"{web}/{env.get('PAYSVC_ADMIN_PATH', 'admin/')}   (user demo / demo-password)"),
        ("Merchant API key", f"{api_key}   (demo key, all scopes; new each run)"),
        ("Sandbox", f"{sandbox}/   (a local Binance Pay: checkout pages, webhooks)"),
        ("Health", f"{web}/healthz   {web}/readyz"),
        ("Binance Pay API", env["BINANCE_PAY_BASE_URL"]),
        ("Database", describe_url(env.get("DATABASE_URL"), "SQLite under var/")),
        ("Broker", describe_url(env.get("CELERY_BROKER_URL"), "embedded, var/broker")),
    ]
    lines = ["", "paysvc is running (Ctrl-C stops everything)"]
    lines += [f"  {label:<17} {value}" for label, value in rows]
    lines.append("")
    return "\n".join(lines)


def stop_all(procs: list[Child]) -> None:
    for child in procs:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in procs:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()


def main() -> int:
    env = demo_environment()
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # Metric values of an earlier run (web, worker and beat all write here) must not count.
    shutil.rmtree(BASE_DIR / "var" / "prometheus", ignore_errors=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    demo = manage(env, "demo_setup")
    api_key = next(
        line.split(": ", 1)[1] for line in demo.splitlines() if line.startswith("demo API key")
    )
    procs = children(env)
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for child in procs:
        child.process = subprocess.Popen(  # noqa: S603 - fixed argv built above
            child.argv, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=pump, args=(child,), daemon=True).start()

    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    sandbox_ok = wait_until_ok(f"http://127.0.0.1:{env['SANDBOX_PORT']}/sandbox/health", deadline)
    web_ok = wait_until_ok(f"http://127.0.0.1:{env['PAYSVC_PORT']}/readyz", deadline)
    if sandbox_ok and web_ok:
        print(banner(env, api_key), flush=True)
    else:
        print("paysvc did not become ready; see the output above.", file=sys.stderr, flush=True)
        stopping.set()

    exit_code = 0
    while not stopping.is_set():
        for child in procs:
            if child.process is not None and child.process.poll() is not None:
                print(f"{child.name} exited with {child.process.returncode}; stopping.", flush=True)
                exit_code = 1
                stopping.set()
        stopping.wait(0.5)
    stop_all(procs)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
