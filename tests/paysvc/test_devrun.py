"""`make run` (paysvc/devrun.py): busy ports fail at once, SIGINT to make stops everything, and
the banner comes after the children's start-up output.

Each run uses a temporary PAYSVC_VAR_DIR (SQLite, filesystem broker: nothing shared) and free
loopback ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live import REPO_ROOT, free_port, wait_until

pytestmark = pytest.mark.live


def launcher_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PAYSVC_VAR_DIR": str(tmp_path / "var"),
        "PAYSVC_PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
        "PAYSVC_WORKER_METRICS_PORT": str(free_port()),
    }


@pytest.mark.parametrize("variable", ["PAYSVC_PORT", "SANDBOX_PORT", "PAYSVC_WORKER_METRICS_PORT"])
def test_a_busy_port_stops_the_launcher_at_once_and_names_the_port(tmp_path, variable):
    env = launcher_env(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env[variable])))
        squatter.listen()
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "paysvc.devrun"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started

    assert done.returncode == 1, done.stdout + done.stderr
    assert elapsed < 10
    assert f"port {env[variable]} on 127.0.0.1" in done.stderr
    assert variable in done.stderr
    assert not (tmp_path / "var").exists()  # nothing was started, not even the migrations


def _children_of(pid: int) -> set[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _call(url: str, *, method: str = "GET", body: object = None, key: str = "") -> tuple:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def demo_loop(env: dict[str, str], transcript: str) -> None:
    """What the README promises a newcomer: an order created with the printed key and paid in
    the sandbox is PAID, listed as order.paid, and arrives at the demo receiver verified."""
    key = next(line.split()[3] for line in transcript.splitlines() if "Merchant API key" in line)
    web, sandbox = (
        f"http://127.0.0.1:{env['PAYSVC_PORT']}",
        f"http://127.0.0.1:{env['SANDBOX_PORT']}",
    )
    from orders.schema.examples import MINIMAL_ORDER_REQUEST

    status, text = _call(f"{web}/api/v1/orders", method="POST", body=MINIMAL_ORDER_REQUEST, key=key)
    assert status == 201, text
    order = json.loads(text)
    assert order["apiVersion"] == "v3"
    status, text = _call(
        f"{sandbox}/sandbox/orders/{order['merchantTradeNo']}/pay", method="POST", body={}
    )
    assert status == 200, text

    def delivered() -> dict | None:
        status, text = _call(f"{sandbox}/sandbox/receiver/events?name=demo")
        events = json.loads(text)["events"] if status == 200 else []
        paid = [e for e in events if e["eventType"] == "order.paid"]
        return next((e for e in paid if e["merchantTradeNo"] == order["merchantTradeNo"]), None)

    assert wait_until(lambda: delivered() is not None, timeout=60), transcript[-3000:]
    assert delivered()["result"] == "signature verified"
    assert delivered()["merchantTradeNo"] == order["merchantTradeNo"]
    status, text = _call(f"{web}/api/v1/events?type=order.paid", key=key)
    assert [e["data"]["merchantTradeNo"] for e in json.loads(text)["results"]] == [
        order["merchantTradeNo"]
    ]


def test_make_run_prints_the_banner_last_and_sigint_to_make_stops_every_process(tmp_path):
    env = launcher_env(tmp_path)
    # The terminal transcript of make run, not a log: the banner shows the demo key on purpose.
    output = tmp_path / "make-run.out"
    with open(output, "wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        up = wait_until(lambda: b"paysvc is running" in output.read_bytes(), timeout=180)
        assert up, output.read_text()[-5000:]
        time.sleep(1)
        processes = _children_of(make.pid)
        # launcher, sandbox (master + 2 workers), gunicorn (master + 2), worker (main + 2), beat
        assert len(processes) >= 9, processes
        demo_loop(env, output.read_text())

        make.send_signal(signal.SIGINT)  # to make's pid only, not its process group
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            alive = sorted(pid for pid in processes if _alive(pid))
            pytest.fail(f"make run still running 60 s after SIGINT; alive: {alive}\n"
                        + output.read_text()[-5000:])  # fmt: skip
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()

    left = {pid for pid in processes if _alive(pid)}
    assert wait_until(lambda: not {pid for pid in left if _alive(pid)}, timeout=10), left
    text = output.read_text()
    assert "make was interrupted; stopping." in text
    lines = text.splitlines()
    banner = lines.index("paysvc is running (Ctrl-C stops everything)")
    worker_ready = next(
        i for i, line in enumerate(lines) if "celery@" in line and " ready." in line
    )
    beat_started = next(i for i, line in enumerate(lines) if "beat: Starting" in line)
    assert worker_ready < banner and beat_started < banner
    key_line = next(line for line in lines[banner:] if "Merchant API key" in line)
    api_key = key_line.split()[3]
    assert api_key.startswith("psk_live_")
    # The demo key is shown in the banner only, never in what the children print.
    assert [line for line in lines if api_key in line] == [key_line]
