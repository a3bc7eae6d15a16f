"""Webhook signature verification (docs/binance-pay.md#webhook-headers,
docs/binance-pay.md#webhook-signature) and notification parsing re-exports.

Binance signs ``timestamp LF nonce LF rawBody LF`` with RSASSA-PKCS1-v1_5 / SHA-256 and sends
the signature as standard, padded base64 in ``BinancePay-Signature``; the key is the
``certPublic`` whose ``certSerial`` equals ``BinancePay-Certificate-SN``. Verify the raw request
bytes exactly as received -- never a re-serialisation (docs/binance-pay.md#gotcha-raw-bytes).

Every failure raises ``SignatureError`` with a machine ``reason``; success returns ``None``.
Choosing the certificate (trusted list fetched from Binance, cached by serial) is the caller's
job; ``verify_with_certificates`` does the lookup in a mapping the caller provides.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from binance_pay.errors import SignatureError
from binance_pay.notifications import (
    PayNotificationData,
    RefundInfo,
    RefundNotificationData,
    ShareAccountNotificationData,
    WebhookNotification,
    parse_notification,
)

__all__ = [
    "PayNotificationData",
    "RefundInfo",
    "RefundNotificationData",
    "ShareAccountNotificationData",
    "WebhookNotification",
    "cert_serial",
    "load_public_key",
    "parse_notification",
    "signature_payload",
    "verify_signature",
    "verify_with_certificates",
]

MIN_KEY_BITS = 2048
# 684 chars for RSA-4096 (docs/binance-pay.md#webhook-headers); anything far longer is not worth
# decoding.
MAX_SIGNATURE_CHARS = 2048
_TIMESTAMP_RE = re.compile(r"[0-9]{1,19}")
# Printable ASCII without space: in particular no LF, so the signed string splits one way only.
_NONCE_RE = re.compile(r"[\x21-\x7e]{1,128}")


def cert_serial(cert_public_pem: str) -> str:
    """Upper-case hex MD5 of the exact PEM string (docs/binance-pay.md#query-certificates; e.g.
    ``31BEF298...7501``)."""
    digest = hashlib.md5(cert_public_pem.encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest().upper()


@functools.lru_cache(maxsize=32)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a PEM SubjectPublicKeyInfo RSA key; cached per PEM string (RSA-4096 parsing costs).

    Raises ``SignatureError("malformed_key")`` for anything that is not an RSA public key PEM and
    ``SignatureError("weak_key")`` below 2048 bits. Failures are not cached.
    """
    if not isinstance(pem, str):
        raise SignatureError("malformed_key", "PEM must be a str")
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise SignatureError("malformed_key", type(exc).__name__) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("malformed_key", "not an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise SignatureError("weak_key", f"{key.key_size} bits")
    return key


def signature_payload(timestamp: str, nonce: str, body: bytes) -> bytes:
    """``timestamp LF nonce LF body LF``: docs/binance-pay.md#webhook-signature; the trailing LF is
    mandatory (docs/binance-pay.md#gotcha-trailing-lf)."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def _decode_signature(signature: str) -> bytes:
    if not isinstance(signature, str) or not signature:
        raise SignatureError("missing_signature")
    if len(signature) > MAX_SIGNATURE_CHARS:
        raise SignatureError("bad_signature", "too long")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("bad_base64") from None
    # validate=True rejects the url-safe alphabet, whitespace and bad padding, but still accepts
    # non-zero padding bits ("...ZY=" and "...ZZ=" decode alike). Only canonical base64 passes,
    # so every distinct signature string maps to distinct bytes.
    if base64.b64encode(raw).decode("ascii") != signature:
        raise SignatureError("bad_base64", "non-canonical encoding")
    return raw


def verify_signature(
    *, public_key_pem: str, timestamp: str, nonce: str, body: bytes, signature: str
) -> None:
    """Verify a webhook signature over the exact ``body`` bytes; ``SignatureError`` on failure.

    ``timestamp`` must be ASCII digits and ``nonce`` printable ASCII without whitespace, so the
    signed string has a single reading. Freshness of ``timestamp`` and nonce reuse are the
    caller's policy and are not checked here.
    """
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be the raw request bytes")
    if not isinstance(timestamp, str) or not _TIMESTAMP_RE.fullmatch(timestamp):
        raise SignatureError("bad_timestamp")
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise SignatureError("bad_nonce")
    raw_signature = _decode_signature(signature)
    key = load_public_key(public_key_pem)
    if len(raw_signature) != (key.key_size + 7) // 8:
        raise SignatureError("bad_signature", "wrong length")
    try:
        key.verify(
            raw_signature,
            signature_payload(timestamp, nonce, bytes(body)),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise SignatureError("bad_signature") from None


def verify_with_certificates(
    *,
    certificates: Mapping[str, str],
    serial: str,
    timestamp: str,
    nonce: str,
    body: bytes,
    signature: str,
) -> None:
    """Verify with the certificate whose serial is ``serial`` (the ``BinancePay-Certificate-SN``).

    ``certificates`` maps ``certSerial`` -> ``certPublic`` PEM and must come from a trusted
    source (Query Certificates), never from the request. An unknown serial raises
    ``SignatureError("unknown_certificate")``; the caller may refresh its list once and retry
    (docs/binance-pay.md#query-certificates, docs/binance-pay.md#gotcha-certificate-rotation).
    """
    pem = certificates.get(serial) if isinstance(serial, str) else None
    if pem is None:
        raise SignatureError("unknown_certificate")
    verify_signature(
        public_key_pem=pem, timestamp=timestamp, nonce=nonce, body=body, signature=signature
    )
