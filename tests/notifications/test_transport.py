"""notifications/transport.py: SSRF refusal, DNS pinning (rebinding), TLS with SNI."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications import transport
from notifications.models import NotificationStatus
from notifications.services import notification_deliver
from paysvc.metrics import CALLBACK_DELIVERIES
from tests.factories import OrderFactory
from tests.notifications.conftest import Receiver, notify

PUBLIC_IP = "93.184.216.34"
real_create_connection = urllib3.util.connection.create_connection
real_getaddrinfo = socket.getaddrinfo


class Network:
    """Records where connections go; can divert the pinned public IP to the local receiver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.connections: list[tuple[str, int]] = []
        self.lookups: list[str] = []
        self.divert: dict[tuple[str, int], tuple[str, int]] = {}
        self.fake_dns: dict[str, str] = {}
        monkeypatch.setattr(urllib3.util.connection, "create_connection", self._connect)
        monkeypatch.setattr(socket, "getaddrinfo", self._getaddrinfo)

    def _connect(self, address, *args, **kwargs):
        self.connections.append((address[0], int(address[1])))
        return real_create_connection(self.divert.get(address, address), *args, **kwargs)

    def _getaddrinfo(self, host, port, *args, **kwargs):
        self.lookups.append(str(host))
        if host in self.fake_dns:
            host = self.fake_dns[host]
        return real_getaddrinfo(host, port, *args, **kwargs)


@pytest.fixture
def network(monkeypatch) -> Network:
    return Network(monkeypatch)


def post(url: str, *, allow_private: bool = False) -> transport.DeliveryResult:
    return transport.post(
        url=url,
        body=b"{}",
        headers={"Content-Type": "application/json"},
        allow_private=allow_private,
        connect_timeout=3,
        read_timeout=5,
    )


# -- private targets are refused before any connection --------------------------------------------
@pytest.mark.django_db
def test_a_loopback_url_is_refused_with_no_connection_when_private_urls_are_off(
    receiver, network, settings
):
    settings.PAYSVC_ALLOW_PRIVATE_URLS = False
    refused_before = CALLBACK_DELIVERIES.labels(outcome="refused_url")._value.get()
    notification = notify(event_type="order.paid", order=OrderFactory(notify_url=receiver.url))

    attempt = notification_deliver(notification_id=notification.pk)

    assert attempt is not None
    assert attempt.status_code is None
    assert attempt.error.startswith("refused:")
    assert "loopback" in attempt.error
    assert receiver.requests == []
    assert network.connections == []
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING  # retried, in case DNS changes
    assert notification.attempts == 1
    refused_after = CALLBACK_DELIVERIES.labels(outcome="refused_url")._value.get()
    assert refused_after == refused_before + 1


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "169.254.169.254",
        "metadata.google.internal",
        "10.0.0.5",
        "192.168.1.1",
        "[::ffff:127.0.0.1]",
        "[fd00::1]",
        "redis",
    ],
)
def test_private_and_internal_hosts_are_refused(host, receiver, network):
    result = post(f"http://{host}:{receiver.port}/hook")

    assert result.refused
    assert not result.ok
    assert network.connections == []
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://merchant.example.com/x", "http://user:pw@merchant.example.com/", "javascript:1"]
)
def test_non_http_urls_and_credentials_are_refused(url, network):
    result = post(url)

    assert result.refused
    assert network.connections == []


def test_a_name_that_resolves_to_a_private_address_is_refused(receiver, network):
    network.fake_dns["rebind.example.com"] = "127.0.0.1"

    result = post(f"http://rebind.example.com:{receiver.port}/hook")

    assert result.refused
    assert "127.0.0.1" in result.error
    assert network.connections == []
    assert receiver.requests == []


# -- pinning: connect to the address that was checked --------------------------------------------
@pytest.mark.parametrize("public_ip", [PUBLIC_IP, "2606:2800:220:1:248:1893:25c8:1946"])
def test_the_connection_goes_to_the_checked_address_not_a_second_dns_answer(
    public_ip, receiver, network, monkeypatch
):
    checked: list[tuple[str, int]] = []

    def resolve(host, port, *, allow_private):
        checked.append((host, port))
        return [public_ip]

    monkeypatch.setattr(transport, "resolve_public_addresses", resolve)
    # Any later lookup of the name would now answer loopback (DNS rebinding).
    network.fake_dns["merchant.example.com"] = "127.0.0.1"
    network.divert[(public_ip, receiver.port)] = ("127.0.0.1", receiver.port)

    result = post(f"http://merchant.example.com:{receiver.port}/hook?x=1")

    assert result.ok, result
    assert checked == [("merchant.example.com", receiver.port)]
    assert network.connections == [(public_ip, receiver.port)]
    assert "merchant.example.com" not in network.lookups
    [request] = receiver.requests
    assert request.headers["Host"] == f"merchant.example.com:{receiver.port}"
    assert request.path == "/hook?x=1"
    assert result.address == public_ip


def test_the_next_checked_address_is_tried_when_connecting_fails(receiver, network, monkeypatch):
    from tests.live import free_port

    dead_port = free_port()
    monkeypatch.setattr(
        transport, "resolve_public_addresses", lambda *a, **k: ["93.184.216.35", PUBLIC_IP]
    )
    network.divert[("93.184.216.35", receiver.port)] = ("127.0.0.1", dead_port)
    network.divert[(PUBLIC_IP, receiver.port)] = ("127.0.0.1", receiver.port)

    result = post(f"http://merchant.example.com:{receiver.port}/hook")

    assert result.ok
    assert network.connections == [("93.184.216.35", receiver.port), (PUBLIC_IP, receiver.port)]
    assert len(receiver.requests) == 1


# -- HTTPS: pinned address, SNI and certificate check use the name -------------------------------
def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate for `name` signed by it. Returns (ca, cert, key) files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paysvc test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    ca, cert, key = _certificates(tmp_path, "merchant.example.com")
    server = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.scheme = "https"
    monkeypatch.setattr(transport, "ca_bundle", lambda: str(ca))
    server.start()
    yield server
    server.stop()


def test_https_connects_to_the_pinned_address_with_the_name_in_sni_and_host(
    tls_receiver, network, monkeypatch
):
    monkeypatch.setattr(transport, "resolve_public_addresses", lambda *a, **k: [PUBLIC_IP])
    network.divert[(PUBLIC_IP, tls_receiver.port)] = ("127.0.0.1", tls_receiver.port)

    result = post(f"https://merchant.example.com:{tls_receiver.port}/hook")

    assert result.ok, result
    assert network.connections == [(PUBLIC_IP, tls_receiver.port)]
    assert tls_receiver.sni == ["merchant.example.com"]
    [request] = tls_receiver.requests
    assert request.headers["Host"] == f"merchant.example.com:{tls_receiver.port}"


def test_https_refuses_a_certificate_for_another_name(tls_receiver, network, monkeypatch):
    monkeypatch.setattr(transport, "resolve_public_addresses", lambda *a, **k: [PUBLIC_IP])
    network.divert[(PUBLIC_IP, tls_receiver.port)] = ("127.0.0.1", tls_receiver.port)

    result = post(f"https://shop.example.org:{tls_receiver.port}/hook")

    assert not result.ok
    assert result.status_code is None
    assert "certificate" in result.error.lower() or "hostname" in result.error.lower()
    assert tls_receiver.requests == []
