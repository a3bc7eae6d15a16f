"""Celery tasks of the orders app: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from binance_pay import TransportError
from orders.errors import BinanceUnavailable
from orders.models import EventSource


@shared_task(
    name="orders.resolve_order_creation",
    acks_late=True,
    autoretry_for=(TransportError, BinanceUnavailable),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=20,
)
def resolve_order_creation(order_id: int) -> None:
    """Settle an order whose Create Order outcome was unknown: query, then create if absent."""
    from orders.services import order_submit

    order_submit(order_id=order_id, source=EventSource.RECONCILIATION, for_request=False)
