"""Rows for the Web3 tests: tasks through the service (like the admin), orders and account shares
straight through the ORM (as if payments had landed; no Binance needed)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone

from campaigns.models import Task, TaskKind
from campaigns.services import task_save
from orders.models import AccountShare, AccountShareStatus, Order, OrderStatus


def task_factory(*, application: Any, task_id: str, **fields: Any) -> Task:
    fields.setdefault("kind", TaskKind.PAID_AMOUNT_TOTAL)
    if fields["kind"] == TaskKind.PAID_AMOUNT_TOTAL:
        fields.setdefault("threshold", Decimal("10"))
        fields.setdefault("currency", "USDT")
    if fields["kind"] == TaskKind.PAID_ORDER_COUNT:
        fields.setdefault("threshold", Decimal("1"))
    return task_save(task=Task(application=application, task_id=task_id, **fields))


def order_factory(
    *,
    application: Any,
    customer_ref: str = "customer-1",
    amount: str | None = "10",
    currency: str = "USDT",
    status: str = OrderStatus.PAID,
    paid_at: dt.datetime | None = None,
    open_user_id: str = "",
    **fields: Any,
) -> Order:
    paid = status not in (OrderStatus.INITIAL, OrderStatus.PENDING, OrderStatus.ERROR)
    if paid and paid_at is None and "paid_at" not in fields:
        paid_at = timezone.now()
    return Order.objects.create(
        application=application,
        merchant_trade_no=uuid.uuid4().hex,
        customer_ref=customer_ref,
        status=status,
        terminal_type="WEB",
        order_amount=Decimal(amount) if amount is not None else None,
        fiat_amount=None if amount is not None else Decimal("1"),
        total_fee=Decimal(amount) if amount is not None else None,
        currency=currency,
        paid_at=paid_at,
        open_user_id=open_user_id,
        **fields,
    )


def share_factory(
    *,
    application: Any,
    customer_ref: str = "customer-1",
    binance_id: str = "355421788",
    status: str = AccountShareStatus.SHARED,
    shared_at: dt.datetime | None = None,
) -> AccountShare:
    shared = status == AccountShareStatus.SHARED
    return AccountShare.objects.create(
        application=application,
        customer_ref=customer_ref,
        request_id=uuid.uuid4().hex,
        status=status,
        user_binance_id=binance_id if shared else "",
        shared_at=(shared_at or timezone.now()) if shared else None,
    )
