"""Orders services: every write to orders, refunds, shares and the timeline goes through here."""

from orders.services.orders import order_close, order_create, order_submit, order_sync
from orders.services.refunds import refund_create, refund_sync
from orders.services.shares import account_share_create
from orders.services.status import (
    order_apply_query_result,
    order_lock,
    order_status_apply,
    order_status_apply_locked,
    orders_lock,
)
from orders.services.timeline import order_event_record

__all__ = [
    "account_share_create",
    "order_apply_query_result",
    "order_close",
    "order_create",
    "order_event_record",
    "order_lock",
    "order_status_apply",
    "order_status_apply_locked",
    "order_submit",
    "order_sync",
    "orders_lock",
    "refund_create",
    "refund_sync",
]
