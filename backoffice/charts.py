"""Small server-side SVG charts for the dashboard: no JavaScript, no CDN.

Every text that reaches the SVG goes through format_html (escaped); numbers are formatted here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 28


def amount_text(value: Decimal) -> str:
    """A Decimal as plain text: no exponent, no trailing zeros (Binance's style: 1.00 -> 1)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def daily_bars_svg(
    *, series: Sequence[tuple[dt.date, Decimal]], currency: str, title: str
) -> SafeString:
    """A bar per day; the tallest bar fills the height. Hovering a bar shows its day and value."""
    peak = max((value for _day, value in series), default=Decimal(0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(series), 1)
    bars = []
    for index, (day, value) in enumerate(series):
        height = float(value / peak) * plot_h if peak else 0.0
        bars.append(
            (
                f"{LEFT + index * slot + slot * 0.15:.1f}",
                f"{TOP + plot_h - height:.1f}",
                f"{slot * 0.7:.1f}",
                f"{height:.1f}",
                f"{day:%Y-%m-%d}: {amount_text(value)} {currency}",
            )
        )
    first, last = (series[0][0], series[-1][0]) if series else (None, None)
    return format_html(
        '<svg class="bo-chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg" aria-label="{title}"><title>{title}</title>'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" class="bo-axis"/>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" class="bo-axis"/>'
        '<text x="{lx}" y="{ty}" text-anchor="end" class="bo-label">{peak}</text>'
        '<text x="{lx}" y="{base}" text-anchor="end" class="bo-label">0</text>'
        "{bars}"
        '<text x="{left}" y="{dy}" class="bo-label">{first}</text>'
        '<text x="{right}" y="{dy}" text-anchor="end" class="bo-label">{last}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        base=TOP + plot_h,
        lx=LEFT - 6,
        ty=TOP + 8,
        dy=HEIGHT - 8,
        peak=f"{amount_text(peak)} {currency}",
        first=f"{first:%d %b}" if first else "",
        last=f"{last:%d %b}" if last else "",
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" class="bo-bar"><title>{}</title></rect>',
            bars,
        ),
    )
