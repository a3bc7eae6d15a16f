"""Payments applied in batches (webhooks/services/batch.py): the same outcomes as one by one,
each event applied once, a failing batch falling back to one by one, few statements."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binance_pay import parse_notification
from notifications.models import Event, Notification, WebhookEndpoint
from orders.models import Order, OrderEvent, OrderStatus
from tests.factories import ApplicationFactory, OrderFactory
from tests.webhooks.factories import pay_body, share_body
from webhooks.models import EventStatus, WebhookEvent
from webhooks.services import batch, handlers
from webhooks.services.batch import webhook_event_process_batched
from webhooks.services.intake import dedupe_key

pytestmark = pytest.mark.django_db


def stored(body: bytes) -> WebhookEvent:
    """An event as intake stores it (its task not run)."""
    notification = parse_notification(body)
    data = notification.data if isinstance(notification.data, dict) else {}
    return WebhookEvent.objects.create(
        body=body,
        headers={},
        cert_serial="test",
        biz_type=notification.biz_type,
        biz_id_str=notification.biz_id_str,
        biz_status=notification.biz_status,
        merchant_trade_no=data.get("merchantTradeNo", ""),
        dedupe_key=dedupe_key(notification, body),
    )


def paid_transitions(order: Order) -> int:
    return OrderEvent.objects.filter(
        order=order, kind="status_change", to_status__in=["PAID", "PAID_AFTER_CLOSE"]
    ).count()


def status_of(event: WebhookEvent) -> str:
    return WebhookEvent.objects.get(pk=event.pk).status


def test_one_task_applies_the_waiting_payments_and_their_tasks_find_them_done():
    orders = OrderFactory.create_batch(5)
    events = [stored(pay_body(order, transact_time=1_700_000_123_456)) for order in orders]

    assert webhook_event_process_batched(event_id=events[2].pk) == EventStatus.PROCESSED
    for event in events:  # each event's own task: nothing left to do
        assert webhook_event_process_batched(event_id=event.pk) is None

    for order, event in zip(orders, events, strict=True):
        order.refresh_from_db()
        event.refresh_from_db()
        assert order.status == OrderStatus.PAID
        assert order.transaction_id == "M_P_219129203579346945"
        assert order.paid_at is not None and order.paid_at.year == 2023
        assert order.updated_at > order.created_at
        assert paid_transitions(order) == 1
        assert (event.status, event.attempts, event.last_error) == ("processed", 1, "")
        assert event.processed_at is not None and event.next_attempt_at is None
        assert Event.objects.filter(order=order, event_type="order.paid").count() == 1


def test_a_batch_takes_at_most_its_size_and_only_first_time_payments(settings):
    settings.PAYSVC_WEBHOOK_BATCH_SIZE = 3
    orders = OrderFactory.create_batch(5)
    events = [stored(pay_body(order)) for order in orders]
    # Leased by the sweeper (its task is queued): left to that task.
    leased = events[0]
    WebhookEvent.objects.filter(pk=leased.pk).update(next_attempt_at=timezone.now())
    share = stored(share_body(request_id="r-1", share_id="29383937493038"))  # not a payment

    assert webhook_event_process_batched(event_id=events[4].pk) == EventStatus.PROCESSED

    done = {e.pk for e in events if status_of(e) == EventStatus.PROCESSED}
    assert done == {events[4].pk, events[1].pk, events[2].pk}  # own + the two oldest eligible
    assert status_of(leased) == status_of(events[3]) == EventStatus.RECEIVED
    assert status_of(share) == EventStatus.RECEIVED
    # The leased event's own task takes it (with what is left).
    assert webhook_event_process_batched(event_id=leased.pk) == EventStatus.PROCESSED
    assert status_of(events[3]) == EventStatus.PROCESSED


def test_each_payment_of_a_batch_gets_the_outcome_it_would_get_alone():
    paid_already = OrderFactory(status=OrderStatus.PAID)
    closed = OrderFactory(status=OrderStatus.CANCELED)
    short = OrderFactory(order_amount=Decimal("25.17"))
    good = OrderFactory()
    events = {
        "good": stored(pay_body(good)),
        "orphan": stored(pay_body(merchant_trade_no="nobody-has-this")),
        "mismatch": stored(pay_body(short, total_fee="20.00000000")),
        "paid_already": stored(pay_body(paid_already)),
        "after_close": stored(pay_body(closed)),
    }

    webhook_event_process_batched(event_id=events["good"].pk)

    assert {name: status_of(e) for name, e in events.items()} == {
        "good": "processed",
        "orphan": "orphan",
        "mismatch": "flagged",
        "paid_already": "processed",
        "after_close": "processed",
    }
    orphan = WebhookEvent.objects.get(pk=events["orphan"].pk)
    assert orphan.next_attempt_at is not None and "no order" in orphan.last_error
    short.refresh_from_db()
    assert (short.status, short.flagged) == (OrderStatus.INITIAL, True)
    assert paid_transitions(paid_already) == 0  # reached before: no second transition
    closed.refresh_from_db()
    assert (closed.status, closed.flagged) == (OrderStatus.PAID_AFTER_CLOSE, True)
    assert Event.objects.filter(order=closed, event_type="order.paid_after_close").count() == 1
    assert paid_transitions(good) == 1


def test_two_events_of_one_order_in_a_batch_pay_it_once():
    order = OrderFactory()
    first = stored(pay_body(order))
    # Same order, another bizId (a second PAY_SUCCESS Binance should never send, but might).
    second = stored(pay_body(order, prepay_id="98765432109876"))

    webhook_event_process_batched(event_id=first.pk)

    assert status_of(first) == status_of(second) == EventStatus.PROCESSED
    assert paid_transitions(order) == 1
    assert Event.objects.filter(order=order).count() == 1


def test_deliveries_of_a_batch_are_stored_and_enqueued_with_their_ids(
    monkeypatch, django_capture_on_commit_callbacks
):
    app = ApplicationFactory(default_notify_url="https://shop.example/binance")
    WebhookEndpoint.objects.create(
        application=app, url="https://hooks.example/paysvc", event_types=["order.paid"]
    )
    orders = [OrderFactory(application=app) for _ in range(3)]
    events = [stored(pay_body(order)) for order in orders]
    enqueued: list[Any] = []
    monkeypatch.setattr(
        "notifications.services.deliveries.enqueue_delivery", lambda pk: enqueued.append(pk)
    )

    with django_capture_on_commit_callbacks(execute=True):
        webhook_event_process_batched(event_id=events[0].pk)

    deliveries = Notification.objects.filter(event__order__in=orders)
    assert deliveries.count() == 6  # the default URL and the endpoint, for each payment
    assert sorted(enqueued) == sorted(deliveries.values_list("pk", flat=True))
    assert None not in enqueued
    assert set(deliveries.values_list("url", flat=True)) == {
        "https://shop.example/binance",
        "https://hooks.example/paysvc",
    }


def test_a_batch_that_raises_is_rolled_back_and_its_events_processed_one_by_one(monkeypatch):
    orders = OrderFactory.create_batch(4)
    events = [stored(pay_body(order)) for order in orders]
    bad = orders[2].merchant_trade_no
    real = handlers.pay_success_locked

    def flaky(notification: Any, order: Order | None) -> Any:
        if order is not None and order.merchant_trade_no == bad:
            raise RuntimeError("handler bug")
        return real(notification, order)

    monkeypatch.setattr(batch, "pay_success_locked", flaky)  # the batch path only
    monkeypatch.setattr(handlers, "pay_success_locked", flaky)  # and the one-by-one path

    assert webhook_event_process_batched(event_id=events[0].pk) == EventStatus.PROCESSED

    statuses = [status_of(e) for e in events]
    assert statuses == ["processed", "processed", "failed", "processed"]
    failed = WebhookEvent.objects.get(pk=events[2].pk)
    assert "handler bug" in failed.last_error and failed.attempts == 1
    assert [paid_transitions(o) for o in orders] == [1, 1, 0, 1]


def test_a_malformed_payment_in_a_batch_fails_alone():
    order = OrderFactory()
    good = stored(pay_body(order))
    broken = stored(
        b'{"bizType":"PAY","data":"{\\"merchantTradeNo\\":\\"x\\"}","bizIdStr":"1",'
        b'"bizId":1,"bizStatus":"PAY_SUCCESS"}'
    )

    webhook_event_process_batched(event_id=good.pk)

    assert status_of(good) == EventStatus.PROCESSED
    failed = WebhookEvent.objects.get(pk=broken.pk)
    assert failed.status == EventStatus.FAILED and "malformed" in failed.last_error


def test_a_batch_costs_a_few_statements_whatever_its_size(settings):
    """The point of batching: statements per batch, not per payment."""
    settings.PAYSVC_WEBHOOK_BATCH_SIZE = 50
    app = ApplicationFactory()
    small = [stored(pay_body(OrderFactory(application=app))) for _ in range(2)]
    with CaptureQueriesContext(connection) as few:
        webhook_event_process_batched(event_id=small[0].pk)
    many = [stored(pay_body(OrderFactory(application=app))) for _ in range(40)]
    with CaptureQueriesContext(connection) as lots:
        webhook_event_process_batched(event_id=many[0].pk)

    assert all(status_of(e) == EventStatus.PROCESSED for e in small + many)
    assert len(lots.captured_queries) == len(few.captured_queries) <= 14, [
        q["sql"][:80] for q in lots.captured_queries
    ]


def test_batching_off_processes_each_event_alone(settings):
    settings.PAYSVC_WEBHOOK_BATCH_SIZE = 1
    events = [stored(pay_body(order)) for order in OrderFactory.create_batch(3)]

    assert webhook_event_process_batched(event_id=events[0].pk) == EventStatus.PROCESSED
    assert [status_of(e) for e in events] == ["processed", "received", "received"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_apply_every_payment_exactly_once():
    """Four threads, each with its own connection, run the tasks of 120 payments at once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and SKIP LOCKED are what is under test; SQLite serialises")
    orders = OrderFactory.create_batch(120)
    events = [stored(pay_body(order)) for order in orders]
    ids = [e.pk for e in events]
    errors: list[BaseException] = []

    def run(share: list[int]) -> None:
        try:
            for pk in share:
                webhook_event_process_batched(event_id=pk)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert WebhookEvent.objects.filter(pk__in=ids, status="processed").count() == 120
    assert sum(paid_transitions(o) for o in orders) == 120
    assert all(paid_transitions(o) == 1 for o in orders)
    assert Event.objects.filter(order__in=orders).count() == 120


def test_the_plain_status_read_names_the_event_table():
    assert f"FROM {WebhookEvent._meta.db_table} " in batch._HEAD_SQL


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_event_another_batch_holds_applies_the_next_payments_waiting():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are what is under test; SQLite serialises")
    events = [stored(pay_body(order)) for order in OrderFactory.create_batch(4)]
    held, release = threading.Event(), threading.Event()

    def hold_first() -> None:  # another worker's batch, still running
        try:
            with transaction.atomic():
                WebhookEvent.objects.select_for_update().get(pk=events[0].pk)
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_first)
    holder.start()
    assert held.wait(10)
    try:
        assert webhook_event_process_batched(event_id=events[0].pk) is None
        assert [status_of(e) for e in events] == ["received", "processed", "processed", "processed"]
    finally:
        release.set()
        holder.join()
