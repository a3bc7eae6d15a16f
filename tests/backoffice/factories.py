"""Factories for back-office tests: orders as paysvc stores them, moved through the services."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from clients.models import ClientApplication
from orders.models import AccountShare, CreateState, EventSource, Order, OrderStatus
from orders.services import order_status_apply
from tests.clients.factories import application_factory

PASSWORD = "correct horse battery staple 42"


def roles_ensure() -> None:
    """The Support/Finance groups as the migration creates them (transactional tests flush
    tables, migrations do not run again)."""
    migration = importlib.import_module("backoffice.migrations.0001_roles")
    migration.create_roles(apps, SimpleNamespace(connection=connection))


def staff_user(username: str, *groups: str, superuser: bool = False) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    if groups:
        roles_ensure()
        user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def new_prepay_id() -> str:
    return str(random.randint(10**17, 10**18 - 1))


def order_factory(*, application: ClientApplication | None = None, **fields: Any) -> Order:
    """An order as paysvc stores it once Binance created it (25.17 USDT, INITIAL)."""
    values: dict[str, Any] = {
        "application": application or application_factory(name=f"shop-{uuid.uuid4().hex[:8]}"),
        "merchant_trade_no": uuid.uuid4().hex,
        "terminal_type": "WEB",
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
        "total_fee": Decimal("25.17"),
        "prepay_id": new_prepay_id(),
        "create_state": CreateState.CREATED,
        "status": OrderStatus.INITIAL,
        "customer_ref": "customer-42",
        "goods": {"goodsType": "02", "goodsCategory": "Z000", "goodsName": "Ice Cream"},
        "env": {"terminalType": "WEB"},
        "checkout_url": "https://pay.binance.com/en/checkout/abc",
        "qr_content": "https://public.bnbstatic.com/qr/abc",
        "expire_time": timezone.now() + dt.timedelta(hours=1),
    }
    values.update(fields)
    return Order.objects.create(**values)


def paid_order(
    *, source: str = EventSource.WEBHOOK, paid_at: dt.datetime | None = None, **fields: Any
) -> Order:
    """An order paid through the status service (so its timeline records who found it)."""
    order = order_factory(**fields)
    order = order_status_apply(
        order_id=order.pk,
        status=OrderStatus.PAID,
        source=source,
        fields={"transaction_id": f"M_{uuid.uuid4().hex[:16]}", "open_user_id": uuid.uuid4().hex},
    )
    if paid_at is not None:
        Order.objects.filter(pk=order.pk).update(paid_at=paid_at)
        order.refresh_from_db()
    return order


def share_factory(*, order: Order, user_binance_id: str) -> AccountShare:
    return AccountShare.objects.create(
        application=order.application,
        customer_ref=order.customer_ref,
        request_id=uuid.uuid4().hex,
        status="SHARED",
        user_binance_id=user_binance_id,
    )
