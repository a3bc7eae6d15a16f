"""Small server-side SVG charts for the dashboard: no JavaScript, no CDN.

Every text that reaches the SVG goes through format_html (escaped); numbers are formatted here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# The drawing's own units; the SVG scales to its card's width (viewBox), about 1:1 at 1280 px.
WIDTH, HEIGHT = 960, 230
LEFT, RIGHT, TOP, BOTTOM = 78, 12, 30, 36
# Up to this many days with payments, each bar carries its value (a near-empty month).
LABELLED_BARS = 7


def amount_text(value: Decimal) -> str:
    """A Decimal as plain text: no exponent, no trailing zeros (Binance's style: 1.00 -> 1)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def y_scale(peak: Decimal) -> list[Decimal]:
    """The gridlines above 0 for values up to `peak`: two or three, at a round step (1, 2 or 5
    times a power of ten), the last one at or above the peak. [] when there is nothing."""
    if peak <= 0:
        return []
    exponent = peak.adjusted() - 1
    while True:
        for multiple in (1, 2, 5):
            step = Decimal(multiple).scaleb(exponent)
            count = math.ceil(peak / step)
            if count <= 3:
                return [step * n for n in range(1, max(count, 2) + 1)]
        exponent += 1


def date_ticks(days: Sequence[dt.date]) -> list[int]:
    """Indexes of the days that get a date under the axis: every Monday (weekly), or the first
    day when the series holds no Monday."""
    mondays = [index for index, day in enumerate(days) if day.weekday() == 0]
    return mondays or ([0] if days else [])


# Up to this many days with payments, the note names them.
NAMED_DAYS = 3


def days_with_payments_note(series: Sequence[tuple[dt.date, Decimal]]) -> str:
    """ "payments on 26 of 30 days"; a near-empty month names its days ("payments on 1 of 30
    days: Sat 28 Nov")."""
    paid_days = [day for day, value in series if value > 0]
    note = f"payments on {len(paid_days)} of {len(series)} days"
    if 0 < len(paid_days) <= NAMED_DAYS:
        note += ": " + ", ".join(f"{day:%a %d %b}" for day in paid_days)
    return note


def daily_bars_svg(
    *, series: Sequence[tuple[dt.date, Decimal]], currency: str, title: str
) -> SafeString:
    """A bar per day under a y scale of two or three gridlines, a date under every Monday, and a
    note of how many days had payments. A near-empty month stays readable: its few bars carry
    their values. Hovering a bar shows its day and value."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    peak = max((value for _day, value in series), default=Decimal(0))
    grid = y_scale(peak)
    top_value = grid[-1] if grid else Decimal(1)
    slot = plot_w / max(len(series), 1)

    def y_of(value: Decimal) -> float:
        return base - float(value / top_value) * plot_h

    gridlines = [
        (f"{y_of(value):.1f}", f"{amount_text(value)}", f"{y_of(value) + 4:.1f}") for value in grid
    ]
    paid_days = [(i, day, value) for i, (day, value) in enumerate(series) if value > 0]
    bars = []
    for index, day, value in paid_days:
        y = y_of(value)
        bars.append(
            (
                f"{LEFT + index * slot + slot * 0.15:.1f}",
                f"{y:.1f}",
                f"{slot * 0.7:.1f}",
                f"{base - y:.1f}",
                f"{day:%a %Y-%m-%d}: {amount_text(value)} {currency}",
            )
        )
    values = (
        [
            (f"{LEFT + (index + 0.5) * slot:.1f}", f"{y_of(value) - 5:.1f}", amount_text(value))
            for index, _day, value in paid_days
        ]
        if len(paid_days) <= LABELLED_BARS
        else []
    )
    ticks = [
        (
            f"{LEFT + (index + 0.5) * slot:.1f}",
            f"{series[index][0]:%a %d %b}",
        )
        for index in date_ticks([day for day, _value in series])
    ]
    return format_html(
        '<svg class="bo-chart" role="img" viewBox="0 0 {w} {h}" '
        'xmlns="http://www.w3.org/2000/svg" aria-label="{title}, {note}"><title>{title}</title>'
        '<text x="{left}" y="16" class="bo-label bo-unit">{currency}</text>'
        '<text x="{right}" y="16" text-anchor="end" class="bo-label bo-note">{note}</text>'
        "{gridlines}"
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" class="bo-axis"/>'
        '<text x="{lx}" y="{base_label}" text-anchor="end" class="bo-label">0</text>'
        "{bars}{values}{ticks}"
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        note=days_with_payments_note(series),
        currency=currency,
        left=LEFT,
        right=WIDTH - RIGHT,
        base=f"{base:.1f}",
        base_label=f"{base + 4:.1f}",
        lx=LEFT - 8,
        gridlines=format_html_join(
            "",
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="bo-grid"/>'
            '<text x="{}" y="{}" text-anchor="end" class="bo-label bo-y">{}</text>',
            (
                (LEFT, y, WIDTH - RIGHT, y, LEFT - 8, label_y, text)
                for y, text, label_y in gridlines
            ),
        ),
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" class="bo-bar"><title>{}</title></rect>',
            bars,
        ),
        values=format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="middle" class="bo-label bo-value">{}</text>',
            values,
        ),
        ticks=format_html_join(
            "",
            '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="bo-axis"/>'
            '<text x="{0}" y="{3}" text-anchor="middle" class="bo-label bo-x">{4}</text>',
            ((x, f"{base:.1f}", f"{base + 5:.1f}", f"{base + 20:.1f}", text) for x, text in ticks),
        ),
    )
