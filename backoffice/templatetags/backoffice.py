"""Template filters of the back office: amounts, percentages, status badges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import template
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from backoffice.charts import amount_text

register = template.Library()


@register.filter
def amount(value: Decimal | None) -> str:
    """A Decimal as Binance writes it (no exponent, no trailing zeros); empty for None."""
    return "" if value is None else amount_text(value)


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


@register.filter
def status_badge(value: str) -> SafeString:
    return badge(value)


@register.filter
def sum_values(values: Iterable[int]) -> int:
    return sum(values)


def badge(value: Any, label: str | None = None, *, title: str = "") -> SafeString:
    """A coloured badge; the CSS class is the status value (backoffice/admin.css). `title`:
    its tooltip (a status's description)."""
    if title:
        return format_html(
            '<span class="bo-badge s-{}" title="{}">{}</span>', value, title, label or value
        )
    return format_html('<span class="bo-badge s-{}">{}</span>', value, label or value)


@register.inclusion_tag("admin/date_hierarchy.html")
def bo_date_hierarchy(cl: Any) -> dict[str, Any]:
    """Django's date hierarchy without its SELECT DISTINCT date_trunc(...) over every row.

    The periods offered are those between the first and the last date of the current list
    (MIN/MAX: two index reads), not only those that have rows: on a big table the DISTINCT scan
    costs more than the whole page. An empty period simply lists nothing.
    """
    field = cl.date_hierarchy
    year, month, day = (cl.params.get(f"{field}__{part}") for part in ("year", "month", "day"))

    def link(filters: dict[str, Any]) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    def pick(value: Any) -> int:
        return int(value[-1] if isinstance(value, list) else value)

    if year and month and day:
        chosen = dt.date(pick(year), pick(month), pick(day))
        return {
            "show": True,
            "back": {
                "link": link({f"{field}__year": chosen.year, f"{field}__month": chosen.month}),
                "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    bounds = getattr(cl, "date_bounds", None)
    if bounds is None:
        found = cl.queryset.aggregate(first=Min(field), last=Max(field))
        bounds = (found["first"], found["last"])
    if not bounds[0]:
        return {"show": False}
    first, last = (timezone.localtime(moment).date() for moment in bounds)
    if not year and first.year == last.year:  # like Django: start at the level that splits
        year = first.year
        if first.month == last.month:
            month = first.month
    if year and month:
        y, m = pick(year), pick(month)
        return {
            "show": True,
            "back": {"link": link({f"{field}__year": y}), "title": str(y)},
            "choices": [
                {
                    "link": link(
                        {f"{field}__year": y, f"{field}__month": m, f"{field}__day": d.day}
                    ),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in _days(first, last)
            ],
        }
    if year:
        y = pick(year)
        return {
            "show": True,
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({f"{field}__year": y, f"{field}__month": m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in _months(first, last)
            ],
        }
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({f"{field}__year": y}), "title": str(y)}
            for y in range(first.year, last.year + 1)
        ],
    }


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months
