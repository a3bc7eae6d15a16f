"""Live: the demo receiver in `python -m sandbox serve` (gunicorn), driven over HTTP and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from notifications.signing import signature_header
from sandbox import receiver

from .conftest import REPO, LiveSandbox

pytestmark = pytest.mark.live

WHSEC = "whsec_live_0123456789abcdefghijklmnopqrst"


def unique_name() -> str:
    return "live-" + uuid.uuid4().hex[:12]


def event(event_id: str | None = None) -> bytes:
    payload = {
        "createdAt": "2025-01-01T12:00:00.000000Z",
        "data": {"merchantTradeNo": uuid.uuid4().hex, "status": "PAID"},
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": "order.paid",
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def deliver(live: LiveSandbox, name: str, body: bytes, secret: str = WHSEC) -> requests.Response:
    headers = {
        "Content-Type": "application/json",
        "Paysvc-Signature": signature_header(body=body, secrets=[secret]),
        "Paysvc-Event-Id": json.loads(body)["id"],
    }
    return requests.post(f"{live.url}/receiver/{name}", data=body, headers=headers, timeout=10)


def test_cli_registered_secret_verifies_events_sent_over_http(live: LiveSandbox):
    name = unique_name()
    done = live.cli("receiver-secret", name, WHSEC)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": name, "secrets": 1}
    assert WHSEC not in done.stdout + done.stderr
    good, bad = event(), event()

    assert deliver(live, name, good).json() == {"received": True}
    assert deliver(live, name, bad, secret="whsec_wrong").status_code == 200

    listed = live.cli("receiver-events", "--name", name)
    assert listed.returncode == 0, listed.stderr
    events = {e["body"]: e for e in json.loads(listed.stdout)["events"]}
    assert events[good.decode()]["result"] == "signature verified"
    assert events[bad.decode()]["result"] == (
        "not verified: no v1 signature matches the body with the secret"
    )
    page = requests.get(f"{live.url}/receiver?name={name}", timeout=10).text
    assert json.loads(good)["id"] in page and WHSEC not in page


def test_secrets_from_stdin_and_clearing(live: LiveSandbox):
    name = unique_name()
    fed = subprocess.run(
        [sys.executable, "-m", "sandbox", "--url", live.url, "receiver-secret", name, "-"],
        cwd=REPO,
        input=f"whsec_new_abc\n{WHSEC}\n\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert fed.returncode == 0, fed.stderr
    assert json.loads(fed.stdout)["secrets"] == 2
    deliver(live, name, event())  # signed with the second secret: matches

    cleared = live.cli("receiver-secret", name, "--clear")
    assert json.loads(cleared.stdout) == {"name": name, "cleared": True}
    deliver(live, name, event())
    after, before = live.control("GET", f"/receiver/events?name={name}")["events"]
    assert before["verified"] is True
    assert after["reason"] == "no secret registered"
    assert live.cli("receiver-clear", "--name", name).returncode == 0
    assert live.control("GET", f"/receiver/events?name={name}")["events"] == []


def test_a_chunked_body_over_the_limit_is_refused_through_gunicorn(live: LiveSandbox):
    name = unique_name()
    big = b'{"pad":"' + b"x" * receiver.MAX_BODY_BYTES + b'"}'

    def chunks() -> Iterator[bytes]:  # a generator: requests sends Transfer-Encoding: chunked
        for start in range(0, len(big), 32768):
            yield big[start : start + 32768]

    chunked = requests.post(f"{live.url}/receiver/{name}", data=chunks(), timeout=30)
    sized = requests.post(f"{live.url}/receiver/{name}", data=big, timeout=30)
    body = event()
    small = requests.post(f"{live.url}/receiver/{name}", data=chunks_of(body), timeout=30)

    assert (chunked.status_code, sized.status_code, small.status_code) == (413, 413, 200)
    [stored] = live.control("GET", f"/receiver/events?name={name}")["events"]
    assert stored["body"].encode() == body  # a small chunked body arrives whole
    assert stored["reason"] == "no secret registered"


def chunks_of(body: bytes) -> Iterator[bytes]:
    yield body[:10]
    yield body[10:]


def test_secrets_and_events_survive_a_restart(tmp_path: Path, small_key_pem: bytes):
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(small_key_pem)
    db = tmp_path / "sandbox.sqlite3"
    first = LiveSandbox(db, SANDBOX_RSA_KEY_FILE=str(key_file)).start()
    try:
        assert first.cli("receiver-secret", "demo", WHSEC).returncode == 0
        assert deliver(first, "demo", event("evt_before")).status_code == 200
    finally:
        first.stop()
    second = LiveSandbox(db, SANDBOX_RSA_KEY_FILE=str(key_file)).start()
    try:
        assert deliver(second, "demo", event("evt_after")).status_code == 200
        events = second.control("GET", "/receiver/events?name=demo")["events"]
    finally:
        second.stop()
    assert [(e["eventId"], e["verified"]) for e in events] == [
        ("evt_after", True),
        ("evt_before", True),
    ]
