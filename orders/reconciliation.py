"""Reconciliation: Binance's Query Order and Query Refund are the truth
(docs/conventions.md#rule-9).

Binance re-sends a webhook at most 6 times and PAY_CLOSED can be switched off
(docs/binance-pay.md#webhook-ack-and-retries, docs/binance-pay.md#gotcha-missing-webhooks), so
every order that is not final is queried on a schedule until it is:

* at 10 s, 30 s, 1 min, 2 min and 5 min after creation, then every 10 min, plus just after its
  expiry and at expiry + ``PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS``, each with a little jitter;
* orders whose creation at Binance is unknown go through ``order_submit``, which queries by
  merchantTradeNo before it creates anything (never two Binance orders);
* an order still open at Binance (or unknown to it) past expiry + grace ends EXPIRED locally, with
  the reason in its timeline; a payment that still comes later becomes PAID_AFTER_CLOSE;
* refunds REQUESTED or REFUND_PENDING are queried on the same schedule; one Binance never received
  is sent again with the same refundRequestId (Binance's idempotency key, never refunded twice).

Every change goes through the orders services with source ``reconciliation``, so the timeline and
the admin show which payments were found by polling. ``*_claim_due`` pick due rows with
``select_for_update(skip_locked=True)`` and push them a lease ahead in one short transaction, so
several beat or worker processes never take the same row; each id is then reconciled by its own
task, in parallel. A Binance outage is an ``error`` outcome: the row simply waits for its next
check (the schedule is the retry, with backoff and jitter).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from orders.errors import BinanceRefused, BinanceUnavailable
from orders.models import (
    OPEN_STATUSES,
    CreateState,
    EventSource,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
)
from orders.services import order_status_apply, order_sync
from orders.services.orders import ORDER_NOT_FOUND, order_submit
from orders.services.refunds import refund_submit, refund_sync
from orders.services.status import ms_to_datetime
from paysvc import metrics

logger = logging.getLogger(__name__)

SOURCE = EventSource.RECONCILIATION
ORDER_STATUSES = (OrderStatus.INITIAL, OrderStatus.PENDING, OrderStatus.REFUNDING)
REFUND_STATUSES = (RefundStatus.REQUESTED, RefundStatus.PENDING)
# Seconds after creation of the first checks; then every REPEAT_SECONDS.
SCHEDULE_SECONDS = (10, 30, 60, 120, 300)
REPEAT_SECONDS = 600
JITTER = 0.1
# Binance expires an order at its expireTime; look just after.
AFTER_EXPIRY = dt.timedelta(seconds=5)
# Binance's default when the order asked for no orderExpireTime (docs/binance-pay.md#create-order).
DEFAULT_EXPIRY = dt.timedelta(hours=1)
# A claimed row is not claimed again for this long (its task may still wait in the queue).
CLAIM_LEASE = dt.timedelta(minutes=2)
# A create (or refund) call stored this recently may still be running in its API request.
IN_FLIGHT_GRACE = dt.timedelta(seconds=60)
BATCH = 500

UNCHANGED, CHANGED, ERROR = "unchanged", "changed", "error"


def orders_claim_due(*, limit: int = BATCH) -> list[int]:
    """Ids of the orders due for a check, leased so that no other claimer takes them."""
    return _claim_due(Order.objects.filter(status__in=ORDER_STATUSES), limit=limit)


def refunds_claim_due(*, limit: int = BATCH) -> list[int]:
    """Ids of the refunds due for a check, leased likewise."""
    return _claim_due(Refund.objects.filter(status__in=REFUND_STATUSES), limit=limit)


def _claim_due(queryset: QuerySet[Any], *, limit: int) -> list[int]:
    now = timezone.now()
    first_check = dt.timedelta(seconds=SCHEDULE_SECONDS[0])
    due = Q(next_reconcile_at__lte=now) | Q(
        next_reconcile_at__isnull=True, created_at__lte=now - first_check
    )
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            queryset.model.objects.filter(pk__in=ids).update(next_reconcile_at=now + CLAIM_LEASE)
    return ids


def order_reconcile(*, order_id: int) -> str:
    """Check one order against Binance now, apply what it says, schedule the next check.

    Returns the outcome: ``unchanged``, ``changed`` or ``error`` (Binance unreachable or
    refusing; the order waits for its next check).
    """
    now = timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status not in ORDER_STATUSES:
        Order.objects.filter(pk=order_id).update(next_reconcile_at=None)
        return UNCHANGED
    before = order.status
    error = ""
    not_found = False
    try:
        order = _query(order, now)
    except BinanceRefused as exc:
        not_found = exc.code == ORDER_NOT_FOUND
        error = "" if not_found else f"Binance refused: {exc.code} {exc.name}"
    except BinanceUnavailable as exc:
        error = f"Binance unavailable: {exc}"
    order.refresh_from_db()
    deadline = _expiry(order) + _grace()
    # Only on Binance's word ("still open" or "no such order"), never while it is unreachable.
    if not error and order.status in OPEN_STATUSES and now >= deadline:
        seen = "does not know it" if not_found else f"still reports it {order.status}"
        order = order_status_apply(
            order_id=order.pk,
            status=OrderStatus.EXPIRED,
            source=SOURCE,
            reason=f"past expiry + grace and Binance {seen}",
        )
    elif not_found:
        error = "Binance does not know the order"
    outcome = ERROR if error else (CHANGED if order.status != before else UNCHANGED)
    next_at = None
    if order.status in ORDER_STATUSES:
        next_at = _next_check(
            order.created_at, now, extra=(_expiry(order) + AFTER_EXPIRY, deadline)
        )
    _schedule(Order, order.pk, next_at)
    metrics.RECONCILIATIONS.labels("order", outcome).inc()
    logger.info(
        "reconciled order",
        extra={
            "merchantTradeNo": order.merchant_trade_no,
            "prepayId": order.prepay_id,
            "from": before,
            "to": order.status,
            "outcome": outcome,
            "next": next_at.isoformat() if next_at else None,
            "error": error or None,
        },
    )
    return outcome


def _query(order: Order, now: dt.datetime) -> Order:
    if order.create_state == CreateState.PENDING and not order.prepay_id:
        if order.created_at > now - IN_FLIGHT_GRACE:
            return order  # its API request may still be calling Binance
        # The process that stored it may have died during the call: query before creating.
        Order.objects.filter(pk=order.pk, create_state=CreateState.PENDING).update(
            create_state=CreateState.UNKNOWN
        )
        order.refresh_from_db()
    if order.create_state == CreateState.UNKNOWN and not order.prepay_id:
        return order_submit(order_id=order.pk, source=SOURCE, for_request=False)
    return order_sync(order=order, source=SOURCE, for_request=False)


def refund_reconcile(*, refund_id: int) -> str:
    """Check one refund against Binance now (and the order after it); schedule the next check."""
    now = timezone.now()
    refund = Refund.objects.select_related("order").filter(pk=refund_id).first()
    if refund is None or refund.status not in REFUND_STATUSES:
        Refund.objects.filter(pk=refund_id).update(next_reconcile_at=None)
        return UNCHANGED
    before = refund.status
    error = ""
    try:
        refund = refund_sync(refund=refund, source=SOURCE)
    except BinanceRefused as exc:
        error = f"Binance refused: {exc.code} {exc.name}"
        never_received = exc.code == ORDER_NOT_FOUND and refund.status == RefundStatus.REQUESTED
        if never_received and refund.created_at <= now - IN_FLIGHT_GRACE:
            error = _resubmit(refund)
    except BinanceUnavailable as exc:
        error = f"Binance unavailable: {exc}"
    refund.refresh_from_db()
    outcome = ERROR if error else (CHANGED if refund.status != before else UNCHANGED)
    next_at = None
    if refund.status in REFUND_STATUSES:
        next_at = _next_check(refund.created_at, now)
    _schedule(Refund, refund.pk, next_at)
    metrics.RECONCILIATIONS.labels("refund", outcome).inc()
    logger.info(
        "reconciled refund",
        extra={
            "refundRequestId": refund.refund_request_id,
            "merchantTradeNo": refund.order.merchant_trade_no,
            "from": before,
            "to": refund.status,
            "outcome": outcome,
            "error": error or None,
        },
    )
    return outcome


def _resubmit(refund: Refund) -> str:
    """Binance never received this refund: send it again (same refundRequestId)."""
    try:
        refund_submit(refund=refund, source=SOURCE)
    except BinanceRefused as exc:
        return f"Binance refused the refund: {exc.code} {exc.name}"
    except BinanceUnavailable as exc:
        return f"Binance unavailable: {exc}"
    return ""


def _expiry(order: Order) -> dt.datetime:
    if order.expire_time is not None:
        return order.expire_time
    requested = (order.request_payload or {}).get("orderExpireTime")
    if isinstance(requested, int) and not isinstance(requested, bool):
        return ms_to_datetime(requested) or order.created_at + DEFAULT_EXPIRY
    return order.created_at + DEFAULT_EXPIRY


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS))


def _next_check(
    created_at: dt.datetime, now: dt.datetime, *, extra: tuple[dt.datetime, ...] = ()
) -> dt.datetime:
    """The next point of the schedule after ``now`` (or an earlier ``extra`` point), jittered."""
    elapsed = (now - created_at).total_seconds()
    offset = next((s for s in SCHEDULE_SECONDS if s > elapsed), None)
    if offset is None:
        last = SCHEDULE_SECONDS[-1]
        offset = last + (int((elapsed - last) // REPEAT_SECONDS) + 1) * REPEAT_SECONDS
    at = created_at + dt.timedelta(seconds=offset)
    for point in extra:
        if now < point < at:
            at = point
    delay = (at - now).total_seconds()
    return at + dt.timedelta(seconds=random.uniform(0, JITTER * delay))  # noqa: S311 - not crypto


def _schedule(model: type[Order] | type[Refund], pk: int, next_at: dt.datetime | None) -> None:
    model.objects.filter(pk=pk).update(
        next_reconcile_at=next_at, reconcile_attempts=F("reconcile_attempts") + 1
    )


def reconcile_candidates(
    *, merchant_trade_nos: list[str] | None = None
) -> tuple[list[int], list[int]]:
    """Ids of the open orders and refunds (of the given orders, or all), ignoring the schedule."""
    orders = Order.objects.all()
    if merchant_trade_nos is None:
        orders = orders.filter(status__in=ORDER_STATUSES)
    else:
        orders = orders.filter(merchant_trade_no__in=merchant_trade_nos)
    refunds = Refund.objects.filter(status__in=REFUND_STATUSES)
    if merchant_trade_nos is not None:
        refunds = refunds.filter(order__merchant_trade_no__in=merchant_trade_nos)
    return (
        list(orders.order_by("created_at", "id").values_list("pk", flat=True)),
        list(refunds.order_by("created_at", "id").values_list("pk", flat=True)),
    )
