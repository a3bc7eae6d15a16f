"""Mapping of an HTTP answer from Binance Pay to data or an exception
(docs/binance-pay.md#response-envelope).

Order of the rules:

1. HTTP 429 -> ``RateLimitError`` (``Retry-After`` parsed, seconds or HTTP-date).
2. HTTP 5xx and 408 -> ``TransportError``: outcome unknown.
3. A JSON envelope with ``status:"SUCCESS"`` on a 2xx -> its ``data``.
4. ``status:"FAIL"`` (any HTTP status; the status Binance uses with FAIL is unconfirmed), the
   gateway form ``{"status":"ERROR","type":"SYS","code":"100001001",...}`` and the FAQ form
   ``{"code":"400002","msg":"..."}`` -> ``ApiError(code)``.
5. Any other 4xx (e.g. CloudFront's HTML 403 for a wrong path) -> ``ApiError("HTTP<status>")``.
6. Anything else (non-JSON, not an object, no envelope, SUCCESS on a non-2xx) ->
   ``TransportError("malformed response ...")``: we cannot tell what happened.

JSON is parsed strictly (``Decimal``/``int`` numbers, no duplicate keys; see ``_json``).
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from typing import Any

from binance_pay._json import strict_loads
from binance_pay.errors import ApiError, RateLimitError, TransportError, excerpt

__all__ = ["interpret_response", "parse_retry_after"]

_SECONDS_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    if _SECONDS_RE.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _message(envelope: dict[str, Any]) -> str:
    for key in ("errorMessage", "msg", "errorData"):
        value = envelope.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _envelope_error(envelope: dict[str, Any], http_status: int) -> ApiError | None:
    status = envelope.get("status")
    code = envelope.get("code")
    is_error_form = status in ("FAIL", "ERROR") or (status is None and "msg" in envelope)
    if not is_error_form:
        return None
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or not code:
        return None  # a FAIL without a code is malformed; handled by the caller's fallback
    return ApiError(code, _message(envelope), http_status=http_status)


def interpret_response(status: int, content: bytes, retry_after: str | None = None) -> Any:
    """Return the envelope's ``data`` or raise per the module rules."""
    text = content.decode("utf-8", errors="replace")
    if status == 429:
        raise RateLimitError(
            "rate limited by Binance Pay",
            status_code=status,
            body=text,
            retry_after=parse_retry_after(retry_after),
        )
    if status >= 500 or status == 408:
        raise TransportError("server error from Binance Pay", status_code=status, body=text)
    try:
        envelope = strict_loads(content)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict):
        if envelope.get("status") == "SUCCESS" and 200 <= status < 300:
            return envelope.get("data")
        error = _envelope_error(envelope, status)
        if error is not None:
            raise error
    if 400 <= status < 500:
        raise ApiError(f"HTTP{status}", excerpt(text, 200) or "", http_status=status)
    what = "no envelope" if isinstance(envelope, dict) else "body is not a JSON object"
    raise TransportError(f"malformed response: {what}", status_code=status, body=text)
