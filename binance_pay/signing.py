"""Request signing for merchant -> Binance calls (docs/binance-pay.md#request-headers,
docs/binance-pay.md#nonce, docs/binance-pay.md#timestamp-window,
docs/binance-pay.md#request-signing, docs/binance-pay.md#signing-example).

The signature covers the exact body bytes sent, so a body is built once with ``encode_body``,
signed with ``sign_payload`` / ``signed_headers`` and sent unchanged
(docs/binance-pay.md#request-signing, docs/binance-pay.md#gotcha-sign-what-you-send).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from binance_pay._json import plain_decimal

__all__ = [
    "NONCE_ALPHABET",
    "NONCE_LENGTH",
    "encode_body",
    "make_nonce",
    "now_ms",
    "sign_payload",
    "signed_headers",
]

# docs/binance-pay.md#nonce: 32 characters; [A-Za-z0-9] is accepted in production.
NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 32


def make_nonce() -> str:
    """A fresh 32-character ``[A-Za-z0-9]`` nonce from a CSPRNG."""
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(NONCE_LENGTH))


def now_ms() -> int:
    """Current Unix time in milliseconds (docs/binance-pay.md#timestamp-window: milliseconds, not
    seconds)."""
    return time.time_ns() // 1_000_000


def sign_payload(secret: str, timestamp: str | int, nonce: str, body: bytes) -> str:
    """Upper-case hex HMAC-SHA512 of ``timestamp LF nonce LF body LF``.

    docs/binance-pay.md#request-signing: key = UTF-8 secret; exactly three LFs, the trailing one
    mandatory; the body is the exact bytes sent; hex upper case (lower case is rejected, FAQ
    solution D).
    """
    if not isinstance(body, bytes | bytearray):
        raise TypeError("body must be the exact bytes sent, not str")
    payload = f"{timestamp}\n{nonce}\n".encode() + bytes(body) + b"\n"
    digest = hmac.new(secret.encode("utf-8"), payload, hashlib.sha512).hexdigest()
    return digest.upper()


def signed_headers(
    *,
    api_key: str,
    secret: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four BinancePay headers plus ``Content-Type`` for ``body``
    (docs/binance-pay.md#request-headers).

    ``timestamp`` defaults to ``now_ms()`` and ``nonce`` to ``make_nonce()``; pass them only for
    tests. ``BinancePay-Certificate-SN`` carries the API key, despite its name.
    """
    ts = now_ms() if timestamp is None else timestamp
    nonce_value = make_nonce() if nonce is None else nonce
    return {
        "Content-Type": "application/json",
        "BinancePay-Timestamp": str(ts),
        "BinancePay-Nonce": nonce_value,
        "BinancePay-Certificate-SN": api_key,
        "BinancePay-Signature": sign_payload(secret, ts, nonce_value, body),
    }


def jsonable(value: Any, path: str) -> Any:
    """Copy of ``value`` with Decimals as plain strings; refuses floats and unknown types."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, float):
        raise TypeError(f"{path or 'value'}: float is not allowed, use Decimal or str")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path or 'value'}: object keys must be str, got {key!r}")
            out[key] = jsonable(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list | tuple):
        return [jsonable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{path or 'value'}: cannot encode {type(value).__name__} as JSON")


def encode_body(obj: Any) -> bytes:
    """Compact UTF-8 JSON for a request body.

    Separators ``,``/``:`` without spaces, non-ASCII kept literal, key order preserved, Decimals
    as JSON strings in plain notation (``Decimal("1E-8")`` -> ``"0.00000001"``; Create Order
    accepts numeric strings: docs/binance-pay.md#create-order). Floats are refused (``TypeError``)
    so money never passes through binary floating point; NaN/Infinity are refused (``ValueError``).
    """
    text = json.dumps(jsonable(obj, ""), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")
