"""Refunds: the arithmetic is checked under the order's row lock, then Binance is called.

Binance's rules (docs/binance-pay.md#refund-order): the refunds of an order never sum above what was
paid; at most 10 refunds per order; when `remainingAttempts` is 1 the next refund ignores the
requested amount and refunds everything that remains, so we only accept exactly that amount then.
`refundRequestId` is Binance's idempotency key: retrying with it never refunds twice.
"""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from binance_pay import RefundQueryResult
from orders.errors import (
    BinanceRefused,
    BinanceUnavailable,
    IdempotencyConflict,
    InvalidOrderState,
    RefundNotAllowed,
)
from orders.gateway import BinanceGateway
from orders.models import MAX_REFUNDS_PER_ORDER, EventKind, Order, Refund, RefundStatus
from orders.selectors import refund_allowance
from orders.services.events import refund_event_emit, refund_event_type
from orders.services.orders import order_sync
from orders.services.timeline import order_event_record


def refund_create(
    *,
    order: Order,
    refund_amount: Decimal,
    refund_reason: str = "",
    refund_request_id: str | None = None,
    source: str,
    actor: str = "",
) -> Refund:
    """Request a (partial) refund. Idempotent on `refund_request_id` for the same order+amount.

    Raises RefundNotAllowed, InvalidOrderState, IdempotencyConflict, BinanceRefused; a Binance
    outage leaves the refund REQUESTED (safe to retry with the same refundRequestId).
    """
    refund_request_id = refund_request_id or uuid.uuid4().hex
    existing = Refund.objects.filter(refund_request_id=refund_request_id).first()
    if existing is not None:
        if existing.order_id != order.pk or existing.refund_amount != refund_amount:
            raise IdempotencyConflict(
                f"refundRequestId {refund_request_id} was already used for another refund"
            )
        if existing.status != RefundStatus.REQUESTED:
            return existing
        refund = existing
    else:
        refund = _refund_store(
            order_id=order.pk,
            refund_amount=refund_amount,
            refund_reason=refund_reason,
            refund_request_id=refund_request_id,
            source=source,
            actor=actor,
        )
    return refund_submit(refund=refund, source=source, actor=actor)


@transaction.atomic
def _refund_store(
    *,
    order_id: int,
    refund_amount: Decimal,
    refund_reason: str,
    refund_request_id: str,
    source: str,
    actor: str,
) -> Refund:
    order = Order.objects.select_for_update().get(pk=order_id)
    allowance = refund_allowance(order)
    if not allowance.status_allows:
        raise InvalidOrderState(f"only a paid order can be refunded; this one is {order.status}")
    remaining = allowance.remaining
    if refund_amount > remaining:
        raise RefundNotAllowed(
            f"refundAmount {refund_amount} is more than what remains refundable ({remaining})"
        )
    if not allowance.attempts_left:
        raise RefundNotAllowed(
            f"Binance allows at most {MAX_REFUNDS_PER_ORDER} refunds per order", field="order"
        )
    if allowance.last_attempt and refund_amount != remaining:
        raise RefundNotAllowed(
            "this is the order's last refund attempt, which Binance always makes for everything "
            f"that remains: refundAmount must be {remaining}"
        )
    refund = Refund.objects.create(
        order=order,
        refund_request_id=refund_request_id,
        refund_amount=refund_amount,
        refund_reason=refund_reason,
        requested_by=actor,
    )
    order_event_record(
        order=order,
        kind=EventKind.REFUND,
        source=source,
        actor=actor,
        summary=f"refund {refund_request_id} of {refund_amount} {order.currency} requested",
    )
    return refund


def refund_submit(*, refund: Refund, source: str, actor: str = "") -> Refund:
    """Send a REQUESTED refund to Binance (again). Same refundRequestId, so never twice.

    Raises BinanceRefused (the refund is ERROR) or BinanceUnavailable (outcome unknown; the
    refund stays REQUESTED, reconciliation resends it).
    """
    order = refund.order
    gateway = BinanceGateway(source=source, actor=actor, order=order)
    try:
        result = gateway.refund(
            refund_request_id=refund.refund_request_id,
            prepay_id=order.prepay_id,
            refund_amount=refund.refund_amount,
            refund_reason=refund.refund_reason or None,
        )
    except BinanceRefused as exc:
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.ERROR,
            failure_code=exc.code,
            failure_message=(exc.binance_message or exc.name)[:512],
            updated_at=timezone.now(),
        )
        raise
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED).update(
        status=RefundStatus.PENDING, updated_at=timezone.now()
    )
    Refund.objects.filter(pk=refund.pk).update(
        refund_id=result.refund_id or "",
        refunded_amount=result.refunded_amount,
        remaining_attempts=result.remaining_attempts,
    )
    refund.refresh_from_db()
    return refund_sync(refund=refund, source=source, actor=actor, quiet=True)


def refund_sync(*, refund: Refund, source: str, actor: str = "", quiet: bool = False) -> Refund:
    """Query the refund at Binance and apply its status (and then the order's).

    Raises BinanceRefused / BinanceUnavailable, unless ``quiet`` (the refund is returned as is).
    """
    order = refund.order
    gateway = BinanceGateway(source=source, actor=actor, order=order)
    try:
        result = gateway.query_refund(refund_request_id=refund.refund_request_id)
    except (BinanceRefused, BinanceUnavailable):
        if quiet:
            return refund
        raise
    refund = refund_apply_result(refund_id=refund.pk, result=result, source=source, actor=actor)
    # The order is reconciled later if this fails; the refund itself is recorded.
    with contextlib.suppress(BinanceRefused, BinanceUnavailable):
        order_sync(order=order, source=source, actor=actor)
    return refund


@transaction.atomic
def refund_apply_result(
    *, refund_id: int, result: RefundQueryResult, source: str, actor: str = ""
) -> Refund:
    """Apply Query Refund's status: REFUND_SUCCESS / REFUND_FAIL / REFUND_PENDING."""
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    target = {
        "REFUND_SUCCESS": RefundStatus.SUCCESS,
        "REFUND_FAIL": RefundStatus.REJECTED,
        "REFUND_REJECTED": RefundStatus.REJECTED,
        "REFUND_PENDING": RefundStatus.PENDING,
    }.get(result.refund_status)
    final = (RefundStatus.SUCCESS, RefundStatus.REJECTED)
    if target is None or refund.status in final or target == refund.status:
        return refund
    refund.status = target
    refund.remaining_attempts = result.remaining_attempts
    refund.refunded_amount = result.refunded_amount
    if target in final:
        refund.completed_at = timezone.now()
    refund.save()
    order_event_record(
        order=refund.order,
        kind=EventKind.REFUND,
        source=source,
        actor=actor,
        summary=f"refund {refund.refund_request_id}: {target}",
    )
    # Merchant event for a final state, stored in this transaction, delivered after commit.
    if event_type := refund_event_type(target):
        refund_event_emit(event_type=event_type, refund=refund)
    return refund
