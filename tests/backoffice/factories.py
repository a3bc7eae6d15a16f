"""Helpers for back-office tests: staff users with roles, orders paid through the services."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from orders.models import EventSource, Order, OrderStatus
from orders.services import order_status_apply
from tests.factories import OrderFactory

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


def paid_order(
    *, source: str = EventSource.WEBHOOK, paid_at: dt.datetime | None = None, **fields: Any
) -> Order:
    """An order paid through the status service (so its timeline records who found it)."""
    order = OrderFactory(**fields)
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
