"""Changelist filters shared by the admins: a from/to date range on any datetime field, and a
status filter that names each status as its badge does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.dateparse import parse_date


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


def code_label(value: str, label: str) -> str:
    """A status as the lists' badges show it (its code), with its description when that says
    more: "PAID", "pending (next attempt scheduled)", "REFUND_PENDING: accepted by Binance, in
    progress"."""
    text = str(label)
    if text.upper().replace(" ", "_") == value.upper():
        return value
    if text.lower().startswith(value.lower()):
        return text
    return f"{value}: {text}"


class StatusFilter(admin.ChoicesFieldListFilter):
    """A choices filter whose entries name the status codes the badges show (`code_label`),
    rather than only their descriptions. Use: ``list_filter = (("status", StatusFilter),)``."""

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        shown = iter(super().choices(changelist))
        yield next(shown)  # "All"
        for (value, label), choice in zip(self.field.flatchoices, shown, strict=False):
            # With "Show counts" Django appends " (N)" to the label: keep it.
            suffix = str(choice["display"])[len(str(label)) :]
            yield {**choice, "display": code_label(str(value), label) + suffix}
        yield from shown  # the "empty" entry of a nullable field
