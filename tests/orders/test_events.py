"""orders.services.events: the order resource of merchant events, with its refunds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Event
from orders.models import EventSource, OrderStatus
from orders.services import order_status_apply
from orders.services.events import order_resource
from tests.factories import OrderFactory, RefundFactory

pytestmark = pytest.mark.django_db


def test_the_resource_reads_the_refunds_unless_the_caller_knows_them(django_assert_num_queries):
    refund = RefundFactory()
    order = refund.order

    with django_assert_num_queries(1):
        read = order_resource(order)
    with django_assert_num_queries(0):
        known = order_resource(order, refunds=[])

    assert [r["refundRequestId"] for r in read["refunds"]] == [refund.refund_request_id]
    assert known["refunds"] == []
    assert {k: v for k, v in read.items() if k != "refunds"} == {
        k: v for k, v in known.items() if k != "refunds"
    }


def test_paying_an_unpaid_order_emits_its_event_without_a_refunds_query():
    order = OrderFactory(status=OrderStatus.INITIAL)

    with CaptureQueriesContext(connection) as captured:
        order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source=EventSource.WEBHOOK)

    assert not [q for q in captured.captured_queries if "orders_refund" in q["sql"]]
    event = Event.objects.get(order=order)
    data = event.payload["data"]
    assert data["status"] == OrderStatus.PAID and data["refunds"] == []
    assert order_resource(order)["refunds"] == []  # later reads query, and find none
