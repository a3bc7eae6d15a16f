"""Signing of merchant notifications: the `Paysvc-Signature` header (like Stripe's, HMAC-SHA256).

    Paysvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key=secret, msg=f"{t}." + body)>

`body` is the exact bytes of the request body. Each attempt is signed afresh (new `t`); the body
never changes. Verifying is the merchant's side: the `paysvc_webhooks` package
(sdk/paysvc-webhooks/), which paysvc's own tests also use, so that the SDK is checked against
this signer rather than against a copy of itself.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "SIGNATURE_HEADER",
    "compute_signature",
    "signature_header",
]

SIGNATURE_HEADER = "Paysvc-Signature"
SCHEME = "v1"


def compute_signature(*, timestamp: int, body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `f"{timestamp}." + body` keyed with `secret` (UTF-8)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(*, body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Paysvc-Signature` value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},{SCHEME}={compute_signature(timestamp=t, body=body, secret=secret)}"
