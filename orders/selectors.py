"""Reads of orders, refunds and shares, always scoped to the calling client application."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from orders.models import AccountShare, Order, Refund


def order_list(
    *,
    application: Any,
    statuses: list[str] | None = None,
    customer_ref: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> QuerySet[Order]:
    """The application's orders, newest first, with refunds prefetched."""
    qs = Order.objects.filter(application=application).prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id"))
    )
    if statuses:
        qs = qs.filter(status__in=statuses)
    if customer_ref:
        qs = qs.filter(customer_ref=customer_ref)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lte=created_to)
    return qs.order_by("-created_at", "-id")


def order_get(*, application: Any, merchant_trade_no: str) -> Order:
    """One of the application's orders; Http404 for unknown ids and other applications' orders
    alike, so ids cannot be probed (RELIABILITY b.6 #39)."""
    try:
        return (
            Order.objects.filter(application=application)
            .prefetch_related("refunds", "events")
            .get(merchant_trade_no=merchant_trade_no)
        )
    except Order.DoesNotExist as exc:
        raise Http404("no such order") from exc


def refund_get(*, order: Order, refund_request_id: str) -> Refund:
    try:
        return order.refunds.get(refund_request_id=refund_request_id)
    except Refund.DoesNotExist as exc:
        raise Http404("no such refund") from exc


def account_share_get(*, application: Any, request_id: str) -> AccountShare:
    try:
        return AccountShare.objects.get(application=application, request_id=request_id)
    except AccountShare.DoesNotExist as exc:
        raise Http404("no such account share") from exc
