"""Fixtures for the binance_pay tests: shared vectors, recorded payloads, RSA test keys and a
loopback HTTP server that stands in for Binance Pay."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REPO_ROOT = Path(__file__).resolve().parents[2]
# In-repo copies of the test vectors (docs/binance-pay.md#test-vectors;
# tests/test_vectors_copy.py keeps them identical), so the suite runs wherever the repository is
# cloned.
VECTORS = REPO_ROOT / "tests" / "fixtures" / "vectors"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "binance_pay"


@pytest.fixture(scope="session")
def signing_vectors() -> dict[str, Any]:
    return json.loads((VECTORS / "request-signing.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def real_webhook() -> dict[str, Any]:
    """The real production webhook: ``pem``, ``serial``, ``ts``, ``nonce``, ``body``, ``sig``."""
    vector = json.loads((VECTORS / "real-pay-success-webhook.json").read_text(encoding="utf-8"))
    headers = vector["headers"]
    return {
        "pem": vector["certificate"]["certPublic"],
        "serial": vector["certificate"]["certSerial"],
        "header_serial": headers["BinancePay-Certificate-SN"],
        "ts": headers["BinancePay-Timestamp"],
        "nonce": headers["BinancePay-Nonce"],
        "sig": headers["BinancePay-Signature"],
        "body": vector["raw_body"].encode("utf-8"),
        "expect": vector["expect"],
    }


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    """Read a recorded payload from tests/fixtures/binance_pay by file name."""
    return lambda name: (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class KeyPair:
    private_key: rsa.RSAPrivateKey
    pem: str

    def sign(self, payload: bytes) -> bytes:
        return self.private_key.sign(payload, padding.PKCS1v15(), hashes.SHA256())


def _make_key(bits: int) -> KeyPair:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
        # docs/binance-pay.md#query-certificates: Binance's certPublic has no trailing newline
        .strip()
    )
    return KeyPair(private_key, pem)


@pytest.fixture(scope="session")
def rsa_key() -> KeyPair:
    """A generated RSA-2048 key (fast to sign with) standing in for Binance's webhook key."""
    return _make_key(2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> KeyPair:
    return _make_key(2048)


# -- fake Binance Pay server ---------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b'{"status":"SUCCESS","code":"000000","data":true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, obj: Any, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status=status, body=json.dumps(obj).encode("utf-8"), **kwargs)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # default 5 overflows when 20 threads connect at once
    daemon_threads = True
    block_on_close = False


class FakeBinance:
    """Records every request; answers from a queue of ``Reply``, else from ``responder``."""

    Reply = Reply

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.responder: Callable[[Recorded], Reply] = lambda _req: Reply()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def add_json(self, obj: Any, status: int = 200, **kwargs: Any) -> None:
        self.add(Reply.json(obj, status, **kwargs))

    def add_raw(self, body: bytes, status: int = 200, **kwargs: Any) -> None:
        self.add(Reply(status=status, body=body, **kwargs))

    def _answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if self.replies:
                return self.replies.popleft()
        return self.responder(recorded)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10
            disable_nagle_algorithm = True  # headers and body are two writes

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = fake._answer(Recorded("POST", self.path, headers, body))
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    server = FakeBinance()
    yield server
    server.close()


@pytest.fixture
def unused_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
