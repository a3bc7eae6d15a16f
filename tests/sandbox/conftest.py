"""Fixtures for the sandbox tests: an in-process app with a fake clock, a Binance-style signer
written independently of the sandbox, a live `python -m sandbox serve` process and a webhook
receiver. No Django involved (run with `-p no:django`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import Client

from sandbox.app import create_app
from sandbox.config import SandboxConfig

REPO = Path(__file__).resolve().parents[2]
# Copies of the test vectors (docs/binance-pay.md#test-vectors; tests/test_vectors_copy.py keeps
# them identical).
FIXTURES = REPO / "tests" / "fixtures" / "vectors"
API_KEY = "a" * 20 + "testapikey0123456789" + "b" * 24
SECRET = "testsecret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN"
T0 = 1_700_000_000_000


# -- signer in the style of Binance's official Python connector -----------------------------------
def signed_headers(
    body: str,
    *,
    secret: str = SECRET,
    key: str = API_KEY,
    ts: str | None = None,
    nonce: str | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    ts = ts if ts is not None else str(int(time.time() * 1000))
    nonce = nonce if nonce is not None else uuid.uuid4().hex
    payload = ts + "\n" + nonce + "\n" + body + "\n"
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest().upper()
    return {
        "Content-Type": content_type,
        "BinancePay-Timestamp": ts,
        "BinancePay-Nonce": nonce,
        "BinancePay-Certificate-SN": key,
        "BinancePay-Signature": signature,
    }


def order_v3_payload(trade_no: str | None = None, **extra: Any) -> dict[str, Any]:
    """The ``order_payload`` order as a Create Order v3 body (docs/binance-pay-v3.md 3)."""
    payload = order_payload(trade_no)
    goods = payload.pop("goods")
    payload["description"] = "Greentea ice cream"
    payload["goodsDetails"] = [goods]
    payload.update(extra)
    return payload


def order_payload(trade_no: str | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "env": {"terminalType": "WEB"},
        "merchantTradeNo": trade_no or uuid.uuid4().hex,
        "orderAmount": "25.17",
        "currency": "USDT",
        "goods": {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
            "goodsDetail": "Greentea ice cream cone",
        },
    }
    payload.update(extra)
    return payload


DELETE = object()


def set_field(path: str, value: Any) -> Callable[[dict[str, Any], int], None]:
    """A payload edit for the validation tables: set the dotted ``path`` to ``value`` (called
    with "now" when callable), or remove it when ``value`` is ``DELETE``."""

    def apply(payload: dict[str, Any], now: int) -> None:
        *parents, leaf = path.split(".")
        node = payload
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value(now) if callable(value) else value

    return apply


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture(scope="session")
def small_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class InProcess:
    """An app driven through werkzeug's test Client, with a fake clock."""

    def __init__(self, app: Any, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self.client = Client(app)

    def call(
        self, path: str, payload: Any = None, *, raw: str | None = None, **sign: Any
    ) -> dict[str, Any]:
        body = raw if raw is not None else json.dumps(payload)
        sign.setdefault("ts", str(self.clock.now))
        resp = self.client.post(
            "/binancepay/openapi" + path, data=body.encode(), headers=signed_headers(body, **sign)
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()

    def ok(self, path: str, payload: Any = None, **sign: Any) -> Any:
        answer = self.call(path, payload, **sign)
        assert answer["status"] == "SUCCESS", answer
        assert answer["code"] == "000000"
        return answer["data"]

    def fail(self, path: str, payload: Any, code: str, contains: str = "", **sign: Any) -> str:
        answer = self.call(path, payload, **sign)
        assert answer["status"] == "FAIL", answer
        assert answer["code"] == code, answer
        assert contains in answer["errorMessage"], answer
        return answer["errorMessage"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.client.open("/sandbox" + path, method=method, json=body)
        return resp.status_code, resp.get_json()

    def run_dispatcher(self) -> None:
        self.app.dispatcher.run_once(sync=True)


@pytest.fixture
def make_sbx(tmp_path: Path, small_key_pem: bytes) -> Iterator[Callable[..., InProcess]]:
    """Factory of in-process sandboxes; keyword arguments change the SandboxConfig."""
    apps: list[Any] = []

    def make(**changes: Any) -> InProcess:
        clock = FakeClock()
        name = "sandbox.sqlite3" if not apps else f"sandbox{len(apps)}.sqlite3"
        cfg = SandboxConfig(
            db_path=str(tmp_path / name),
            api_key=API_KEY,
            secret_key=SECRET,
            rsa_key_pem=small_key_pem,
            run_dispatcher=False,
            clock=clock,
            public_url="http://sandbox.test",
            refund_auto="manual",
        ).with_(**changes)
        apps.append(create_app(cfg))
        return InProcess(apps[-1], clock)

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def sbx(make_sbx: Callable[..., InProcess]) -> InProcess:
    return make_sbx()


# -- live processes --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """A webhook endpoint. Each path answers from its script (HTTP status list), then SUCCESS."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: dict[str, list[dict[str, Any]]] = {}
        self.scripts: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.hits.setdefault(self.path, []).append(
                        {"headers": dict(self.headers), "body": body, "at": time.time()}
                    )
                    script = receiver.scripts.get(self.path) or []
                    status = script.pop(0) if script else 200
                answer = b'{"returnCode":"SUCCESS","returnMessage":null}'
                if status != 200:
                    answer = b'{"returnCode":"FAIL","returnMessage":"scripted failure"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, path: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = list(self.hits.get(path, []))
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: expected {count} deliveries, got {len(got)}")

    def got(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.hits.get(path, []))


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()


class LiveSandbox:
    def __init__(self, db_path: Path, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = db_path
        self.env = {
            **os.environ,
            "SANDBOX_HOST": "127.0.0.1",
            "SANDBOX_PORT": str(self.port),
            "SANDBOX_DB_PATH": str(db_path),
            "SANDBOX_API_KEY": API_KEY,
            "SANDBOX_SECRET_KEY": SECRET,
            "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2",
            "SANDBOX_WORKERS": "2",
            "SANDBOX_REFUND_DELAY": "0.1",
            **env,
        }
        self.env.pop("SANDBOX_PUBLIC_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> LiveSandbox:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                if requests.get(self.url + "/sandbox/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("sandbox did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sandbox", "--url", self.url, *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def post(self, path: str, payload: Any, **sign: Any) -> requests.Response:
        body = json.dumps(payload)
        return requests.post(
            self.url + "/binancepay/openapi" + path,
            data=body.encode(),
            headers=signed_headers(body, **sign),
            timeout=30,
        )

    def ok(self, path: str, payload: Any) -> Any:
        answer = self.post(path, payload).json()
        assert answer["status"] == "SUCCESS", answer
        return answer["data"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = requests.request(method, self.url + "/sandbox" + path, json=body, timeout=30)
        assert resp.status_code < 400, resp.text
        return resp.json()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    """One live sandbox for the session; it generates a real RSA-4096 key on first start."""
    server = LiveSandbox(tmp_path_factory.mktemp("live") / "sandbox.sqlite3").start()
    yield server
    server.stop()


@pytest.fixture
def clean_faults(live: LiveSandbox) -> Iterator[None]:
    yield
    live.control("DELETE", "/faults")
    live.control("DELETE", "/webhook-faults")
