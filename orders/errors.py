"""Domain errors raised by the orders services; the API maps each to one HTTP answer."""

from __future__ import annotations


class OrderServiceError(Exception):
    """Base class. `message` is safe to show to the merchant."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DuplicateMerchantTradeNo(OrderServiceError):
    """The merchantTradeNo is already used (by us, or at Binance)."""


class InvalidOrderState(OrderServiceError):
    """The action does not apply to the order in its current status."""


class RefundNotAllowed(OrderServiceError):
    """The refund breaks an amount or attempts rule. `field` names the offending input."""

    def __init__(self, message: str, *, field: str = "refundAmount") -> None:
        super().__init__(message)
        self.field = field


class IdempotencyConflict(OrderServiceError):
    """An id (refundRequestId, requestId) was reused for a different request."""


class BinanceRefused(OrderServiceError):
    """Binance answered FAIL: a known, terminal outcome. Carries Binance's code and name."""

    def __init__(self, message: str, *, code: str, name: str) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


class BinanceUnavailable(OrderServiceError):
    """Binance could not be reached or answered 5xx/429 and the outcome is known or unknown.

    `outcome_unknown`: the call may have taken effect; `retrying`: paysvc keeps resolving it in
    the background; `retry_after`: seconds Binance asked us to wait (429).
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
