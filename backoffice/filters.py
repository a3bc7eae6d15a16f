"""Changelist filters of the back office: date ranges, fiat/crypto, terminal type, currency, and
"paid found by polling"."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl

from django.contrib import admin
from django.core.cache import cache
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.dateparse import parse_date

from orders.models import EventKind, EventSource, Order, OrderEvent, OrderStatus
from orders.validation.refdata import TERMINAL_TYPES

CURRENCY_CACHE_SECONDS = 300


class DateRangeFilter(admin.FieldListFilter):
    """From/to dates (inclusive, UTC days) on a datetime field: `<field>__from`, `<field>__to`."""

    template = "backoffice/date_range_filter.html"

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: dict[str, Any],
        model: type[Model],
        model_admin: Any,
        field_path: str,
    ) -> None:
        self.param_from = f"{field_path}__from"
        self.param_to = f"{field_path}__to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.value_from = self._value(self.param_from)
        self.value_to = self._value(self.param_to)

    def _value(self, name: str) -> str:
        value = self.used_parameters.get(name)
        if isinstance(value, list):
            value = value[-1] if value else ""
        return str(value or "")

    def expected_parameters(self) -> list[str]:
        return [self.param_from, self.param_to]

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet[Any]) -> dict[str, Any]:
        return {}  # a free range has no choices to count

    @staticmethod
    def _day(text: str) -> dt.datetime | None:
        try:
            day = parse_date(text) if text else None
        except ValueError:
            day = None
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        start, end = self._day(self.value_from), self._day(self.value_to)
        if start is not None:
            queryset = queryset.filter(**{f"{self.field_path}__gte": start})
        if end is not None:
            queryset = queryset.filter(**{f"{self.field_path}__lt": end + dt.timedelta(days=1)})
        return queryset

    def choices(self, changelist: Any) -> Any:
        keep = changelist.get_query_string(remove=[self.param_from, self.param_to, "p"])
        yield {
            "selected": bool(self.value_from or self.value_to),
            "hidden": parse_qsl(keep.lstrip("?")),
            "reset": changelist.get_query_string(remove=[self.param_from, self.param_to]),
            "display": "",
        }


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
