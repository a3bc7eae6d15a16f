"""What a merchant event looks like: which status changes make one, and its JSON.

{"id": "evt_<32 hex>", "type": "order.paid", "createdAt": "2025-01-01T00:00:00.000000Z",
 "data": {<the resource, as the merchant API shows it>}}
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers

from clients.models import ClientApplication
from notifications.models import EventType
from orders.models import AccountShare, Order, OrderStatus, Refund, RefundStatus
from orders.serializers import AccountShareSerializer, OrderSerializer, RefundSerializer

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
    """The event an order moving from `previous` to `status` sends, or None.

    REFUNDING -> PAID (Binance rejected a refund) sends none: the order was paid once already,
    and a second order.paid could make a merchant fulfil twice; refund.rejected says what happened.
    """
    if previous == status or (previous == OrderStatus.REFUNDING and status == OrderStatus.PAID):
        return None
    return ORDER_STATUS_EVENTS.get(status)


def refund_event_type(status: str) -> str | None:
    """The event a refund reaching `status` sends, or None."""
    return REFUND_STATUS_EVENTS.get(status)


@dataclass(frozen=True)
class Subject:
    """Who an event is about, whom it goes to, and the resource it carries."""

    application: ClientApplication
    url: str
    data: dict[str, Any]
    order: Order | None = None
    refund: Refund | None = None
    account_share: AccountShare | None = None

    @property
    def reference(self) -> str:
        """The merchant's id of the subject, for logs (merchantTradeNo or requestId)."""
        if self.order is not None:
            return self.order.merchant_trade_no
        return self.account_share.request_id if self.account_share is not None else ""


def event_subject(
    *,
    event_type: str,
    order: Order | None = None,
    refund: Refund | None = None,
    account_share: AccountShare | None = None,
) -> Subject:
    """The subject of an `event_type` event; ValueError when the wrong object is given."""
    resource = event_type.partition(".")[0]
    if event_type not in EventType.values:
        raise ValueError(f"unknown notification event type {event_type!r}")
    if resource == "order" and order is not None:
        return Subject(
            application=order.application,
            url=order.notify_url or order.application.default_notify_url,
            data=_plain(OrderSerializer(order).data),
            order=order,
        )
    if resource == "refund" and refund is not None:
        order = refund.order
        data = {**_plain(RefundSerializer(refund).data), "merchantTradeNo": order.merchant_trade_no}
        return Subject(
            application=order.application,
            url=order.notify_url or order.application.default_notify_url,
            data=data,
            order=order,
            refund=refund,
        )
    if resource == "account_share" and account_share is not None:
        application = account_share.application
        return Subject(
            application=application,
            url=application.default_notify_url,
            data=_plain(AccountShareSerializer(account_share).data),
            account_share=account_share,
        )
    raise ValueError(f"a {event_type} event needs its {resource} (and only that)")


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event_object(*, event_id: str, event_type: str, created_at: Any, data: dict[str, Any]) -> dict:
    """The event as sent; `createdAt` in the API's own ISO 8601 UTC format."""
    return {
        "id": event_id,
        "type": event_type,
        "createdAt": serializers.DateTimeField().to_representation(created_at),
        "data": data,
    }


def event_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact JSON, keys sorted so that every attempt sends the same
    bytes whichever database stored the payload (PostgreSQL's jsonb reorders keys)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _plain(data: Any) -> dict[str, Any]:
    """Serializer output as plain JSON types (what the JSONField stores and reads back)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
