"""The dashboard on the admin index: volumes per currency, status counts, conversion, refunds,
webhook backlog, flagged orders, the share of payments found by polling, and a daily SVG chart;
from a handful of aggregated queries."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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
    assert page.count('class="bo-bar"') == 60
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
