"""Moving an order's status, and applying what Binance's Query Order says.

Every status change happens here, under a row lock, forward only (models.ALLOWED_TRANSITIONS).
Reaching a status already reached is a no-op; a stale report (an older status arriving after a
newer one, e.g. PAY_CLOSED after PAY_SUCCESS) is recorded in the timeline and ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from binance_pay import QueryOrderResult
from orders.models import OPEN_STATUSES, EventKind, Order, OrderStatus
from orders.services.events import order_event_emit, order_event_type
from orders.services.timeline import order_event_record
from paysvc import bulk

logger = logging.getLogger(__name__)


def ms_to_datetime(ms: int | None) -> dt.datetime | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def order_lock(*, merchant_trade_no: str) -> Order | None:
    """The order with `merchant_trade_no`, row-locked until the open transaction ends (with its
    application, which is not locked), or None. For callers that check an order before
    `order_status_apply_locked` in one transaction."""
    return orders_lock(merchant_trade_nos=[merchant_trade_no]).get(merchant_trade_no)


def orders_lock(*, merchant_trade_nos: list[str]) -> dict[str, Order]:
    """`order_lock` for many orders with one query: {merchantTradeNo: order} of those that
    exist. Locked in primary-key order, the order every multi-row lock here takes, so that two
    batches cannot deadlock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locking orders needs a transaction: the locks last until it ends")
    found = _locking().filter(merchant_trade_no__in=merchant_trade_nos).order_by("pk")
    return {order.merchant_trade_no: order for order in found}


def _locking() -> Any:
    # OF self: the application row is read, never locked (every order of a shop would queue).
    return Order.objects.select_related("application").select_for_update(of=("self",))


@transaction.atomic
def order_status_apply(
    *,
    order_id: int,
    status: str,
    source: str,
    actor: str = "",
    fields: dict[str, Any] | None = None,
    reason: str = "",
) -> Order:
    """Move order `order_id` to `status` if that is a legal forward move, with `fields` set.

    A payment reported for an order we saw CANCELED or EXPIRED becomes PAID_AFTER_CLOSE and is
    flagged for staff: the money arrived and must not be dropped
    (docs/reliability.md#13-paid-after-close).
    Returns the (re-read, locked) order.
    """
    order = _locking().get(pk=order_id)
    return order_status_apply_locked(
        order=order, status=status, source=source, actor=actor, fields=fields, reason=reason
    )


def order_status_apply_locked(
    *,
    order: Order,
    status: str,
    source: str,
    actor: str = "",
    fields: dict[str, Any] | None = None,
    reason: str = "",
) -> Order:
    """`order_status_apply` for an order already locked in the open transaction (order_lock)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order_status_apply_locked needs the transaction that locked the order")
    initial_status = order.status
    target = status
    if target == OrderStatus.PAID and order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        target = OrderStatus.PAID_AFTER_CLOSE
    update_fields: list[str] = []
    for name, value in (fields or {}).items():
        # Facts from Binance fill gaps; they never overwrite what is already known.
        if value not in (None, "") and getattr(order, name) in (None, ""):
            setattr(order, name, value)
            update_fields.append(name)

    if target == order.status:
        pass
    elif order.can_transition_to(target):
        previous = order.status
        order.status = target
        update_fields.append("status")
        if target in (OrderStatus.PAID, OrderStatus.PAID_AFTER_CLOSE) and order.paid_at is None:
            order.paid_at = timezone.now()
            update_fields.append("paid_at")
        if target == OrderStatus.PAID_AFTER_CLOSE:
            order.flagged = True
            order.flag_reason = f"payment arrived after the order was {previous}"
            update_fields += ["flagged", "flag_reason"]
        order_event_record(
            order=order,
            kind=EventKind.STATUS_CHANGE,
            source=source,
            actor=actor,
            from_status=previous,
            to_status=target,
            summary=f"{previous} -> {target}" + (f": {reason}" if reason else ""),
        )
        logger.info(
            "order status changed",
            extra={
                "from": previous,
                "to": target,
                "source": source,
                "merchantTradeNo": order.merchant_trade_no,
                "prepayId": order.prepay_id,
            },
        )
    else:
        order_event_record(
            order=order,
            kind=EventKind.NOTE,
            source=source,
            actor=actor,
            from_status=order.status,
            to_status=target,
            summary=f"ignored stale status {target} (order is {order.status})",
        )
    if update_fields:
        if (writes := bulk.pending()) is not None:
            order.updated_at = timezone.now()  # bulk_update does not apply auto_now
            writes.update(order, [*update_fields, "updated_at"])
        else:
            order.save(update_fields=[*set(update_fields), "updated_at"])
    # Merchant event, stored in this transaction and delivered after commit.
    if event_type := order_event_type(previous=initial_status, status=order.status):
        # An unpaid order has no refunds: the event's resource needs no query for them.
        no_refunds = [] if initial_status in OPEN_STATUSES else None
        order_event_emit(event_type=event_type, order=order, refunds=no_refunds)

    return order


def query_result_fields(result: QueryOrderResult) -> dict[str, Any]:
    """The order fields a Query Order v2 answer can fill in."""
    return {
        "prepay_id": result.prepay_id,
        "transaction_id": result.transaction_id or "",
        "open_user_id": result.open_user_id or "",
        "payment_info": result.payment_info,
        "commission": result.commission,
        "paid_at": ms_to_datetime(result.transact_time),
    }


def order_apply_query_result(
    *, order_id: int, result: QueryOrderResult, source: str, actor: str = ""
) -> Order:
    """Apply a Query Order answer: Binance's status is the truth (docs/conventions.md#rule-9)."""
    order = order_status_apply(
        order_id=order_id,
        status=result.status,
        source=source,
        actor=actor,
        fields=query_result_fields(result),
        reason="Query Order",
    )
    Order.objects.filter(pk=order_id).update(last_synced_at=timezone.now())
    return order
