"""The dashboard on the admin index: volumes per currency, status counts, conversion, refunds,
webhook backlog, flagged orders, the share of payments found by polling, and a daily SVG chart;
from a handful of aggregated queries."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.charts import amount_text, daily_bars_svg, y_scale
from orders.admin.dashboard import order_figures
from orders.models import EventSource, Order, Refund, RefundStatus
from tests.backoffice.factories import paid_order, staff_user
from tests.factories import OrderFactory
from webhooks.models import WebhookEvent
from webhooks.selectors import webhook_backlog

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def _event(status: str) -> WebhookEvent:
    key = uuid.uuid4().hex
    return WebhookEvent.objects.create(
        body=b"{}",
        headers={},
        cert_serial="X",
        biz_type="PAY",
        biz_id_str=key[:18],
        biz_status="PAY_SUCCESS",
        dedupe_key=key,
        status=status,
    )


def _days_ago(days: int, hour: int = 1) -> dt.datetime:
    today = timezone.now().astimezone(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days)


@pytest.fixture
def history():
    now = timezone.now()
    today = [paid_order(paid_at=now), paid_order(paid_at=now, source=EventSource.RECONCILIATION)]
    paid_order(paid_at=_days_ago(3), total_fee=Decimal("10"))
    paid_order(paid_at=_days_ago(20), total_fee=Decimal("100"))
    old = paid_order(paid_at=_days_ago(40), total_fee=Decimal("1000"))
    Order.objects.filter(pk=old.pk).update(created_at=_days_ago(41))
    paid_order(paid_at=now, currency="BTC", total_fee=Decimal("0.00100000"))
    OrderFactory()  # created, unpaid
    OrderFactory(flagged=True, flag_reason="amount mismatch")
    Refund.objects.create(
        order=today[0],
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("5"),
        status=RefundStatus.SUCCESS,
    )
    Refund.objects.create(
        order=today[1],
        refund_request_id=uuid.uuid4().hex,
        refund_amount=Decimal("1"),
        status=RefundStatus.PENDING,
    )
    for status in ("received", "orphan", "failed", "failed", "processed"):
        _event(status)


def test_the_figures(history):
    stats = order_figures()

    usdt = next(v for v in stats.volumes if v.currency == "USDT")
    assert usdt.today == Decimal("50.34")
    assert usdt.week == Decimal("60.34")
    assert usdt.month == Decimal("160.34")
    assert len(usdt.daily) == 30 and usdt.daily[-1][1] == Decimal("50.34")
    assert next(v for v in stats.volumes if v.currency == "BTC").today == Decimal("0.001")
    assert stats.created_month == 7 and stats.paid_month == 5
    assert dict((s, n) for s, _l, n in stats.status_counts) == {"PAID": 5, "INITIAL": 2}
    assert stats.conversion == pytest.approx(5 / 7)
    assert stats.paid_found_by_polling == 1 and stats.polling_share == pytest.approx(1 / 5)
    refunds = {r.currency: r for r in stats.refunds}
    assert (refunds["USDT"].count, refunds["USDT"].succeeded_amount) == (2, Decimal("5"))
    assert refunds["USDT"].in_progress == 1
    assert stats.flagged_orders == 1
    assert webhook_backlog() == {"waiting": 2, "failed": 2}


def test_the_index_shows_the_dashboard_and_a_chart_per_currency(history, support):
    response = support.get(INDEX)
    page = response.content.decode()
    assert response.status_code == 200
    for block in (
        "dash-volume",
        "dash-conversion",
        "dash-polling",
        "dash-flagged",
        "dash-webhooks",
        "dash-callbacks",
        "dash-refunds",
        "dash-status",
        "dash-chart",
    ):
        assert f'id="{block}"' in page, block
    assert "50.34" in page and "71.4%" in page and "20.0%" in page
    assert page.count('<svg class="bo-chart"') == 2
    # A bar per day with payments: USDT today, 3 and 20 days ago; BTC today.
    assert page.count('class="bo-bar"') == 4
    assert "payments on 3 of 30 days: " in page and "payments on 1 of 30 days: " in page
    assert "<script" not in page.split('id="dashboard"')[1].split("</svg>")[0]


def test_few_queries_whatever_the_volume(support, django_assert_max_num_queries):
    paid_order()
    support.get(INDEX)
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        support.get(INDEX)
    for days in range(40):
        paid_order(paid_at=_days_ago(days))
    cache.clear()
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as big:
        support.get(INDEX)
    assert len(big) == len(small)


def test_the_figures_are_reused_for_a_minute(support):
    support.get(INDEX)
    paid_order()
    with CaptureQueriesContext(connection) as again:
        page = support.get(INDEX)
    assert not any('"orders_order"' in q["sql"] for q in again.captured_queries)
    assert 'id="dash-as-of"' in page.content.decode()


def test_staff_without_order_access_get_no_dashboard(client):
    client.force_login(staff_user("nobody"))
    response = client.get(INDEX)
    assert response.status_code == 200
    assert "dashboard" not in response.context or response.context["dashboard"] is None
    assert 'id="dashboard"' not in response.content.decode()


# -- the daily chart (backoffice.charts) -------------------------------------------------------
def _month(values: dict[int, str]) -> list[tuple[dt.date, Decimal]]:
    """30 days ending on Wednesday 2026-12-02; `values`: amount by day index."""
    first = dt.date(2026, 11, 3)
    return [(first + dt.timedelta(days=i), Decimal(values.get(i, "0"))) for i in range(30)]


def _texts(svg: str, css_class: str) -> list[str]:
    return re.findall(rf'class="bo-label {css_class}">([^<]*)<', svg)


@pytest.mark.parametrize(
    ("peak", "grid"),
    [
        ("188", ["100", "200"]),
        ("25.17", ["10", "20", "30"]),
        ("100", ["50", "100"]),
        ("7", ["5", "10"]),
        ("0.001", ["0.0005", "0.001"]),
        ("2343.17", ["1000", "2000", "3000"]),
    ],
)
def test_the_y_scale_has_two_or_three_round_gridlines_reaching_the_peak(peak, grid):
    assert [amount_text(v) for v in y_scale(Decimal(peak))] == grid


def test_a_month_of_payments_has_weekly_dates_a_y_scale_and_a_note():
    series = _month({i: str(10 + (i * 13) % 40) for i in range(30)})

    svg = str(daily_bars_svg(series=series, currency="USDT", title="t"))

    mondays = [day for day, _v in series if day.weekday() == 0]
    assert _texts(svg, "bo-x") == [f"{day:%a %d %b}" for day in mondays]
    assert _texts(svg, "bo-x")[:2] == ["Mon 09 Nov", "Mon 16 Nov"]
    assert _texts(svg, "bo-y") == ["20", "40", "60"]  # peak 49
    assert svg.count('class="bo-grid"') == 3
    assert svg.count('class="bo-bar"') == 30
    assert "payments on 30 of 30 days" in svg
    assert _texts(svg, "bo-value") == []  # a full month: no values on the bars


def test_a_single_day_of_payments_reads_well():
    series = _month({27: "25.17"})

    svg = str(daily_bars_svg(series=series, currency="USDT", title="t"))

    assert svg.count('class="bo-bar"') == 1
    assert "payments on 1 of 30 days: Mon 30 Nov" in svg
    assert _texts(svg, "bo-value") == ["25.17"]  # its value on the bar
    assert _texts(svg, "bo-y") == ["10", "20", "30"]
    assert len(_texts(svg, "bo-x")) == 4  # the Mondays, not only the first and last day
    assert "Mon 2026-11-30: 25.17 USDT" in svg  # the bar's tooltip


def test_a_series_without_a_monday_still_dates_its_first_day():
    series = [(dt.date(2026, 12, 1), Decimal("1")), (dt.date(2026, 12, 2), Decimal("2"))]
    svg = str(daily_bars_svg(series=series, currency="BTC", title="t"))
    assert _texts(svg, "bo-x") == ["Tue 01 Dec"]
