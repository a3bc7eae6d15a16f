"""Verify the signed events that paysvc POSTs to merchants. Standard library only, Python >= 3.9.

Every event carries ``Paysvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed
with the application's notification secret (UTF-8) over ``f"{t}." + raw body``. During a secret
rotation the header carries one ``v1=`` per secret; any one of them may match.

    import paysvc_webhooks

    event = paysvc_webhooks.construct_event(raw_body, signature_header, secret)

This file has no dependency: it can also be copied into a project as ``paysvc_webhooks.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from typing import Any, Union

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SCHEME",
    "SIGNATURE_HEADER",
    "InvalidPayloadError",
    "MalformedHeaderError",
    "MissingHeaderError",
    "MissingSignatureError",
    "MissingTimestampError",
    "NoMatchingSignatureError",
    "SignatureVerificationError",
    "TimestampOutsideToleranceError",
    "construct_event",
    "verify",
]

__version__ = "1.0.0"

SIGNATURE_HEADER = "Paysvc-Signature"
EVENT_ID_HEADER = "Paysvc-Event-Id"
EVENT_TYPE_HEADER = "Paysvc-Event-Type"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds, either way

# paysvc sends ~150 characters (two signatures during a rotation). The cap bounds the work a
# forged header can cause, and 12 digits of seconds reach the year 33658.
MAX_HEADER_LENGTH = 4096
MAX_TIMESTAMP_DIGITS = 12

Payload = Union[bytes, bytearray, memoryview, str]
Secrets = Union[str, Iterable[str]]


class SignatureVerificationError(ValueError):
    """The request is not a genuine paysvc event: refuse it (answer 400). Base of every failure."""


class MissingHeaderError(SignatureVerificationError):
    """There is no Paysvc-Signature header (None or blank)."""


class MalformedHeaderError(SignatureVerificationError):
    """The header is not a comma-separated list of ``key=value`` items of printable ASCII, is
    too long, has a ``t`` that is not 1-12 digits, or has ``t`` more than once."""


class MissingTimestampError(SignatureVerificationError):
    """The header has no ``t=`` item."""


class MissingSignatureError(SignatureVerificationError):
    """The header has no ``v1=`` item (other schemes are ignored)."""


class NoMatchingSignatureError(SignatureVerificationError):
    """No ``v1`` value is the HMAC of this body with any of the secrets: wrong secret, or the
    body was changed (parsed and re-serialised, decoded, trimmed...) or forged."""


class TimestampOutsideToleranceError(SignatureVerificationError):
    """The signature matches, but ``t`` is further than ``tolerance`` seconds from now: a
    replayed request, or a clock that is off. ``timestamp``, ``now`` and ``tolerance`` say which."""

    def __init__(self, message: str, *, timestamp: int, now: float, tolerance: float) -> None:
        super().__init__(message)
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance


class InvalidPayloadError(ValueError):
    """construct_event: the signature is valid but the body is not a UTF-8 JSON object."""


def verify(
    payload: Payload,
    header: str | None,
    secret: Secrets,
    tolerance: float | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """Return True when ``header`` is a valid paysvc signature of ``payload``; raise otherwise.

    ``payload``: the raw request body exactly as received, before any JSON parsing (a ``str``
    is encoded as UTF-8). ``header``: the Paysvc-Signature value (None when absent).
    ``secret``: the notification secret, or several (old and new during a rotation); any one
    may match any ``v1=`` value of the header. ``tolerance``: the largest accepted distance in
    seconds between ``t`` and now, either way; None disables the time check. ``now``: the
    current Unix time (default ``time.time()``), for tests.

    Raises a subclass of SignatureVerificationError naming the first failure, checked in this
    order: MissingHeaderError, MalformedHeaderError, MissingTimestampError,
    MissingSignatureError, NoMatchingSignatureError, TimestampOutsideToleranceError. The time is
    checked after the signature, so a tolerance failure always means a genuine but stale (or
    replayed) request. Signatures are compared in constant time. ValueError or TypeError (not
    SignatureVerificationError) mean the call itself is wrong: no secret, a negative tolerance,
    a payload that is neither bytes nor str.
    """
    keys = _secret_list(secret)
    body = _payload_bytes(payload)
    if tolerance is not None and tolerance < 0:
        raise ValueError("tolerance must be >= 0 seconds, or None")
    t, signatures = _parse_header(header)
    signed = t.encode("ascii") + b"." + body
    matched = False
    for key in keys:
        expected = hmac.new(key.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode()
        for candidate in signatures:
            # No early exit: the work done does not depend on where (or whether) a match is.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        count = "the secret" if len(keys) == 1 else f"any of the {len(keys)} secrets"
        raise NoMatchingSignatureError(f"no {SCHEME} signature matches the body with {count}")
    if tolerance is not None:
        current = time.time() if now is None else now
        _check_time(int(t), current, tolerance)
    return True


def construct_event(
    payload: Payload,
    header: str | None,
    secret: Secrets,
    tolerance: float | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify like ``verify``, then return the event: the body parsed as a JSON object.

    ``{"id": "evt_...", "type": "order.paid", "createdAt": "...Z", "data": {...}}``. Raises what
    ``verify`` raises, and InvalidPayloadError when the verified body is not a UTF-8 JSON object.
    Delivery is at least once: deduplicate on ``event["id"]``.
    """
    verify(payload, header, secret, tolerance, now=now)
    body = _payload_bytes(payload)
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPayloadError(f"the body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(event, dict):
        raise InvalidPayloadError("the body is JSON but not an object")
    return event


# -- internals ------------------------------------------------------------------------------------
def _secret_list(secret: Secrets) -> list[str]:
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise ValueError("no secret given")
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"a secret must be a str, not {type(key).__name__}")
        if not key:
            raise ValueError("a secret must not be empty")
    return keys


def _payload_bytes(payload: Payload) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(f"payload must be the raw body as bytes or str, not {type(payload).__name__}")


def _parse_header(header: str | None) -> tuple[str, list[bytes]]:
    """The ``t`` digits and the ``v1`` values (ASCII bytes) of a Paysvc-Signature value."""
    if header is None or not header.strip():
        raise MissingHeaderError(f"no {SIGNATURE_HEADER} header")
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedHeaderError(f"{SIGNATURE_HEADER} is longer than {MAX_HEADER_LENGTH}")
    timestamp: str | None = None
    signatures: list[bytes] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value or not _printable_ascii(key + value):
            raise MalformedHeaderError(
                f"{SIGNATURE_HEADER} is not a comma-separated list of key=value items"
            )
        if key == "t":
            if timestamp is not None:
                raise MalformedHeaderError(f"{SIGNATURE_HEADER} has more than one t=")
            if not value.isdigit() or len(value) > MAX_TIMESTAMP_DIGITS:
                raise MalformedHeaderError(f"t= in {SIGNATURE_HEADER} is not a Unix time")
            timestamp = value
        elif key == SCHEME:
            signatures.append(value.encode("ascii"))
        # Other keys (a future v2=, say) are ignored, so that paysvc can add a scheme without
        # breaking merchants who verify v1.
    if timestamp is None:
        raise MissingTimestampError(f"no timestamp (t=) in {SIGNATURE_HEADER}")
    if not signatures:
        raise MissingSignatureError(f"no {SCHEME}= signature in {SIGNATURE_HEADER}")
    return timestamp, signatures


def _printable_ascii(text: str) -> bool:
    # isdigit() alone would accept full-width and other Unicode digits; this rules them out.
    return all("!" <= ch <= "~" for ch in text)


def _check_time(timestamp: int, now: float, tolerance: float) -> None:
    distance = now - timestamp
    if abs(distance) <= tolerance:
        return
    when = f"{int(distance)} s old" if distance > 0 else f"{int(-distance)} s in the future"
    raise TimestampOutsideToleranceError(
        f"timestamp outside the tolerance: t={timestamp} is {when} (tolerance {tolerance:g} s)",
        timestamp=timestamp,
        now=now,
        tolerance=tolerance,
    )
