"""Request authentication of the Binance API (docs/binance-pay.md#request-headers,
docs/binance-pay.md#nonce, docs/binance-pay.md#timestamp-window,
docs/binance-pay.md#request-signing; check order per docs/binance-pay.md#sandbox-choices).

Order of checks, first failure wins:

1. the four ``BinancePay-*`` headers present and non-empty    -> 400100 naming the header
2. ``BinancePay-Certificate-SN`` is the configured API key      -> 400004
3. ``BinancePay-Timestamp``: digits (else 400001), then |now - ts| <= window (else 400003, so a
   10-digit seconds value fails)
4. ``BinancePay-Nonce`` matches ``^[A-Za-z0-9]{32}$``          -> 400001
5. HMAC-SHA512(secret, ts\\nnonce\\nRAWBODY\\n), upper-case hex, constant-time compare -> 400002
   (a lower-case header therefore fails, docs/binance-pay.md#request-signing / FAQ solution D)
6. body is a JSON object                                        -> 400008

Nonce *reuse* is checked later, inside the write transaction (``claim_nonce``), so a forged request
cannot burn a nonce. That replay check is stricter than Binance documents
(docs/binance-pay.md#nonce).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from sandbox import errors as E
from sandbox.errors import ApiError
from sandbox.validation import parse_json_number

_NONCE = re.compile(r"[A-Za-z0-9]{32}\Z")
HEADERS = (
    ("BinancePay-Timestamp", "HTTP_BINANCEPAY_TIMESTAMP"),
    ("BinancePay-Nonce", "HTTP_BINANCEPAY_NONCE"),
    ("BinancePay-Certificate-SN", "HTTP_BINANCEPAY_CERTIFICATE_SN"),
    ("BinancePay-Signature", "HTTP_BINANCEPAY_SIGNATURE"),
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_loads(body: bytes) -> Any:
    """Strict JSON: exact Decimals for fractional numbers, NaN/Infinity refused."""
    return json.loads(body, parse_float=parse_json_number, parse_constant=_reject_constant)


class Authenticator:
    """Verifies signed merchant requests. Holds the secret as bytes, ready to use."""

    def __init__(
        self, *, api_key: str, secret_key: str, window_ms: int, clock: Callable[[], int]
    ) -> None:
        self._api_key = api_key.encode()
        self._secret = secret_key.encode()
        self._window = window_ms
        self._clock = clock

    def check(self, environ: dict[str, Any], body: bytes) -> tuple[int, str, dict[str, Any]]:
        """Return ``(timestamp, nonce, json_object)`` or raise ``ApiError``."""
        values = []
        for name, key in HEADERS:
            value = environ.get(key, "").strip()
            if not value:
                raise ApiError(
                    E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, f"{name}: header is missing or empty"
                )
            values.append(value)
        ts_raw, nonce, api_key, signature = values
        if not hmac.compare_digest(api_key.encode(), self._api_key):
            raise ApiError(E.INVALID_API_KEY_OR_IP, "API identity key not found or invalid.")
        if not ts_raw.isascii() or not ts_raw.isdigit() or len(ts_raw) > 19:
            raise ApiError(E.INVALID_REQUEST, "BinancePay-Timestamp: must be epoch milliseconds")
        ts = int(ts_raw)
        if abs(self._clock() - ts) > self._window:
            raise ApiError(E.INVALID_TIMESTAMP, E.MSG_BAD_TIMESTAMP)
        if not _NONCE.match(nonce):
            raise ApiError(E.INVALID_REQUEST, "BinancePay-Nonce: must be 32 letters or digits")
        payload = b"%s\n%s\n%s\n" % (ts_raw.encode(), nonce.encode(), body)
        expected = hmac.new(self._secret, payload, hashlib.sha512).hexdigest().upper()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise ApiError(E.INVALID_SIGNATURE, E.MSG_BAD_SIGNATURE)
        try:
            obj = json_loads(body)
        except (ValueError, RecursionError):
            obj = None
        if not isinstance(obj, dict):
            raise ApiError(E.INVALID_REQUEST_BODY, "Request body is not a valid json object.")
        return ts, nonce, obj


def claim_nonce(conn: sqlite3.Connection, nonce: str, now: int) -> None:
    """Record a nonce; a nonce seen within the retention period is a replay -> 400001.

    Sandbox choice, stricter than documented (docs/binance-pay.md#nonce). Nonces older than twice
    the timestamp window are pruned by the dispatcher, and a request that old fails 400003 anyway.
    """
    try:
        conn.execute("INSERT INTO nonces(nonce, ts) VALUES (?, ?)", (nonce, now))
    except sqlite3.IntegrityError:
        raise ApiError(E.INVALID_REQUEST, "BinancePay-Nonce: nonce was already used") from None
