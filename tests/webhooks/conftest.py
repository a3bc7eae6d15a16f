"""Fixtures for the webhook tests: a signing key trusted through the certificate cache, a pinned
clock, a recorder in place of the broker, and posting helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from binance_pay import Certificate, TransportError
from paysvc import clock
from tests.webhooks.factories import WEBHOOK_PATH, Signer, meta
from webhooks import certificates
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
