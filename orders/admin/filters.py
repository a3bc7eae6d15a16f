"""Changelist filters of the orders admin: fiat/crypto, terminal type, currency, and "paid found by
polling" (date ranges: backoffice.filters)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.cache import cache
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from orders.models import EventKind, EventSource, Order, OrderEvent, OrderStatus
from orders.validation.refdata import TERMINAL_TYPES

CURRENCY_CACHE_SECONDS = 300


class FiatOrCryptoFilter(admin.SimpleListFilter):
    title = "priced in"
    parameter_name = "priced_in"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("fiat", "Fiat (fiatAmount)"), ("crypto", "Crypto (orderAmount)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "fiat":
            return queryset.exclude(fiat_currency="")
        if self.value() == "crypto":
            return queryset.filter(fiat_currency="")
        return queryset


class TerminalTypeFilter(admin.SimpleListFilter):
    title = "terminal type"
    parameter_name = "terminal_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, value) for value in TERMINAL_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        return queryset.filter(terminal_type=self.value()) if self.value() else queryset


class CurrencyFilter(admin.SimpleListFilter):
    """The currencies orders are in. The list is read with one DISTINCT and cached for a few
    minutes: recomputing it on every page of a big table is not worth it."""

    title = "currency"
    parameter_name = "currency"
    cache_key = "backoffice:order-currencies"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        currencies = cache.get(self.cache_key)
        if currencies is None:
            currencies = sorted(
                c
                for c in Order.objects.order_by().values_list("currency", flat=True).distinct()
                if c
            )
            cache.set(self.cache_key, currencies, CURRENCY_CACHE_SECONDS)
        return [(c, c) for c in currencies]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        return queryset.filter(currency=self.value()) if self.value() else queryset


def paid_by_polling() -> Exists:
    """True for an order whose move to PAID (or PAID_AFTER_CLOSE) was recorded by the
    reconciliation poller (Query Order found the payment before any webhook did)."""
    return Exists(
        OrderEvent.objects.filter(
            order=OuterRef("pk"),
            kind=EventKind.STATUS_CHANGE,
            to_status__in=(OrderStatus.PAID, OrderStatus.PAID_AFTER_CLOSE),
            source=EventSource.RECONCILIATION,
        )
    )


class PaidByPollingFilter(admin.SimpleListFilter):
    title = "payment found by"
    parameter_name = "paid_found_by"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("polling", "Polling (reconciliation)"), ("other", "Webhook, API or staff")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "polling":
            return queryset.filter(paid_by_polling())
        if self.value() == "other":
            return queryset.filter(paid_at__isnull=False).exclude(paid_by_polling())
        return queryset
