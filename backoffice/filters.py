"""Changelist filters shared by the admins: a from/to date range on any datetime field."""

from __future__ import annotations

import datetime as dt
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
