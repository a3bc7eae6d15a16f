"""Fixtures shared across the suite (a live Binance Pay sandbox process, API clients) and the
end-of-session secret leak check (docs/reliability.md#46-secret-leakage, tests/leakcheck.py)."""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import leakcheck
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


# --- docs/reliability.md#46-secret-leakage: secrets never reach a log (tests/leakcheck.py) ---

_session_log: leakcheck.SessionLog | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Attach the session log to the root logger (after Django configured logging)."""
    global _session_log
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    _session_log = leakcheck.SessionLog(base / "python-session.log")
    logging.getLogger().addHandler(_session_log)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A test that reconfigures logging (dictConfig) drops the root handlers: put ours back.
    root = logging.getLogger()
    if _session_log is not None and _session_log not in root.handlers:
        root.addHandler(_session_log)


def fixed_secrets() -> dict[str, str]:
    from django.conf import settings

    from sandbox.config import DEMO_SECRET_KEY

    found = {
        SANDBOX_SECRET: "Binance API secret (tests/conftest.py SANDBOX_SECRET)",
        DEMO_SECRET_KEY: "Binance API secret (sandbox demo secret)",
        settings.SECRET_KEY: "Django SECRET_KEY",
    }
    for name in ("BINANCE_PAY_SECRET_KEY", "PAYSVC_METRICS_TOKEN"):
        value = getattr(settings, name, "")
        if value:
            found[value] = f"settings.{name}"
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Scan every log of the run for every secret of the run; fail the session on a hit."""
    if _session_log is not None:
        _session_log.flush()
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    secrets = {**fixed_secrets(), **leakcheck.recorded(), **leakcheck.registered()}
    files = leakcheck.log_files(base, leakcheck.watched())
    leaks = leakcheck.find_leaks(files, secrets)
    session.config.stash[_LEAKS] = (leaks, len(secrets), len(files))
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    record = os.environ.get(leakcheck.ENV_VAR, "")
    if os.path.basename(record).startswith("paysvc-secrets-"):  # made by settings_test for us
        Path(record).unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    leaks, secret_count, file_count = config.stash.get(_LEAKS, ([], 0, 0))
    if leaks:
        terminalreporter.section("secret leak check", sep="=", red=True, bold=True)
        terminalreporter.write_line(leakcheck.report(leaks))
    else:
        terminalreporter.write_line(
            f"secret leak check: {secret_count} secrets, {file_count} log files, no leak"
        )


_LEAKS = pytest.StashKey[tuple[list[leakcheck.Leak], int, int]]()


@pytest.fixture(autouse=True)
def _caplog_with_fields(caplog: pytest.LogCaptureFixture) -> None:
    """`caplog.text` in the service's format, fields included (paysvc/logs.py): a test that a
    value is (not) logged must see the record's fields, not only its message."""
    from paysvc.logs import PlainFormatter

    caplog.handler.setFormatter(PlainFormatter())
