"""Celery tasks of the orders app: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from orders.errors import BinanceUnavailable
from orders.models import EventSource


@shared_task(
    name="orders.resolve_order_creation",
    acks_late=True,
    autoretry_for=(BinanceUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=20,
)
def resolve_order_creation(order_id: int) -> None:
    """Settle an order whose Create Order outcome was unknown: query, then create if absent."""
    from orders.services import order_submit

    order_submit(order_id=order_id, source=EventSource.RECONCILIATION, for_request=False)


@shared_task(name="orders.reconcile_due", ignore_result=True)
def reconcile_due() -> None:
    """Beat, every 15 s: one reconcile task per order and refund due for a check."""
    from orders.reconciliation import orders_claim_due, refunds_claim_due

    for order_id in orders_claim_due():
        reconcile_order.delay(order_id)
    for refund_id in refunds_claim_due():
        reconcile_refund.delay(refund_id)


# No autoretry: reconciliation's own schedule (with backoff and jitter) is the retry.
@shared_task(name="orders.reconcile_order", acks_late=True, ignore_result=True)
def reconcile_order(order_id: int) -> None:
    """Check one order against Binance's Query Order and apply it."""
    from orders.reconciliation import order_reconcile

    order_reconcile(order_id=order_id)


@shared_task(name="orders.reconcile_refund", acks_late=True, ignore_result=True)
def reconcile_refund(refund_id: int) -> None:
    """Check one refund against Binance's Query Refund and apply it."""
    from orders.reconciliation import refund_reconcile

    refund_reconcile(refund_id=refund_id)


@shared_task(name="orders.prune_idempotency_keys", ignore_result=True)
def prune_idempotency_keys() -> int:
    """Beat, hourly: delete Idempotency-Key answers past PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS."""
    from orders.services.idempotency import idempotency_records_prune

    return idempotency_records_prune()
