"""Signing of merchant notifications: the `Paysvc-Signature` header (like Stripe's, HMAC-SHA256).

    Paysvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key=secret, msg=f"{t}." + body)>[,v1=...]

`body` is the exact bytes of the request body. Each attempt is signed afresh (new `t`); the body
never changes. Verifying is the merchant's side: the `paysvc_webhooks` package
(sdk/paysvc-webhooks/), which paysvc's own tests also use, so that the SDK is checked against
this signer rather than against a copy of itself.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

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


def signature_header(*, body: bytes, secrets: Sequence[str], timestamp: int | None = None) -> str:
    """The `Paysvc-Signature` value for `body`, signed now (or at `timestamp`).

    One ``v1=`` per secret, in the order given: during a secret rotation the new secret and the
    previous one both sign, so a receiver that knows either verifies (as Stripe does).
    """
    if not secrets:
        raise ValueError("a signature needs at least one secret")
    t = int(time.time()) if timestamp is None else int(timestamp)
    signatures = ",".join(
        f"{SCHEME}={compute_signature(timestamp=t, body=body, secret=secret)}" for secret in secrets
    )
    return f"t={t},{signatures}"
