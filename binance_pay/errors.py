"""Exceptions raised by the Binance Pay client.

The split callers rely on (docs/conventions.md#rule-4):

* ``TransportError``: the outcome is unknown (timeout, connection error, HTTP 5xx, malformed or
  incomplete response). The request may or may not have been executed by Binance, so query the
  resource before retrying a state-changing call. ``RateLimitError`` is a ``TransportError`` with
  an optional ``retry_after`` hint.
* ``ApiError``: Binance answered with a definite failure (``status:"FAIL"`` envelope, gateway
  error, or a 4xx without an envelope). Terminal unless ``retryable`` (only ``400000``).
* ``SignatureError``: a webhook signature could not be verified; ``reason`` is a short machine code.
* ``MalformedNotification``: a webhook body is not a notification we can act on (also a
  ``ValueError``); ``reason`` is a machine code and ``field`` names the offending field.

All exceptions pickle and unpickle intact (Celery stores them in result backends).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "RESULT_CODES",
    "ApiError",
    "BinancePayError",
    "MalformedNotification",
    "RateLimitError",
    "SignatureError",
    "TransportError",
    "code_name",
]

BODY_EXCERPT_CHARS = 500

# docs/binance-pay.md#result-codes (common codes) plus the endpoint-specific codes of
# docs/binance-pay.md#close-order, docs/binance-pay.md#refund-order and
# docs/binance-pay.md#share-account-id.
RESULT_CODES: dict[str, str] = {
    "000000": "SUCCESS",
    "400000": "UNKNOWN_ERROR",
    "400001": "INVALID_REQUEST",
    "400002": "INVALID_SIGNATURE",
    "400003": "INVALID_TIMESTAMP",
    "400004": "INVALID_API_KEY_OR_IP",
    "400005": "BAD_API_KEY_FMT",
    "400006": "BAD_HTTP_METHOD",
    "400007": "MEDIA_TYPE_NOT_SUPPORTED",
    "400008": "INVALID_REQUEST_BODY",
    "400100": "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    "400101": "INVALID_PARAM_WRONG_LENGTH",
    "400102": "INVALID_PARAM_WRONG_VALUE",
    "400103": "INVALID_PARAM_ILLEGAL_CHAR",
    "400104": "INVALID_REQUEST_TOO_LARGE",
    "400201": "INVALID_MERCHANT_TRADE_NO",
    "400202": "ORDER_NOT_FOUND",
    "400203": "INVALID_ACCOUNT_STATUS",
    "400204": "INVALID_ORDER_STATUS",
    "400206": "SUB_MERCHANT_INVALID",
    "400301": "INVALID_PREPAY_ID",
    "400302": "TOO_MANY_REFUND_ATTEMPTS",
    "400303": "INVALID_REFUND_AMOUNT",
    "400304": "ACCOUNT_REMAINING_AMOUNT_NOT_ENOUGH",
    "400606": "MERCHANT_ACCESS_FORBIDDEN",
    "400702": "PAYMENT_INVALID_PARAM",
    "406301": "PAYMENT_DIRECT_DEBIT_CONTRACT_CODE_INVALID",
}

# docs/binance-pay.md#result-codes: only UNKNOWN_ERROR says "retry later".
RETRYABLE_CODES = frozenset({"400000"})


def code_name(code: str) -> str:
    """Name of a Binance result code from the table, or ``"UNKNOWN"``."""
    return RESULT_CODES.get(code, "UNKNOWN")


def excerpt(text: str | None, limit: int = BODY_EXCERPT_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters (with a marker), for error messages and logs."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "...[truncated]"


class BinancePayError(Exception):
    """Base class of every error raised by ``binance_pay``."""

    def _ctor_args(self) -> tuple[Any, ...]:
        return self.args

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments would be lost by the default pickling.
        return (_rebuild, (type(self), self._ctor_args(), self.__dict__.copy(), self.args))


class TransportError(BinancePayError):
    """Outcome unknown: the call may or may not have taken effect at Binance.

    Attributes: ``message``; ``status_code`` (HTTP status, ``None`` when no response arrived);
    ``body`` (response text cut to about 500 characters, or ``None``).
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, body: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = excerpt(body)

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.message,)

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.message} (HTTP {self.status_code})"


class RateLimitError(TransportError):
    """HTTP 429. ``retry_after`` is the server's hint in seconds, or ``None``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        body: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ApiError(BinancePayError):
    """A definite failure answer from Binance.

    Attributes: ``code`` (string, e.g. ``"400201"``; ``"HTTP403"`` for a bare 4xx), ``name``
    (from docs/binance-pay.md#result-codes, docs/binance-pay.md#endpoints, ``"UNKNOWN"`` if not in
    the table), ``message`` (Binance's ``errorMessage``), ``http_status``.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        http_status: int | None = None,
        name: str | None = None,
    ) -> None:
        self.code = code
        self.name = name if name is not None else code_name(code)
        self.message = message
        self.http_status = http_status
        super().__init__(f"{code} {self.name}: {message}" if message else f"{code} {self.name}")

    @property
    def retryable(self) -> bool:
        """True only for ``400000 UNKNOWN_ERROR`` (docs/binance-pay.md#result-codes: "retry
        later")."""
        return self.code in RETRYABLE_CODES

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.code,)


class SignatureError(BinancePayError):
    """Webhook signature verification failed.

    ``reason`` is one of: ``missing_signature``, ``bad_base64``, ``bad_signature``,
    ``bad_timestamp``, ``bad_nonce``, ``unknown_certificate``, ``malformed_key``, ``weak_key``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.reason,)


class MalformedNotification(BinancePayError, ValueError):
    """A webhook body that cannot be acted on.

    ``reason`` is a machine code (``not_utf8``, ``not_json``, ``too_deep``, ``duplicate_key``,
    ``not_object``, ``missing_field``, ``invalid_field``, ``id_mismatch``, ``invalid_text``: a NUL
    or a lone surrogate in a string); ``field`` names the
    field concerned when there is one (``"bizIdStr"``, ``"data"``, ``"data.totalFee"``...).
    """

    def __init__(self, reason: str, field: str | None = None, detail: str = "") -> None:
        self.reason = reason
        self.field = field
        self.detail = detail
        text = reason if field is None else f"{reason}: {field}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def _ctor_args(self) -> tuple[Any, ...]:
        return (self.reason,)


def _rebuild(
    cls: type[BaseException],
    ctor_args: tuple[Any, ...],
    state: dict[str, Any],
    args: tuple[Any, ...],
) -> BaseException:
    """Unpickle helper: re-create with the positional args, then restore all attributes."""
    obj = cls(*ctor_args)
    obj.__dict__.update(state)
    obj.args = args
    return obj
