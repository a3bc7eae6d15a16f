"""Domain errors raised by the orders services: the only exceptions that leave `orders`.

Each knows the one HTTP answer the merchant API gives it (`as_api_exception`), so the DRF
exception handler (paysvc.exceptions) maps all of them in one place and no view translates by
hand. Errors from the Binance client (``ApiError``, ``TransportError``) are translated once, by
the gateway (orders.gateway), into ``BinanceRefused`` and ``BinanceUnavailable``.
"""

from __future__ import annotations

from rest_framework.exceptions import APIException, ValidationError

from paysvc.exceptions import ApiConflict, ServiceError, UpstreamError


class OrderServiceError(ServiceError):
    """Base class. `message` is safe to show to the merchant (and to staff)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_api_exception(self) -> APIException:
        return ApiConflict(self.message)


class DuplicateMerchantTradeNo(OrderServiceError):
    """The merchantTradeNo is already used (by us, or at Binance). 409."""


class InvalidOrderState(OrderServiceError):
    """The action does not apply to the order in its current status. 409."""


class IdempotencyConflict(OrderServiceError):
    """An id (Idempotency-Key, refundRequestId, requestId) was reused for another request. 409."""


class IdempotencyInProgress(IdempotencyConflict):
    """The first request with this Idempotency-Key is still running (its lease is live). 409
    ``request_in_progress`` with ``Retry-After``/``retryAfter``: send the same request again
    then (Stripe answers the same; docs/architecture.md#order-creation)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def as_api_exception(self) -> APIException:
        return RequestInProgress(self.message, retry_after=self.retry_after)


class RequestInProgress(ApiConflict):
    """409 ``request_in_progress``: the same request is being answered; retry after ``wait``."""

    error_code = "request_in_progress"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.wait = retry_after  # DRF sets Retry-After from it; error_payload adds retryAfter


class RefundNotAllowed(OrderServiceError):
    """The refund breaks an amount or attempts rule. `field` names the offending input. 400."""

    def __init__(self, message: str, *, field: str = "refundAmount") -> None:
        super().__init__(message)
        self.field = field

    def as_api_exception(self) -> APIException:
        return ValidationError({self.field: [self.message]})


class BinanceRefused(OrderServiceError):
    """Binance answered FAIL: a known, terminal outcome. 502.

    Carries Binance's code, the code's name and Binance's own text (``binance_message``).
    """

    def __init__(self, message: str, *, code: str, name: str, binance_message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.name = name
        self.binance_message = binance_message

    def as_api_exception(self) -> APIException:
        return UpstreamError(
            self.message, status_code=502, outcome="failed", retrying=False, binance_code=self.code
        )


class BinanceUnavailable(OrderServiceError):
    """Binance could not be reached, answered 5xx/429, or is not configured.

    `outcome_unknown`: the call may have taken effect; `retrying`: paysvc keeps resolving it in
    the background; `retry_after`: seconds Binance asked us to wait (429). Answered 503 when
    there is a wait to announce, 504 when the outcome is unknown, else 502.
    """

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool,
        retrying: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.retrying = retrying
        self.retry_after = retry_after

    def as_api_exception(self) -> APIException:
        status = 503 if self.retry_after else 504 if self.outcome_unknown else 502
        return UpstreamError(
            self.message,
            status_code=status,
            outcome="unknown" if self.outcome_unknown else "failed",
            retrying=self.retrying,
            retry_after=int(self.retry_after) if self.retry_after else None,
        )


class BinanceNotConfigured(BinanceUnavailable):
    """paysvc lacks a Binance Pay setting (named in the message); nothing was sent. 502."""

    def __init__(self, message: str) -> None:
        super().__init__(message, outcome_unknown=False, retrying=False)
