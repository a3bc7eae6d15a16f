"""The orders' section of the admin dashboard: a handful of aggregated queries, nothing per row.

Volumes are gross paid amounts (`Order.paid_amount`) of orders by the day they were paid, in UTC,
per crypto currency: amounts in different currencies are never added. Registered with
backoffice.dashboard, which caches the figures for a minute.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from backoffice.charts import daily_bars_svg
from backoffice.dashboard import DashboardSection, register_dashboard_section
from orders.models import (
    PAID_AMOUNT,
    EventKind,
    EventSource,
    Order,
    OrderEvent,
    OrderStatus,
    Refund,
    RefundStatus,
)

DAYS = 30
# Currencies charted (the busiest first).
MAX_CHARTS = 4
PAID_TARGETS = (OrderStatus.PAID, OrderStatus.PAID_AFTER_CLOSE)


@dataclass(frozen=True)
class CurrencyVolume:
    currency: str
    today: Decimal
    week: Decimal
    month: Decimal
    orders_month: int
    daily: tuple[tuple[dt.date, Decimal], ...]


@dataclass(frozen=True)
class RefundFigures:
    currency: str
    count: int
    succeeded_amount: Decimal
    in_progress: int


@dataclass(frozen=True)
class OrderFigures:
    generated_at: dt.datetime
    days: list[dt.date]
    volumes: list[CurrencyVolume]
    status_counts: list[tuple[str, str, int]]
    created_month: int
    paid_month: int
    refunds: list[RefundFigures]
    flagged_orders: int
    paid_by_source: dict[str, int] = field(default_factory=dict)

    @property
    def conversion(self) -> float | None:
        return self.paid_month / self.created_month if self.created_month else None

    @property
    def paid_found_by_polling(self) -> int:
        return self.paid_by_source.get(EventSource.RECONCILIATION, 0)

    @property
    def polling_share(self) -> float | None:
        total = sum(self.paid_by_source.values())
        return self.paid_found_by_polling / total if total else None

    @property
    def charts(self) -> list[tuple[str, str]]:
        """(currency, SVG) of the daily paid volume of the busiest currencies."""
        return [
            (
                volume.currency,
                daily_bars_svg(
                    series=volume.daily,
                    currency=volume.currency,
                    title=f"Daily paid volume in {volume.currency}, last {DAYS} days",
                ),
            )
            for volume in self.volumes[:MAX_CHARTS]
        ]


def _day_start(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def paid_volumes(*, since: dt.datetime, days: list[dt.date]) -> list[CurrencyVolume]:
    """Per currency: paid today, in the last 7 and 30 days (calendar days in UTC, today
    included), and the daily series. One query grouped by (day, currency)."""
    rows = (
        Order.objects.filter(paid_at__gte=since)
        .annotate(day=TruncDate("paid_at", tzinfo=dt.UTC))
        .values("day", "currency")
        .annotate(volume=Sum(PAID_AMOUNT), n=Count("id"))
        .order_by()
    )
    per_currency: dict[str, dict[dt.date, tuple[Decimal, int]]] = defaultdict(dict)
    for row in rows:
        per_currency[row["currency"] or "?"][row["day"]] = (row["volume"] or Decimal(0), row["n"])
    today, week_start = days[-1], days[-7]
    volumes = []
    for currency, by_day in per_currency.items():
        daily = tuple((day, by_day.get(day, (Decimal(0), 0))[0]) for day in days)
        volumes.append(
            CurrencyVolume(
                currency=currency,
                today=by_day.get(today, (Decimal(0), 0))[0],
                week=sum((v for d, v in daily if d >= week_start), Decimal(0)),
                month=sum((v for _d, v in daily), Decimal(0)),
                orders_month=sum(n for _v, n in by_day.values()),
                daily=daily,
            )
        )
    volumes.sort(key=lambda v: (-v.orders_month, v.currency))
    return volumes


def order_figures(now: dt.datetime | None = None) -> OrderFigures:
    """The orders' figures of the dashboard, in five aggregated queries."""
    now = now or timezone.now()
    today = _day_start(now)
    since = today - dt.timedelta(days=DAYS - 1)
    days = [(since + dt.timedelta(days=i)).date() for i in range(DAYS)]
    volumes = paid_volumes(since=since, days=days)

    by_status = (
        Order.objects.filter(created_at__gte=since)
        .values("status")
        .annotate(n=Count("id"), paid=Count("id", filter=Q(paid_at__isnull=False)))
        .order_by()
    )
    counts = {row["status"]: (row["n"], row["paid"]) for row in by_status}
    status_counts = [
        (value, label, counts[value][0]) for value, label in OrderStatus.choices if value in counts
    ]

    paid_sources = (
        OrderEvent.objects.filter(
            order__paid_at__gte=since, kind=EventKind.STATUS_CHANGE, to_status__in=PAID_TARGETS
        )
        .values("source")
        .annotate(n=Count("order_id", distinct=True))
        .order_by()
    )
    refund_rows = (
        Refund.objects.filter(created_at__gte=since)
        .values("order__currency", "status")
        .annotate(n=Count("id"), amount=Sum("refund_amount"))
        .order_by()
    )
    refunds: dict[str, RefundFigures] = {}
    for row in refund_rows:
        current = refunds.get(row["order__currency"]) or RefundFigures(
            row["order__currency"], 0, Decimal(0), 0
        )
        status = row["status"]
        refunds[current.currency] = RefundFigures(
            currency=current.currency,
            count=current.count + row["n"],
            succeeded_amount=current.succeeded_amount
            + (row["amount"] if status == RefundStatus.SUCCESS else Decimal(0)),
            in_progress=current.in_progress
            + (row["n"] if status in (RefundStatus.REQUESTED, RefundStatus.PENDING) else 0),
        )

    return OrderFigures(
        generated_at=now,
        days=days,
        volumes=volumes,
        status_counts=status_counts,
        created_month=sum(n for n, _paid in counts.values()),
        paid_month=sum(paid for _n, paid in counts.values()),
        refunds=[refunds[c] for c in sorted(refunds)],
        flagged_orders=Order.objects.filter(flagged=True).count(),
        paid_by_source={row["source"]: row["n"] for row in paid_sources},
    )


register_dashboard_section(
    DashboardSection(
        key="orders",
        template="orders/admin/dashboard.html",
        compute=order_figures,
        permission="orders.view_order",
        order=10,
    )
)
