"""The one seam between the orders services and Binance Pay.

Every call the orders app makes to Binance goes through a `BinanceGateway`, which

* builds the client from settings at call time (paysvc.integrations; a missing setting becomes
  `BinanceNotConfigured`);
* records every call (request, answer, duration, error; never headers or secrets) in the order's
  timeline, in a ``finally``: a call is never missing from the timeline, whatever happened;
* translates the client's errors once: ``ApiError`` (Binance said FAIL) -> `BinanceRefused` with
  Binance's code and name; ``TransportError`` (timeout, connection error, 5xx, malformed answer)
  -> `BinanceUnavailable` whose ``outcome_unknown`` is true for calls that change something at
  Binance (create, close, refund, share) and false for queries; ``RateLimitError`` (429) ->
  `BinanceUnavailable` with ``retry_after`` and a known outcome (Binance did not process it).

So only `orders.errors.OrderServiceError` leaves `orders`. A service that needs the call records
in its own transaction (one commit for the answer and its record) writes them with
`record_calls()` inside a `holding_records()` block; whatever is still held when the block ends
is written then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from binance_pay import (
    ApiError,
    BinancePayClient,
    CallRecord,
    CreateOrderRequest,
    CreateOrderV3Request,
    OrderResult,
    QueryOrderResult,
    RateLimitError,
    RefundQueryResult,
    RefundResult,
    ShareAccountResult,
    TransportError,
)
from orders.errors import BinanceNotConfigured, BinanceRefused, BinanceUnavailable
from orders.models import Order, OrderEvent
from orders.services.timeline import order_call_lines, order_events_record_calls
from paysvc.integrations import binance_client, recording_calls

T = TypeVar("T")

# What the caller is told when Binance cannot be reached, per operation.
UNAVAILABLE_MESSAGES = {
    "create_order": "Binance did not answer; the order's outcome is unknown. paysvc keeps "
    "querying Binance by merchantTradeNo and will either confirm it or create it; never twice.",
    "query_order": "Binance did not answer the query; nothing changed. Try again later.",
    "close_order": "Binance did not answer the close request; the order may or may not be "
    "closed. Sync the order or close it again (closing twice is harmless).",
    "refund": "Binance did not answer the refund request; its outcome is unknown. Repeat the "
    "request with the same refundRequestId: Binance never refunds one id twice.",
    "query_refund": "Binance did not answer the refund query; nothing changed. Try again later.",
    "share_account_id": "Binance did not answer; repeat the request with the same requestId.",
}
REFUSED_SUBJECTS = {
    "create_order": "the order",
    "close_order": "to close the order",
    "refund": "the refund",
    "share_account_id": "the share request",
}
# Calls that change something at Binance: a lost answer leaves their outcome unknown.
MUTATING = frozenset({"create_order", "close_order", "refund", "share_account_id"})
RATE_LIMITED_MESSAGE = "Binance is rate limiting paysvc; nothing was done. Try again shortly."


@dataclass
class BinanceGateway:
    """Calls to Binance made on behalf of `order` (whose timeline records them) by `source`.

    ``for_request``: an API caller is waiting, so reads time out sooner
    (paysvc.integrations.REQUEST_READ_TIMEOUT_SECONDS); background work uses the configured
    timeout.
    """

    source: str
    actor: str = ""
    order: Order | None = None
    for_request: bool = True
    _pending: list[CallRecord] = field(default_factory=list, init=False, repr=False)
    _holding: int = field(default=0, init=False, repr=False)

    # -- the calls --------------------------------------------------------------------------------
    def create_order(self, request: CreateOrderRequest) -> OrderResult:
        return self._call("create_order", lambda client: client.create_order(request))

    def create_order_v3(self, request: CreateOrderV3Request) -> OrderResult:
        return self._call("create_order", lambda client: client.create_order_v3(request))

    def query_order(
        self, *, prepay_id: str | None = None, merchant_trade_no: str | None = None
    ) -> QueryOrderResult:
        return self._call(
            "query_order",
            lambda client: client.query_order(
                prepay_id=prepay_id, merchant_trade_no=merchant_trade_no
            ),
        )

    def close_order(
        self, *, prepay_id: str | None = None, merchant_trade_no: str | None = None
    ) -> bool:
        return self._call(
            "close_order",
            lambda client: client.close_order(
                prepay_id=prepay_id, merchant_trade_no=merchant_trade_no
            ),
        )

    def refund(
        self,
        *,
        refund_request_id: str,
        prepay_id: str,
        refund_amount: Decimal,
        refund_reason: str | None,
    ) -> RefundResult:
        return self._call(
            "refund",
            lambda client: client.refund(
                refund_request_id=refund_request_id,
                prepay_id=prepay_id,
                refund_amount=refund_amount,
                refund_reason=refund_reason,
                webhook_url=settings.BINANCE_PAY_WEBHOOK_URL or None,
            ),
        )

    def query_refund(self, *, refund_request_id: str) -> RefundQueryResult:
        return self._call(
            "query_refund",
            lambda client: client.query_refund(refund_request_id=refund_request_id),
        )

    def share_account_id(self, *, request_id: str) -> ShareAccountResult:
        return self._call(
            "share_account_id",
            lambda client: client.share_account_id(
                request_id=request_id, webhook_url=settings.BINANCE_PAY_WEBHOOK_URL or None
            ),
        )

    # -- recording --------------------------------------------------------------------------------
    @contextmanager
    def holding_records(self) -> Iterator[None]:
        """Hold call records until `record_calls()` (or the end of the block) writes them."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if not self._holding:
                self.record_calls()

    def record_calls(self) -> None:
        """Write the calls not recorded yet to the order's timeline (in the open transaction)."""
        calls, self._pending = self._pending, []
        if calls and self.order is not None:
            order_events_record_calls(
                order=self.order, calls=calls, source=self.source, actor=self.actor
            )

    def take_call_lines(self) -> list[OrderEvent]:
        """The timeline lines of the calls not recorded yet, unsaved, for the caller to write
        with its own statement; they count as recorded from now on."""
        calls, self._pending = self._pending, []
        if not calls or self.order is None:
            return []
        return order_call_lines(order=self.order, calls=calls, source=self.source, actor=self.actor)

    # -- internals --------------------------------------------------------------------------------
    def _client(self) -> BinancePayClient:
        try:
            return binance_client(for_request=self.for_request)
        except ImproperlyConfigured as exc:
            raise BinanceNotConfigured(str(exc)) from exc

    def _call(self, operation: str, call: Callable[[BinancePayClient], T]) -> T:
        client = self._client()
        with recording_calls() as calls:
            try:
                return call(client)
            except ApiError as exc:
                subject = REFUSED_SUBJECTS.get(operation, "the request")
                raise BinanceRefused(
                    f"Binance refused {subject}: {exc.code} {exc.name}: {exc.message}",
                    code=exc.code,
                    name=exc.name,
                    binance_message=exc.message or "",
                ) from exc
            except RateLimitError as exc:
                raise BinanceUnavailable(
                    RATE_LIMITED_MESSAGE,
                    outcome_unknown=False,
                    retrying=False,
                    retry_after=exc.retry_after or None,
                ) from exc
            except TransportError as exc:
                raise BinanceUnavailable(
                    UNAVAILABLE_MESSAGES[operation],
                    outcome_unknown=operation in MUTATING,
                    retrying=False,
                ) from exc
            finally:
                self._pending.extend(calls)
                if not self._holding:
                    self.record_calls()
