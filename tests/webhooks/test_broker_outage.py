"""The receiver does not wait for the broker (docs/reliability.md#18-broker-down, one machine): a
private redis-server is the broker; it is stalled (SIGSTOP: connections hang) and then stopped."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import OrderFactory
from tests.live import free_port, wait_until
from tests.webhooks.factories import pay_body
from webhooks import publish
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import webhook_events_sweep

pytestmark = [pytest.mark.live, pytest.mark.django_db]

SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'


class PrivateRedis:
    def __init__(self, tmp_path: Any) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._argv = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp_path),
        ]  # fmt: skip
        self._log_path = tmp_path / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self._log_path, "ab") as log:
            self.proc = subprocess.Popen(self._argv, stdout=log, stderr=subprocess.STDOUT)
        assert wait_until(self._answers, timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def queued(self) -> int:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"LLEN celery\r\n")
            return int(sock.recv(64).strip().lstrip(b":"))

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def private_redis(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary to run a private broker")
    redis = PrivateRedis(tmp_path)
    redis.start()
    # CELERY_BROKER_WRITE_URL wins over the settings (and over CELERY_BROKER_URL on CI).
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    monkeypatch.setattr(publish, "_paused_until", 0.0)
    yield redis
    redis.stop()


def test_deliveries_are_answered_fast_and_stored_while_the_broker_hangs_or_is_down(
    signer, post, broker, certs_endpoint, private_redis
):
    broker.real = True
    OrderFactory()

    def deliver() -> tuple[int, bytes, float]:
        body = pay_body()
        started = time.perf_counter()
        response = post(body, signer.headers(body))
        return response.status_code, response.content, time.perf_counter() - started

    healthy = [deliver() for _ in range(3)]
    assert private_redis.queued() == 3

    private_redis.signal(signal.SIGSTOP)  # accepts connections, answers nothing
    stalled = [deliver() for _ in range(10)]
    private_redis.signal(signal.SIGCONT)
    private_redis.stop()  # now refuses connections
    publish._paused_until = 0.0  # try again at once (normally: after a few seconds)
    down = [deliver() for _ in range(10)]

    for status, content, _ in healthy + stalled + down:
        assert (status, content) == (200, SUCCESS)
    latencies = sorted(seconds for *_, seconds in stalled + down)
    print(f"\nbroker stalled/down: max answer {latencies[-1] * 1000:.0f} ms")
    assert latencies[-1] < 1.0
    # One socket timeout while it hangs, then publishing pauses: the rest answer at once.
    assert sum(seconds for *_, seconds in stalled) < 1.0
    assert WebhookEvent.objects.filter(status=EventStatus.RECEIVED).count() == 23

    # Back (empty, as after a restart without persistence): the sweeper re-enqueues.
    private_redis.start()
    publish._paused_until = 0.0
    WebhookEvent.objects.update(
        received_at=WebhookEvent.objects.first().received_at.replace(year=2020)
    )
    assert webhook_events_sweep() == 23
    assert private_redis.queued() == 23
