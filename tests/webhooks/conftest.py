"""Fixtures for the webhook tests: a signing key trusted through the certificate cache, a pinned
clock, a recorder in place of the broker, and posting helpers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from binance_pay import Certificate, TransportError
from paysvc import clock
from tests.live import free_port, wait_until
from tests.webhooks.factories import WEBHOOK_PATH, Signer, meta
from webhooks import certificates, publish
from webhooks.services import intake

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"


@pytest.fixture(scope="session")
def signer() -> Signer:
    """The key Binance signs with in these tests (RSA-2048: generating 4096 is slow)."""
    return Signer.generate()


@pytest.fixture(scope="session")
def other_signer() -> Signer:
    """A second key: a forger's, or Binance's next one after a rotation."""
    return Signer.generate()


@pytest.fixture(scope="session")
def real_vector() -> dict[str, Any]:
    return json.loads((VECTORS / "real-pay-success-webhook.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> None:
    settings.BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS = 300
    settings.BINANCE_PAY_CERT_REFETCH_SECONDS = 60
    settings.BINANCE_PAY_CERT_CACHE_SECONDS = 3600
    settings.BINANCE_PAY_WEBHOOK_MAX_BYTES = 65536


@dataclass
class CertificatesEndpoint:
    """Stands in for Binance's Query Certificates: counts calls, can be down."""

    served: list[Signer]
    calls: int = 0
    down: bool = False

    def __call__(self) -> list[Certificate]:
        self.calls += 1
        if self.down:
            raise TransportError("connection error: ConnectionError")
        return [Certificate(cert_serial=s.serial, cert_public=s.pem) for s in self.served]


@pytest.fixture
def certs_endpoint(monkeypatch: pytest.MonkeyPatch, signer: Signer) -> CertificatesEndpoint:
    """Binance's /certificates serving ``signer``'s key; also trusted (cached) from the start."""
    endpoint = CertificatesEndpoint(served=[signer])

    class _Client:
        query_certificates = staticmethod(endpoint)

    monkeypatch.setattr(certificates, "binance_client", lambda: _Client())
    certificates.certificates_forget()
    certificates.certificates_store({signer.serial: signer.pem})
    yield endpoint
    certificates.certificates_forget()


@dataclass
class Broker:
    """Records what would be published; ``fail`` makes every publish fail, ``real`` lets it
    through to the configured broker."""

    published: list[int] = field(default_factory=list)
    fail: bool = False
    real: bool = False


@pytest.fixture(autouse=True)
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    """In-process tests publish nothing to the shared broker; they run tasks themselves."""
    recorder = Broker()
    real_publish = intake.publish_fail_fast

    def publish(task: Any, event_id: int) -> bool:
        if recorder.real:
            return real_publish(task, event_id)
        if recorder.fail:
            return False
        recorder.published.append(event_id)
        return True

    monkeypatch.setattr(intake, "publish_fail_fast", publish)
    return recorder


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``pinned_clock(ms)`` fixes the intake's idea of now."""

    def pin(ms: int) -> None:
        monkeypatch.setattr(clock, "now_ms", lambda: ms)

    return pin


@pytest.fixture
def post(client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """``post(body, headers, content_type=..., path=...)`` -> response, through the middleware.

    The test's transaction never commits, so the on-commit callbacks (the enqueue) are run when
    the request's own transaction block ends, as a commit would.
    """

    def _post(
        body: bytes,
        headers: dict[str, str],
        *,
        content_type: str = "application/json; charset=utf-8",
        path: str = WEBHOOK_PATH,
        method: str = "POST",
    ) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic(
                method, path, data=body, content_type=content_type, **meta(headers)
            )

    return _post


# -- a private broker ----------------------------------------------------------------------------


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
