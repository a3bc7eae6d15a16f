"""Webhook signing keys (docs/binance-pay.md#query-certificates,
docs/binance-pay.md#webhook-signature, docs/binance-pay.md#sandbox-choices).

* ``certPublic`` = PEM SubjectPublicKeyInfo, base64 in 64-char lines, **no trailing newline**.
* ``certSerial`` = upper-case hex MD5 of that exact string.
* Signature = base64(RSASSA-PKCS1-v1_5 / SHA-256 over
  ``ts + "\\n" + nonce + "\\n" + body + "\\n"``).

Keys live in the ``certs`` table (private half as PKCS#8 PEM) so they survive restarts; parsed key
objects are cached per process (``KeyRing``) so no request parses a key.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def generate_private_key(bits: int = 4096) -> rsa.RSAPrivateKey:
    """A fresh RSA key (4096 bits like Binance production; tests may pass fewer)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def cert_public_pem(key: rsa.RSAPrivateKey) -> str:
    """``certPublic``: SPKI PEM with 64-char lines and no trailing newline
    (docs/binance-pay.md#query-certificates)."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii").rstrip("\n")


def cert_serial(cert_public: str) -> str:
    """``certSerial``: upper-case hex MD5 of the certPublic string
    (docs/binance-pay.md#query-certificates)."""
    return hashlib.md5(cert_public.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key(pem: bytes | str) -> rsa.RSAPrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the sandbox signing key must be an RSA private key")
    return key


def signing_payload(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes Binance signs and merchants verify (docs/binance-pay.md#webhook-signature; trailing
    LF mandatory)."""
    return timestamp.encode("ascii") + b"\n" + nonce.encode("ascii") + b"\n" + body + b"\n"


@dataclass(frozen=True)
class SigningKey:
    serial: str
    cert_public: str
    key: rsa.RSAPrivateKey

    def sign(self, timestamp: str, nonce: str, body: bytes) -> str:
        raw = self.key.sign(
            signing_payload(timestamp, nonce, body), padding.PKCS1v15(), hashes.SHA256()
        )
        return base64.b64encode(raw).decode("ascii")


class KeyRing:
    """Process-local cache of parsed keys, backed by the ``certs`` table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parsed: dict[str, SigningKey] = {}

    def add_key(self, conn: sqlite3.Connection, key: rsa.RSAPrivateKey, *, now: int) -> str:
        """Store a key as an active certificate (inside the caller's write transaction)."""
        public = cert_public_pem(key)
        serial = cert_serial(public)
        conn.execute(
            "INSERT OR IGNORE INTO certs(serial, cert_public, private_pem, status, signing, "
            "created_at) VALUES (?, ?, ?, 'active', 0, ?)",
            (serial, public, private_pem(key), now),
        )
        with self._lock:
            self._parsed[serial] = SigningKey(serial, public, key)
        return serial

    def signing_key(self, conn: sqlite3.Connection) -> SigningKey:
        """The certificate currently chosen to sign webhooks."""
        row = conn.execute(
            "SELECT serial, cert_public, private_pem FROM certs "
            "WHERE status = 'active' AND signing = 1 LIMIT 1"
        ).fetchone()
        if row is None:
            raise LookupError("no active signing certificate")
        return self._get(row["serial"], row["cert_public"], row["private_pem"])

    def by_serial(self, conn: sqlite3.Connection, serial: str) -> SigningKey | None:
        row = conn.execute(
            "SELECT serial, cert_public, private_pem FROM certs WHERE serial = ?", (serial,)
        ).fetchone()
        return None if row is None else self._get(row[0], row[1], row[2])

    def _get(self, serial: str, public: str, pem: str) -> SigningKey:
        with self._lock:
            cached = self._parsed.get(serial)
            if cached is None:
                cached = SigningKey(serial, public, load_private_key(pem))
                self._parsed[serial] = cached
            return cached


def ensure_signing_key(
    conn: sqlite3.Connection, ring: KeyRing, *, bits: int, pem: bytes | None, now: int
) -> str:
    """Make sure one active signing certificate exists; generate it on first start only.

    Call inside a write transaction (``BEGIN IMMEDIATE``) so that concurrent workers cannot both
    generate one.
    """
    row = conn.execute(
        "SELECT serial FROM certs WHERE status = 'active' AND signing = 1 LIMIT 1"
    ).fetchone()
    if row is not None:
        return row[0]
    key = load_private_key(pem) if pem else generate_private_key(bits)
    serial = ring.add_key(conn, key, now=now)
    activate(conn, serial)
    return serial


def activate(conn: sqlite3.Connection, serial: str) -> bool:
    """Make ``serial`` the one signing certificate. False if it is unknown or retired."""
    found = conn.execute(
        "SELECT 1 FROM certs WHERE serial = ? AND status = 'active'", (serial,)
    ).fetchone()
    if not found:
        return False
    conn.execute("UPDATE certs SET signing = (serial = ?)", (serial,))
    return True


def retire(conn: sqlite3.Connection, serial: str) -> str | None:
    """Retire a certificate (it leaves /certificates). Refuses the current signer; returns an
    error message or None."""
    row = conn.execute("SELECT status, signing FROM certs WHERE serial = ?", (serial,)).fetchone()
    if row is None:
        return "unknown certificate"
    if row["signing"]:
        return "cannot retire the signing certificate; activate another one first"
    conn.execute("UPDATE certs SET status = 'retired' WHERE serial = ?", (serial,))
    return None


def list_certs(conn: sqlite3.Connection, *, include_retired: bool = False) -> list[sqlite3.Row]:
    sql = "SELECT serial, cert_public, status, signing, created_at FROM certs"
    if not include_retired:
        sql += " WHERE status = 'active'"
    return conn.execute(sql + " ORDER BY created_at, serial").fetchall()
