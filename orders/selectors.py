"""Reads of orders, refunds and shares, always scoped to the calling client application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from orders.models import (
    MAX_REFUNDS_PER_ORDER,
    OPEN_STATUSES,
    REFUND_HOLDING_STATUSES,
    REFUNDABLE_STATUSES,
    AccountShare,
    CreateState,
    Order,
    Refund,
    RefundStatus,
)


def order_list(
    *,
    application: Any,
    statuses: list[str] | None = None,
    customer_ref: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> QuerySet[Order]:
    """The application's orders, newest first, with refunds prefetched."""
    qs = Order.objects.filter(application=application).prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id"))
    )
    if statuses:
        qs = qs.filter(status__in=statuses)
    if customer_ref:
        qs = qs.filter(customer_ref=customer_ref)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lte=created_to)
    return qs.order_by("-created_at", "-id")


def order_get(*, application: Any, merchant_trade_no: str) -> Order:
    """One of the application's orders; Http404 for unknown ids and other applications' orders
    alike, so ids cannot be probed (docs/reliability.md#39-bola)."""
    try:
        return (
            Order.objects.filter(application=application)
            .prefetch_related("refunds", "events")
            .get(merchant_trade_no=merchant_trade_no)
        )
    except Order.DoesNotExist as exc:
        raise Http404("no such order") from exc


def refund_get(*, order: Order, refund_request_id: str) -> Refund:
    try:
        return order.refunds.get(refund_request_id=refund_request_id)
    except Refund.DoesNotExist as exc:
        raise Http404("no such refund") from exc


def account_share_get(*, application: Any, request_id: str) -> AccountShare:
    try:
        return AccountShare.objects.get(application=application, request_id=request_id)
    except AccountShare.DoesNotExist as exc:
        raise Http404("no such account share") from exc


@dataclass(frozen=True)
class RefundAllowance:
    """Binance's refund rules applied to one order (docs/binance-pay.md#refund-order).

    The refunds that hold money never sum above the paid amount; at most MAX_REFUNDS_PER_ORDER
    attempts count (refused ones do not); when Binance last reported ``remainingAttempts`` 1, the
    next refund ignores the amount asked and refunds everything that remains.
    """

    refunds: tuple[Refund, ...]
    paid_amount: Decimal | None
    remaining: Decimal
    attempts_used: int
    binance_remaining_attempts: int | None
    status_allows: bool

    @property
    def attempts_left(self) -> int:
        return max(MAX_REFUNDS_PER_ORDER - self.attempts_used, 0)

    @property
    def last_attempt(self) -> bool:
        """The next refund is Binance's last one: it refunds `remaining`, whatever is asked."""
        return self.binance_remaining_attempts == 1

    @property
    def refundable_now(self) -> bool:
        return self.status_allows and self.remaining > 0 and self.attempts_left > 0


def refund_allowance(order: Order) -> RefundAllowance:
    """What `order` allows now, from its refunds (one query; fresh, never a stale prefetch)."""
    refunds = tuple(Refund.objects.filter(order_id=order.pk).order_by("created_at", "id"))
    held = sum(
        (r.refund_amount for r in refunds if r.status in REFUND_HOLDING_STATUSES), Decimal(0)
    )
    reported = [r for r in refunds if r.remaining_attempts is not None]
    return RefundAllowance(
        refunds=refunds,
        paid_amount=order.paid_amount,
        remaining=(order.paid_amount or Decimal(0)) - held,
        attempts_used=sum(1 for r in refunds if r.status != RefundStatus.ERROR),
        binance_remaining_attempts=reported[-1].remaining_attempts if reported else None,
        status_allows=order.status in REFUNDABLE_STATUSES,
    )


def order_closable(order: Order) -> bool:
    """Whether Binance's Close Order applies: the order is unpaid (INITIAL/PENDING) and Binance
    created it. `orders.services.order_close` refuses anything else; the admin offers the action
    only then."""
    return order.status in OPEN_STATUSES and order.create_state == CreateState.CREATED
