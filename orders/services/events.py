"""The merchant events the orders app emits, and the resource each one carries.

Which status changes make an event, and its ``data``: the resource as the merchant API shows it
(orders.serializers), so that the event and ``GET /api/v1/orders/{merchantTradeNo}`` agree. The
event is stored by notifications.services.event_emit in the caller's transaction.

Destinations: the order's ``notifyUrl``, else the application's default URL (account shares:
the default URL), plus the application's webhook endpoints (notifications.services.events).
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.utils import json

from notifications.models import Event, EventType
from notifications.services import event_emit
from orders.models import AccountShare, Order, OrderStatus, Refund, RefundStatus

# INITIAL, PENDING and REFUNDING make no event: the merchant waits for an outcome.
ORDER_STATUS_EVENTS: dict[str, str] = {
    OrderStatus.PAID: EventType.ORDER_PAID,
    OrderStatus.PAID_AFTER_CLOSE: EventType.ORDER_PAID_AFTER_CLOSE,
    OrderStatus.CANCELED: EventType.ORDER_CLOSED,
    OrderStatus.EXPIRED: EventType.ORDER_EXPIRED,
    OrderStatus.ERROR: EventType.ORDER_FAILED,
    OrderStatus.REFUNDED: EventType.ORDER_REFUNDED,
    OrderStatus.FULL_REFUNDED: EventType.ORDER_FULLY_REFUNDED,
}
REFUND_STATUS_EVENTS: dict[str, str] = {
    RefundStatus.SUCCESS: EventType.REFUND_SUCCEEDED,
    RefundStatus.REJECTED: EventType.REFUND_REJECTED,
}


def order_event_type(*, previous: str, status: str) -> str | None:
    """The event an order moving from `previous` to `status` emits, or None.

    REFUNDING -> PAID (Binance rejected a refund) emits none: the order was paid once already,
    and a second order.paid could make a merchant fulfil twice; refund.rejected says what happened.
    """
    if previous == status or (previous == OrderStatus.REFUNDING and status == OrderStatus.PAID):
        return None
    return ORDER_STATUS_EVENTS.get(status)


def refund_event_type(status: str) -> str | None:
    """The event a refund reaching `status` emits, or None."""
    return REFUND_STATUS_EVENTS.get(status)


def order_url(order: Order) -> str:
    return order.notify_url or order.application.default_notify_url


def order_event_emit(
    *, event_type: str, order: Order, refunds: list[Refund] | None = None
) -> Event:
    """Emit `event_type` about `order`, carrying the order with its refunds (``refunds`` when
    the caller knows them: `order_resource`)."""
    return event_emit(
        application=order.application,
        event_type=event_type,
        data=order_resource(order, refunds=refunds),
        legacy_url=order_url(order),
        order=order,
    )


def refund_event_emit(*, event_type: str, refund: Refund) -> Event:
    """Emit `event_type` about `refund`, carrying the refund and its order's merchantTradeNo."""
    from orders.serializers import RefundSerializer

    order = refund.order
    return event_emit(
        application=order.application,
        event_type=event_type,
        data={**_plain(RefundSerializer(refund).data), "merchantTradeNo": order.merchant_trade_no},
        legacy_url=order_url(order),
        order=order,
        refund=refund,
    )


def account_share_event_emit(*, share: AccountShare) -> Event:
    """Emit account_share.completed, carrying the share (with the user's Binance ID)."""
    from orders.serializers import AccountShareSerializer

    return event_emit(
        application=share.application,
        event_type=EventType.ACCOUNT_SHARE_COMPLETED,
        data=_plain(AccountShareSerializer(share).data),
        legacy_url=share.application.default_notify_url,
        account_share=share,
    )


def order_resource(order: Order, *, refunds: list[Refund] | None = None) -> dict[str, Any]:
    """The order as `GET /api/v1/orders/{merchantTradeNo}` shows it (without the timeline), as
    plain JSON, from the same kept serializer instances as that endpoint. ``refunds``: the
    order's refunds when the caller knows them (an unpaid order has none), saving their query;
    None reads them."""
    from orders.serializers import KNOWN_REFUNDS, ORDER_REPRESENTATION

    context = {KNOWN_REFUNDS: refunds} if refunds is not None else None
    return _plain(ORDER_REPRESENTATION.represent(order, context=context))


def _plain(data: Any) -> dict[str, Any]:
    """Serializer output as plain JSON types (what the JSONField stores and reads back)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
