"""Checks of a webhook delivery, all made before anything is written (docs/conventions.md#rule-8).

``verify_delivery`` takes the request's META and its raw body and either returns a
``VerifiedDelivery`` or raises ``Rejected`` with a short machine reason (also the metric label)
and the HTTP status to answer. The order is cheap to expensive: headers present and well formed
(docs/binance-pay.md#webhook-headers), timestamp inside the window, certificate from Binance's own
list by serial (docs/binance-pay.md#query-certificates), RSA signature over the exact bytes received
(docs/binance-pay.md#webhook-signature, docs/binance-pay.md#gotcha-raw-bytes), body parse, and
finally the nonce store.

Nonce store: ``nonce -> sha256(body)`` kept for twice the timestamp window
(docs/reliability.md#5-nonce-store). The same nonce with the same body is an exact replay and goes
on (the event's unique key makes it a no-op, and it is answered SUCCESS as Binance expects); the
same nonce with another body is refused. When the cache is down the check is skipped (logged): the
signature, the window and the unique constraint still hold, and refusing every webhook would be
worse. After a failure the store is left alone for ``NONCE_STORE_PAUSE_SECONDS``: a hung Redis would
otherwise cost every delivery a socket timeout (docs/reliability.md#18-broker-down,
docs/reliability.md#25-broker-flapping).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from binance_pay import (
    MalformedNotification,
    SignatureError,
    WebhookNotification,
    parse_notification,
    verify_signature,
)
from paysvc import clock
from webhooks import certificates

logger = logging.getLogger(__name__)

# META key -> header name, in the order they are checked.
HEADERS = {
    "HTTP_BINANCEPAY_TIMESTAMP": "BinancePay-Timestamp",
    "HTTP_BINANCEPAY_NONCE": "BinancePay-Nonce",
    "HTTP_BINANCEPAY_CERTIFICATE_SN": "BinancePay-Certificate-SN",
    "HTTP_BINANCEPAY_SIGNATURE": "BinancePay-Signature",
}
# docs/binance-pay.md#webhook-headers, real format: epoch ms (13 digits until 2286), 32
# alphanumerics, 32 hex (an MD5), standard padded base64 (684 chars for RSA-4096). ASCII classes
# only: no Unicode digits.
_FORMATS = {
    "HTTP_BINANCEPAY_TIMESTAMP": re.compile(r"[0-9]{13}"),
    "HTTP_BINANCEPAY_NONCE": re.compile(r"[A-Za-z0-9]{32}"),
    "HTTP_BINANCEPAY_CERTIFICATE_SN": re.compile(r"[0-9A-Fa-f]{32}"),
    "HTTP_BINANCEPAY_SIGNATURE": re.compile(
        r"(?:[A-Za-z0-9+/]{4}){1,512}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
    ),
}
NONCE_KEY_PREFIX = "webhooks:nonce:"
# Longest id we store; Binance's are 18-19 digits, bizType/bizStatus short words.
MAX_ID_CHARS = 64
# After the nonce store (the cache) fails, skip it this long (cf. webhooks.publish).
NONCE_STORE_PAUSE_SECONDS = 5.0
_nonce_store_paused_until = 0.0


class Rejected(Exception):
    """A delivery refused before anything was stored. ``reason`` is a fixed machine code."""

    def __init__(self, reason: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VerifiedDelivery:
    """A delivery whose signature verified, with its parsed envelope."""

    body: bytes
    headers: dict[str, str]
    cert_serial: str
    notification: WebhookNotification


def verify_delivery(meta: Mapping[str, Any], body: bytes) -> VerifiedDelivery:
    """Run every check on a delivery; raises ``Rejected``."""
    values = _signed_headers(meta)
    timestamp = values["HTTP_BINANCEPAY_TIMESTAMP"]
    nonce = values["HTTP_BINANCEPAY_NONCE"]
    serial = values["HTTP_BINANCEPAY_CERTIFICATE_SN"].upper()
    _check_timestamp(timestamp)
    _check_signature(serial=serial, timestamp=timestamp, nonce=nonce, body=body, meta=values)
    notification = _parse(body)
    _check_nonce(nonce, body)
    headers = {name: values[key] for key, name in HEADERS.items()}
    headers["Content-Type"] = str(meta.get("CONTENT_TYPE", ""))
    return VerifiedDelivery(
        body=body,
        headers=headers,
        cert_serial=serial,
        notification=notification,
    )


def _signed_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, name in HEADERS.items():
        value = meta.get(key)
        if not value:
            raise Rejected("missing_header", f"{name} is missing or empty")
        if not isinstance(value, str) or not _FORMATS[key].fullmatch(value):
            raise Rejected("malformed_header", f"{name} is not well formed")
        values[key] = value
    return values


def _check_timestamp(timestamp: str) -> None:
    tolerance_ms = int(settings.BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS) * 1000
    skew = int(timestamp) - clock.now_ms()
    if skew < -tolerance_ms:
        raise Rejected("stale_timestamp", "BinancePay-Timestamp is too old", status=401)
    if skew > tolerance_ms:
        raise Rejected("future_timestamp", "BinancePay-Timestamp is in the future", status=401)


def _check_signature(
    *, serial: str, timestamp: str, nonce: str, body: bytes, meta: Mapping[str, str]
) -> None:
    try:
        pem = certificates.certificate_pem(serial)
    except certificates.UnknownCertificate:
        raise Rejected(
            "unknown_certificate",
            "BinancePay-Certificate-SN is not a Binance certificate",
            status=401,
        ) from None
    except certificates.CertificatesUnavailable:
        raise Rejected(
            "certificates_unavailable",
            "cannot check BinancePay-Certificate-SN now; retry later",
            status=503,
        ) from None
    try:
        verify_signature(
            public_key_pem=pem,
            timestamp=timestamp,
            nonce=nonce,
            body=body,
            signature=meta["HTTP_BINANCEPAY_SIGNATURE"],
        )
    except SignatureError as exc:
        raise Rejected(
            "bad_signature", f"signature does not verify ({exc.reason})", status=401
        ) from None


def _parse(body: bytes) -> WebhookNotification:
    try:
        notification = parse_notification(body)
    except MalformedNotification as exc:
        raise _not_a_notification(exc) from None
    for value in (notification.biz_type, notification.biz_id_str, notification.biz_status):
        if len(value) > MAX_ID_CHARS:
            raise Rejected("malformed_body", "bizType, bizIdStr or bizStatus is too long")
    if notification.biz_type == "PAY_REFUND":
        _check_refund_info_text(notification)
    return notification


def _check_refund_info_text(notification: WebhookNotification) -> None:
    """``refundInfo`` may be JSON text of its own (docs/binance-pay.md#refund-data), parsed only
    when it is read.

    A NUL or lone surrogate in it is refused now, as anywhere else in the body
    (docs/binance-pay.md#webhook-envelope), instead of reaching the dedupe key or the processing.
    Other defects of a refund's data keep their documented path: stored, keyed by the body, and
    failed visibly by processing (webhooks.services.intake.dedupe_key).
    """
    try:
        notification.refund_data()
    except MalformedNotification as exc:
        if exc.reason == "invalid_text":
            raise _not_a_notification(exc) from None


def _not_a_notification(exc: MalformedNotification) -> Rejected:
    return Rejected("malformed_body", f"body is not a Binance notification ({exc})")


def _check_nonce(nonce: str, body: bytes) -> None:
    global _nonce_store_paused_until
    if time.monotonic() < _nonce_store_paused_until:
        return  # failed moments ago (logged then); not worth another timeout
    key = NONCE_KEY_PREFIX + nonce
    digest = hashlib.sha256(body).hexdigest()[:32]
    ttl = 2 * int(settings.BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS)
    try:
        if cache.add(key, digest, ttl):
            return
        seen = cache.get(key)
    except Exception:
        _nonce_store_paused_until = time.monotonic() + NONCE_STORE_PAUSE_SECONDS
        logger.warning(
            "nonce store unavailable; nonces not checked for %.0f s",
            NONCE_STORE_PAUSE_SECONDS,
            exc_info=True,
        )
        return
    if seen is not None and seen != digest:
        raise Rejected("nonce_reused", "BinancePay-Nonce was already used for another body")
