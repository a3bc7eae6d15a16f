"""Order state exported on /metrics (computed from the database at scrape time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from orders.models import OPEN_STATUSES, Order, OrderStatus
from paysvc.metrics_view import Gauge, state_gauge


@state_gauge
def order_gauges() -> Iterator[Gauge]:
    now = timezone.now()
    overdue = Order.objects.filter(
        status__in=OPEN_STATUSES, expire_time__lt=now - dt.timedelta(hours=1)
    ).count()
    yield (
        "paysvc_orders_open_past_expiry",
        "Orders still INITIAL/PENDING more than 1 h after their expiry (should be 0).",
        overdue,
    )
    yield (
        "paysvc_orders_flagged",
        "Orders flagged for staff (amount mismatch, paid after close).",
        Order.objects.filter(flagged=True).count(),
    )
    yield (
        "paysvc_orders_paid_after_close",
        "Orders paid after they were closed or expired.",
        Order.objects.filter(status=OrderStatus.PAID_AFTER_CLOSE).count(),
    )
