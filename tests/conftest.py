"""Fixtures shared across the suite: a live Binance Pay sandbox process and API clients."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.live import REPO_ROOT, free_port, running, wait_for_url

SANDBOX_API_KEY = "k" * 32 + "0123456789abcdef0123456789abcdef"
SANDBOX_SECRET = "paysvc-tests-sandbox-secret-0123456789-ABCDEFGHIJKLMNOPQRSTUV"


class LiveSandbox:
    """A `python -m sandbox serve` process on a free loopback port, driven over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.url + "/sandbox" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def order(self, merchant_trade_no: str) -> dict[str, Any] | None:
        status, body = self.control("GET", f"/orders/{merchant_trade_no}")
        return body if status == 200 else None

    def pay(self, merchant_trade_no: str) -> None:
        status, body = self.control("POST", f"/orders/{merchant_trade_no}/pay", {})
        assert status == 200, body

    def fault(self, **spec: Any) -> None:
        status, body = self.control("POST", "/faults", spec)
        assert status in (200, 201), body

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")


@pytest.fixture(scope="session")
def live_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    """One sandbox for the session (a 2048-bit webhook key: generation of 4096 is slow)."""
    tmp: Path = tmp_path_factory.mktemp("sandbox")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp / "webhook-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_DB_PATH": str(tmp / "sandbox.sqlite3"),
        "SANDBOX_API_KEY": SANDBOX_API_KEY,
        "SANDBOX_SECRET_KEY": SANDBOX_SECRET,
        "SANDBOX_RSA_KEY_FILE": str(key_file),
        "SANDBOX_REFUND_AUTO": "success",
        "SANDBOX_REFUND_DELAY": "0.2",
        "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5,0.5,0.5",
        "SANDBOX_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "sandbox", "serve"]
    with running(argv, env, tmp / "sandbox.log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_for_url(url + "/sandbox/health", timeout=60, proc=proc)
        yield LiveSandbox(url)


@pytest.fixture
def sandbox(live_sandbox: LiveSandbox, settings: Any) -> Iterator[LiveSandbox]:
    """Point paysvc's Binance settings at the live sandbox for one test."""
    settings.BINANCE_PAY_BASE_URL = live_sandbox.url
    settings.BINANCE_PAY_API_KEY = SANDBOX_API_KEY
    settings.BINANCE_PAY_SECRET_KEY = SANDBOX_SECRET
    settings.BINANCE_PAY_WEBHOOK_URL = ""
    live_sandbox.clear_faults()
    yield live_sandbox
    live_sandbox.clear_faults()


__all__ = ["REPO_ROOT", "LiveSandbox"]
