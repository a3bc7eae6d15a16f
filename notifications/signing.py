"""The `Paysvc-Signature` scheme of merchant notifications (like Stripe's, HMAC-SHA256).

    Paysvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key=secret, msg=f"{t}." + body)>

`body` is the exact bytes of the request body. Each attempt is signed afresh (new `t`); the body
never changes. Pure Python, no Django: merchants may copy this module as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "SIGNATURE_HEADER",
    "SignatureVerificationError",
    "compute_signature",
    "signature_header",
    "verify_signature",
]

SIGNATURE_HEADER = "Paysvc-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureVerificationError(ValueError):
    """The signature header is missing, malformed, too old, or does not match the body."""


def compute_signature(*, timestamp: int, body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `f"{timestamp}." + body` keyed with `secret` (UTF-8)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(*, body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Paysvc-Signature` value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},{SCHEME}={compute_signature(timestamp=t, body=body, secret=secret)}"


def verify_signature(
    header: str | None,
    body: bytes | str,
    secret: str,
    tolerance: int | None = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """Return True when `header` signs `body` with `secret`; raise SignatureVerificationError.

    `body` must be the raw request body, before any JSON parsing. `tolerance` is the accepted
    distance in seconds between `t` and now, either way (None: no time check). Several `v1=`
    entries are accepted (any one may match), so a signer can send one per secret while a
    secret is being rotated.
    """
    if not header:
        raise SignatureVerificationError("no Paysvc-Signature header")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                raise SignatureVerificationError("malformed timestamp in Paysvc-Signature")
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None:
        raise SignatureVerificationError("no timestamp (t=) in Paysvc-Signature")
    if not candidates:
        raise SignatureVerificationError(f"no {SCHEME}= signature in Paysvc-Signature")
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - timestamp) > tolerance:
        raise SignatureVerificationError("timestamp outside the tolerance window")
    expected = compute_signature(timestamp=timestamp, body=raw, secret=secret)
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header may contain anything.
    wanted = expected.encode("ascii")
    if not any(hmac.compare_digest(wanted, c.encode("utf-8", "replace")) for c in candidates):
        raise SignatureVerificationError("signature does not match the body")
    return True
