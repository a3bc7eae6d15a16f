"""nginx in front of a live gunicorn, configured from deploy/nginx.conf.template, and the slow
clients used against it (tests/paysvc/test_proxy.py).

The template is filled the way the official nginx image's envsubst fills it in docker-compose:
only `${PAYSVC_NGINX_*}` placeholders are replaced.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import math
import os
import re
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live import REPO_ROOT

TEMPLATE = REPO_ROOT / "deploy" / "nginx.conf.template"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
NGINX_MISSING_REASON = "nginx is not installed (make system-deps installs Debian's nginx)"
_PLACEHOLDER = re.compile(r"\$\{(PAYSVC_NGINX_[A-Z0-9_]+)\}")


def render_template(values: Mapping[str, str], template: Path = TEMPLATE) -> str:
    """The template with every placeholder replaced; KeyError names one that has no value."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template.read_text())


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files in `folder`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Nginx:
    """Where a rendered nginx listens, and how to start it (argv for tests.live.running)."""

    http_port: int
    https_port: int
    conf: Path
    access_log: Path
    cert: Path
    argv: list[str]

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def nginx_config(folder: Path, *, upstream: str, http_port: int, https_port: int) -> Nginx:
    """Render the template for Debian's nginx on loopback ports, files under `folder`."""
    cert, key = self_signed_certificate(folder)
    # nginx's worker processes run as nobody and write temporary files there: a directory they
    # can reach (pytest's own temporary folders are private to root).
    temp_dir = Path(tempfile.mkdtemp(prefix="paysvc-nginx-"))
    os.chmod(temp_dir, 0o755)  # noqa: S103 - nginx's workers (nobody) must reach it
    values = {
        "PAYSVC_NGINX_PID": str(folder / "nginx.pid"),
        "PAYSVC_NGINX_TEMP_DIR": str(temp_dir),
        "PAYSVC_NGINX_ACCESS_LOG": str(folder / "nginx-access.log"),
        "PAYSVC_NGINX_UPSTREAM": upstream,
        "PAYSVC_NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "PAYSVC_NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
        "PAYSVC_NGINX_TLS_CERT": str(cert),
        "PAYSVC_NGINX_TLS_KEY": str(key),
    }
    conf = folder / "nginx.conf"
    conf.write_text(render_template(values))
    assert NGINX is not None, NGINX_MISSING_REASON
    argv = [NGINX, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]
    return Nginx(http_port, https_port, conf, folder / "nginx-access.log", cert, argv)


# --- Slow clients ----------------------------------------------------------------------------


@dataclass
class Target:
    """host:port, plain or TLS (with the context that trusts its certificate)."""

    port: int
    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        return sock

    def get(self, path: str, timeout: float, headers: Mapping[str, str] | None = None):
        if self.tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=self.tls
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=dict(headers or {}))
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()


SLOW_BODY_HEAD = (
    "POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Authorization: Bearer psk_live_slowclientslowclientslowclientslowclients\r\n"
    "Content-Length: 1000\r\n\r\n"
)
SLOW_HEADER_HEAD = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@dataclass
class SlowLoad:
    """`count` connections that each send one byte of body (half of them) or one header line
    (the other half) per second, reconnecting whenever the server closes one, until stopped."""

    target: Target
    count: int = 50
    interval: float = 1.0
    connects: int = 0
    closed_by_server: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> SlowLoad:
        for n in range(self.count):
            head = SLOW_BODY_HEAD if n % 2 == 0 else SLOW_HEADER_HEAD
            trickle = b"x" if n % 2 == 0 else f"X-Slow-{n}: 1\r\n".encode()
            thread = threading.Thread(target=self._client, args=(head.encode(), trickle))
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _client(self, head: bytes, trickle: bytes) -> None:
        while not self._stop.is_set():
            try:
                sock = self.target.connect(timeout=5)
            except OSError:
                self._stop.wait(0.2)
                continue
            with self._lock:
                self.connects += 1
            try:
                sock.sendall(head)
                while not self._stop.wait(self.interval):
                    if _server_gave_up(sock):
                        break
                    sock.sendall(trickle)
            except OSError:
                pass
            finally:
                if not self._stop.is_set():
                    with self._lock:
                        self.closed_by_server += 1
                sock.close()


def _server_gave_up(sock: socket.socket) -> bool:
    """Whether the server answered (408, 400, 413) or closed the connection."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    sock.setblocking(False)
    try:
        sock.recv(1)  # data (an answer) or b"" (the server closed)
        return True
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # TLS 1.3 session tickets make the socket readable: no application data
    finally:
        sock.settimeout(5)


@dataclass
class ProbeResult:
    latencies: list[float]
    failures: list[str]

    @property
    def p99(self) -> float:
        if not self.latencies:
            return math.inf
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]

    def summary(self) -> str:
        worst = max(self.latencies, default=math.nan)
        return (
            f"{len(self.latencies)} ok, {len(self.failures)} failed, p99 {self.p99 * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms; failures: {self.failures[:3]}"
        )


def probe(target: Target, path: str, seconds: float, timeout: float = 3.0) -> ProbeResult:
    """GET `path` one request after another (every 100 ms) for `seconds`."""
    result = ProbeResult([], [])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            status, _body, _headers = target.get(path, timeout=timeout)
        except OSError as exc:
            result.failures.append(f"{type(exc).__name__} after {time.monotonic() - started:.1f} s")
        else:
            if status == 200:
                result.latencies.append(time.monotonic() - started)
            else:
                result.failures.append(f"HTTP {status}")
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
    return result
