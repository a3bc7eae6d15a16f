"""paysvc.bulk: deferred writes flushed as bulk statements, and update_rows on every type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from orders.models import Order, OrderEvent
from paysvc import bulk
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_update_rows_writes_each_row_its_own_values_of_every_type():
    orders = OrderFactory.create_batch(3)
    paid_at = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)
    for i, order in enumerate(orders):
        order.status = "PAID"
        order.commission = Decimal(f"0.0{i}")
        order.paid_at = paid_at + dt.timedelta(minutes=i)
        order.payment_info = {"payerId": i, "note": "a'b\"c"}
        order.transaction_id = "" if i == 0 else f"M_P_{i}"
        order.flag_reason = "x" * 200
    orders[2].paid_at = None

    bulk.update_rows(
        Order,
        orders,
        ["status", "commission", "paid_at", "payment_info", "transaction_id", "flag_reason"],
    )

    for i, order in enumerate(orders):
        stored = Order.objects.get(pk=order.pk)
        assert stored.status == "PAID"
        assert stored.commission == Decimal(f"0.0{i}")
        assert stored.paid_at == (None if i == 2 else paid_at + dt.timedelta(minutes=i))
        assert stored.payment_info == {"payerId": i, "note": "a'b\"c"}
        assert stored.transaction_id == ("" if i == 0 else f"M_P_{i}")
        assert stored.flag_reason == "x" * 200


def test_update_rows_leaves_other_rows_and_fields_alone():
    changed, untouched = OrderFactory(), OrderFactory(transaction_id="keep")
    changed.transaction_id = "new"
    changed.customer_ref = "not written"

    bulk.update_rows(Order, [changed], ["transaction_id"])

    assert Order.objects.get(pk=changed.pk).transaction_id == "new"
    assert Order.objects.get(pk=changed.pk).customer_ref != "not written"
    assert Order.objects.get(pk=untouched.pk).transaction_id == "keep"


def test_deferred_writes_are_issued_at_the_end_of_the_block_only():
    order = OrderFactory()
    with transaction.atomic(), bulk.deferred_writes() as writes:
        line = OrderEvent(order=order, kind="note", source="admin", summary="later")
        writes.create(line)
        order.transaction_id = "T-1"
        writes.update(order, ["transaction_id"])
        assert bulk.pending() is writes
        assert not OrderEvent.objects.filter(summary="later").exists()
        assert Order.objects.get(pk=order.pk).transaction_id != "T-1"
    assert bulk.pending() is None
    assert line.pk is not None
    assert OrderEvent.objects.filter(pk=line.pk, summary="later").exists()
    assert Order.objects.get(pk=order.pk).transaction_id == "T-1"


def test_nothing_is_written_when_the_block_raises():
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic(), bulk.deferred_writes() as writes:
        writes.create(OrderEvent(order=order, kind="note", source="admin", summary="never"))
        raise RuntimeError("boom")
    assert not OrderEvent.objects.filter(summary="never").exists()
    assert bulk.pending() is None


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_deferred_writes_need_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"), bulk.deferred_writes():
        pass


def test_insert_rows_sets_keys_timestamps_and_the_foreign_keys_of_parents_saved_first():
    from notifications.models import Event, Notification

    order = OrderFactory()
    lines = [
        OrderEvent(order=order, kind="note", source="admin", summary=f'say "{i}"', detail={"i": i})
        for i in range(3)
    ]
    event = Event(
        public_id="evt_" + "a" * 32,
        application=order.application,
        event_type="order.paid",
        created_at=order.created_at,
        payload={"quote": 'a "b" \\ c', "list": [1, "2"]},
    )
    delivery = Notification(
        public_id="dlv_" + "b" * 32,
        event=event,
        url="https://shop.example/hook",
        next_attempt_at=order.created_at,
        retry_started_at=order.created_at,
        created_at=order.created_at,
    )
    with transaction.atomic():
        bulk.insert_rows(OrderEvent, lines)
        bulk.insert_rows(Event, [event])
        bulk.insert_rows(Notification, [delivery])

    stored = list(OrderEvent.objects.filter(order=order, kind="note").order_by("pk"))
    assert [line.pk for line in lines] == [line.pk for line in stored]
    assert [line.summary for line in stored] == ['say "0"', 'say "1"', 'say "2"']
    assert [line.detail for line in stored] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert all(line.created_at is not None for line in stored)
    assert not any(line._state.adding for line in lines)
    assert Event.objects.get(pk=event.pk).payload == {"quote": 'a "b" \\ c', "list": [1, "2"]}
    assert Notification.objects.get(pk=delivery.pk).event_id == event.pk


def test_insert_rows_of_one_row_sets_its_key_and_its_childrens_foreign_key():
    application = OrderFactory().application
    with transaction.atomic(), bulk.deferred_writes() as writes:
        order = Order(
            application=application, merchant_trade_no="one-row", order_amount=Decimal("1")
        )
        writes.create(order)
        line = OrderEvent(order=order, kind="note", source="api", summary="stored")
        writes.create(line)

    assert Order.objects.get(pk=order.pk).merchant_trade_no == "one-row"
    assert OrderEvent.objects.get(pk=line.pk).order_id == order.pk
    assert order.created_at is not None


def test_update_returning_writes_the_fields_and_reads_the_rest_of_the_row_back():
    order = OrderFactory(checkout_url="", payment_info=None)
    stale = Order.objects.get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(status="PAID", payment_info={"payerId": 7})
    stale.checkout_url = "https://pay.example/x"
    stale.total_fee = Decimal("25.17")

    with transaction.atomic():
        assert bulk.update_returning(stale, ["checkout_url", "total_fee"])

    assert (stale.status, stale.payment_info) == ("PAID", {"payerId": 7})  # what the row holds
    assert stale.total_fee == Decimal("25.17")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.checkout_url, stored.status) == ("https://pay.example/x", "PAID")


def test_update_returning_a_row_that_is_gone_writes_nothing():
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).delete()
    order.checkout_url = "https://pay.example/x"

    assert bulk.update_returning(order, ["checkout_url"]) is False
    assert not Order.objects.exists()


# -- insert_with_children: a parent and its children in one statement ----------------------------
def _order_and_lines(application, trade_no: str, summaries: list[str]):
    order = Order(application=application, merchant_trade_no=trade_no, order_amount=Decimal("1"))
    lines = [OrderEvent(order=order, kind="note", source="api", summary=s) for s in summaries]
    return order, lines


@pytest.mark.django_db(transaction=True)
def test_insert_with_children_is_one_autocommitted_statement():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = OrderFactory().application
    order, lines = _order_and_lines(application, "with-children", ["stored", "second"])

    with CaptureQueriesContext(connection) as queries:
        bulk.insert_with_children(order, lines)

    assert len(queries.captured_queries) == 1  # no BEGIN or COMMIT either: autocommitted
    assert queries.captured_queries[0]["sql"].startswith(
        'WITH parent AS (INSERT INTO "orders_order"'
    )
    assert not connection.in_atomic_block
    stored = Order.objects.get(merchant_trade_no="with-children")
    assert stored.pk == order.pk and order.created_at is not None
    assert not order._state.adding and not any(line._state.adding for line in lines)
    assert [(e.pk, e.summary) for e in stored.events.order_by("id")] == [
        (lines[0].pk, "stored"),
        (lines[1].pk, "second"),
    ]
    assert all(line.order_id == order.pk and line.created_at for line in lines)


@pytest.mark.django_db(transaction=True)
def test_insert_with_children_stores_nothing_when_a_child_is_refused():
    from django.db import DataError

    application = OrderFactory().application
    order, lines = _order_and_lines(application, "child-refused", ["fine", "x" * 300])

    with pytest.raises(DataError):  # summary is at most 255 characters
        bulk.insert_with_children(order, lines)

    assert not Order.objects.filter(merchant_trade_no="child-refused").exists()
    assert not OrderEvent.objects.filter(summary="fine").exists()


def test_insert_with_children_in_a_transaction_leaves_it_usable_after_a_duplicate():
    from django.db import IntegrityError

    application = OrderFactory().application
    first, first_lines = _order_and_lines(application, "duplicate", ["first"])
    second, second_lines = _order_and_lines(application, "duplicate", ["second"])
    with transaction.atomic():
        bulk.insert_with_children(first, first_lines)
        with pytest.raises(IntegrityError):
            bulk.insert_with_children(second, second_lines)
        assert Order.objects.filter(merchant_trade_no="duplicate").count() == 1  # still usable

    assert list(OrderEvent.objects.filter(order=first).values_list("summary", flat=True)) == [
        "first"
    ]


def test_insert_with_children_needs_one_foreign_key_to_the_parent():
    application = OrderFactory().application
    order = Order(application=application, merchant_trade_no="no-link", order_amount=Decimal("1"))

    with pytest.raises(ValueError, match="exactly one foreign key"):
        bulk.insert_with_children(order, [OrderFactory.build()])
