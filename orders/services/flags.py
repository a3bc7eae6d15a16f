"""Flagging an order for staff: something about it needs a human (e.g. an amount mismatch)."""

from __future__ import annotations

import logging

from django.db import transaction

from notifications.models import EventType
from orders.models import EventKind, Order
from orders.services.events import order_event_emit
from orders.services.timeline import order_event_record

logger = logging.getLogger(__name__)


@transaction.atomic
def order_flag(*, order_id: int, reason: str, source: str, actor: str = "") -> Order:
    """Flag order ``order_id`` with ``reason`` and note it in the timeline. Status is untouched.

    Idempotent: the same reason twice is recorded once. A first reason is kept; later, different
    ones are added to the timeline only.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.flagged and order.flag_reason == reason[:255]:
        return order
    if not order.flagged:
        order.flagged = True
        order.flag_reason = reason[:255]
        order.save(update_fields=["flagged", "flag_reason", "updated_at"])
        # The merchant should hold fulfilment too; stored here, delivered after commit.
        order_event_emit(event_type=EventType.ORDER_FLAGGED, order=order)
    order_event_record(
        order=order, kind=EventKind.NOTE, source=source, actor=actor, summary=f"flagged: {reason}"
    )
    logger.warning(
        "order flagged",
        extra={
            "merchantTradeNo": order.merchant_trade_no,
            "prepayId": order.prepay_id,
            "source": source,
            "reason": reason,
        },
    )
    return order
