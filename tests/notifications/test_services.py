"""notifications/services.py with the hooks in orders/services: events, delivery, retries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from paysvc_webhooks import verify

from binance_pay import RefundQueryResult
from notifications.models import Event, Notification, NotificationAttempt, NotificationStatus
from notifications.payloads import event_body
from notifications.selectors import notification_delivery_stats
from notifications.services import (
    notification_deliver,
    notification_redeliver,
    notifications_dispatch_due,
)
from orders.models import AccountShare, AccountShareStatus, OrderStatus, RefundStatus
from orders.serializers import OrderSerializer
from orders.services import order_status_apply
from orders.services.refunds import refund_apply_result
from paysvc.metrics import CALLBACK_DELIVERIES
from tests.factories import ApplicationFactory, OrderFactory, RefundFactory
from tests.notifications.conftest import (
    Reply,
    notify,
)

pytestmark = pytest.mark.django_db

S = OrderStatus
MERCHANT_URL = "https://merchant.example.com/hooks/paysvc"


def counter(outcome: str) -> float:
    return CALLBACK_DELIVERIES.labels(outcome=outcome)._value.get()


def apply(order, status: str):
    return order_status_apply(order_id=order.pk, status=status, source="webhook")


def refund_result(refund, status: str) -> RefundQueryResult:
    return RefundQueryResult(
        refund_id="29",
        refund_request_id=refund.refund_request_id,
        prepay_id=refund.order.prepay_id,
        order_amount=Decimal("25.17"),
        refunded_amount=refund.refund_amount,
        refund_amount=refund.refund_amount,
        remaining_attempts=9,
        payer_open_id=None,
        refund_status=status,
    )


# -- events: which changes make one, and what it carries ------------------------------------------
def test_a_paid_order_is_delivered_once_signed_after_commit(
    receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    order = OrderFactory(notify_url=receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        apply(order, S.PAID)
        assert Notification.objects.count() == 1
        assert receiver.requests == []  # nothing leaves before the commit

    notification = Notification.objects.select_related("event").get()
    assert notification.status == NotificationStatus.DELIVERED
    assert notification.attempts == 1
    assert notification.delivered_at is not None
    assert notification.event.delivery_status == "delivered"
    assert notification.public_id.startswith("dlv_") and len(notification.public_id) == 36
    assert notification.event.public_id.startswith("evt_")
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/paysvc?shop=1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "paysvc-notifications/1"
    assert request.headers["Paysvc-Event-Id"] == notification.event.public_id
    assert request.headers["Paysvc-Delivery-Id"] == notification.public_id
    assert request.headers["Paysvc-Event-Type"] == "order.paid"
    secret = order.application.notification_secret
    assert verify(request.body, request.headers["Paysvc-Signature"], secret)
    assert request.body == event_body(notification.event.payload)
    event = request.json()
    assert set(event) == {"id", "type", "createdAt", "data"}
    assert event["id"] == notification.event.public_id
    assert event["type"] == "order.paid"
    assert event["createdAt"].endswith("Z")
    order.refresh_from_db()
    assert event["data"] == dict(OrderSerializer(order).data)
    assert event["data"]["status"] == "PAID"
    assert event["data"]["merchantTradeNo"] == order.merchant_trade_no
    assert event["data"]["totalFee"] == "25.17"
    [attempt] = NotificationAttempt.objects.all()
    assert (attempt.status_code, attempt.by, attempt.error) == (200, "system", "")
    assert attempt.response_excerpt == "ok"


@pytest.mark.parametrize(
    ("start", "reported", "event_type"),
    [
        (S.INITIAL, S.PAID, "order.paid"),
        (S.PENDING, S.PAID, "order.paid"),
        (S.INITIAL, S.CANCELED, "order.closed"),
        (S.INITIAL, S.EXPIRED, "order.expired"),
        (S.INITIAL, S.ERROR, "order.failed"),
        (S.EXPIRED, S.PAID, "order.paid_after_close"),
        (S.CANCELED, S.PAID, "order.paid_after_close"),
        (S.PAID, S.REFUNDED, "order.refunded"),
        (S.REFUNDING, S.FULL_REFUNDED, "order.fully_refunded"),
    ],
)
def test_each_outcome_status_makes_its_event(start, reported, event_type):
    order = OrderFactory(notify_url=MERCHANT_URL, status=start)

    apply(order, reported)

    notification = Notification.objects.get()
    assert notification.event_type == event_type
    assert notification.event.order == order
    assert notification.url == MERCHANT_URL
    assert notification.status == NotificationStatus.PENDING
    assert notification.event.payload["type"] == event_type
    assert notification.event.delivery_status == "pending"


@pytest.mark.parametrize(
    ("start", "reported"),
    [
        (S.INITIAL, S.PENDING),  # no event for in-between states
        (S.PAID, S.REFUNDING),
        (S.REFUNDING, S.PAID),  # a refund was rejected: refund.rejected says so, not order.paid
        (S.PAID, S.PAID),  # reached already: a no-op
        (S.PAID, S.CANCELED),  # stale: ignored
        (S.FULL_REFUNDED, S.REFUNDED),  # stale: ignored
    ],
)
def test_no_event_for_in_between_states_no_ops_and_stale_reports(start, reported):
    order = OrderFactory(notify_url=MERCHANT_URL, status=start)

    apply(order, reported)

    assert not Notification.objects.exists()


def test_a_repeated_status_report_makes_one_event():
    order = OrderFactory(notify_url=MERCHANT_URL)

    for _ in range(3):
        apply(order, S.PAID)

    assert Notification.objects.count() == 1


def test_without_any_destination_the_event_is_stored_and_nothing_scheduled(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(application=ApplicationFactory(default_notify_url=""), notify_url="")

    with django_capture_on_commit_callbacks() as callbacks:
        updated = apply(order, S.PAID)

    assert updated.status == S.PAID
    event = Event.objects.get()
    assert (event.event_type, event.order, event.delivery_status) == ("order.paid", order, "none")
    assert event.payload["data"]["status"] == "PAID"
    assert not Notification.objects.exists()
    assert callbacks == []


def test_the_application_default_url_is_used_when_the_order_names_none():
    application = ApplicationFactory(default_notify_url="https://shop.example.com/default-hook")
    order = OrderFactory(application=application, notify_url="")

    apply(order, S.EXPIRED)

    assert Notification.objects.get().url == "https://shop.example.com/default-hook"


def test_the_order_url_wins_over_the_default():
    application = ApplicationFactory(default_notify_url="https://shop.example.com/default-hook")
    order = OrderFactory(application=application, notify_url=MERCHANT_URL)

    apply(order, S.PAID)

    assert Notification.objects.get().url == MERCHANT_URL


def test_an_unknown_event_type_is_refused_and_nothing_stored():
    order = OrderFactory(notify_url=MERCHANT_URL)

    with pytest.raises(ValueError, match="unknown event type"):
        notify(event_type="order.refunding", order=order)
    assert not Event.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("binance_status", "event_type", "refund_status"),
    [
        ("REFUND_SUCCESS", "refund.succeeded", RefundStatus.SUCCESS),
        ("REFUND_FAIL", "refund.rejected", RefundStatus.REJECTED),
        ("REFUND_REJECTED", "refund.rejected", RefundStatus.REJECTED),
    ],
)
def test_a_refund_reaching_a_final_state_is_delivered(
    binance_status,
    event_type,
    refund_status,
    receiver,
    allow_private,
    eager,
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(notify_url=receiver.url, status=S.REFUNDING)
    refund = RefundFactory(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        refund_apply_result(
            refund_id=refund.pk, result=refund_result(refund, binance_status), source="webhook"
        )
        # the same answer again (a reconciliation pass) makes no second event
        refund_apply_result(
            refund_id=refund.pk, result=refund_result(refund, binance_status), source="webhook"
        )

    notification = Notification.objects.get()
    assert notification.event_type == event_type
    assert (notification.event.refund, notification.event.order) == (refund, order)
    assert notification.status == NotificationStatus.DELIVERED
    [request] = receiver.requests
    assert verify(
        request.body, request.headers["Paysvc-Signature"], order.application.notification_secret
    )
    data = request.json()["data"]
    assert data["merchantTradeNo"] == order.merchant_trade_no
    assert data["refundRequestId"] == refund.refund_request_id
    assert data["status"] == refund_status
    assert data["refundAmount"] == "5"


def test_a_pending_refund_makes_no_event():
    order = OrderFactory(notify_url=MERCHANT_URL, status=S.REFUNDING)
    refund = RefundFactory(order=order, status=RefundStatus.REQUESTED)

    refund_apply_result(
        refund_id=refund.pk, result=refund_result(refund, "REFUND_PENDING"), source="webhook"
    )

    assert not Notification.objects.exists()


def test_an_account_share_event_carries_the_share_and_goes_to_the_default_url():
    application = ApplicationFactory(default_notify_url="https://shop.example.com/default-hook")
    share = AccountShare.objects.create(
        application=application,
        customer_ref="customer-42",
        request_id="req-1",
        status=AccountShareStatus.SHARED,
        user_binance_id="123456789",
    )

    notification = notify(event_type="account_share.completed", account_share=share)

    assert notification is not None
    assert notification.url == "https://shop.example.com/default-hook"
    assert notification.event.account_share == share
    data = notification.event.payload["data"]
    assert data["requestId"] == "req-1"
    assert data["binanceId"] == "123456789"
    assert data["status"] == "SHARED"


# -- transactions ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_committed_change_is_delivered_and_a_rolled_back_one_sends_nothing(
    receiver, allow_private, eager
):
    order = OrderFactory(notify_url=receiver.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        apply(order, S.PAID)
        raise RuntimeError("something later in the same transaction failed")

    order.refresh_from_db()
    assert order.status == S.INITIAL
    assert not Notification.objects.exists()
    assert receiver.requests == []

    apply(order, S.PAID)  # commits: on_commit delivers (eagerly, here)

    assert Notification.objects.get().status == NotificationStatus.DELIVERED
    assert len(receiver.requests) == 1


# -- retries --------------------------------------------------------------------------------------
def test_a_500_is_retried_by_the_durable_schedule_then_delivered(
    receiver, allow_private, eager, clock, django_capture_on_commit_callbacks
):
    receiver.reply(Reply(500, b"database is down"))
    order = OrderFactory(notify_url=receiver.url)
    failed_before = counter("failed_attempt")

    with django_capture_on_commit_callbacks(execute=True):
        apply(order, S.PAID)

    notification = Notification.objects.get()
    assert notification.status == NotificationStatus.PENDING
    assert (notification.attempts, notification.last_status_code) == (1, 500)
    delay = notification.next_attempt_at - clock.now
    assert dt.timedelta(seconds=27) <= delay <= dt.timedelta(seconds=33)
    assert counter("failed_attempt") == failed_before + 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 0  # not due yet

    clock.move_to(notification.next_attempt_at)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 1

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED
    assert notification.attempts == 2
    assert notification.next_attempt_at is None
    attempts = list(notification.attempt_log.all())
    assert [a.status_code for a in attempts] == [500, 200]
    assert attempts[0].response_excerpt == "database is down"
    assert attempts[0].error == "HTTP 500"
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["Paysvc-Event-Id"] == second.headers["Paysvc-Event-Id"]


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    receiver, allow_private, django_capture_on_commit_callbacks
):
    receiver.reply(Reply(302, headers={"Location": receiver.url + "&moved=1"}))
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)

    attempt = notification_deliver(notification_id=Notification.objects.get().pk)

    assert attempt is not None
    assert attempt.status_code == 302
    assert "redirects are not followed" in attempt.error
    assert len(receiver.requests) == 1
    assert Notification.objects.get().status == NotificationStatus.PENDING


def test_a_timeout_is_a_failed_attempt(receiver, allow_private, settings):
    settings.PAYSVC_CALLBACK_READ_TIMEOUT = 0.3
    receiver.reply(Reply(200, delay=1.5))
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)

    attempt = notification_deliver(notification_id=Notification.objects.get().pk)

    assert attempt is not None
    assert attempt.status_code is None
    assert attempt.error.startswith("timeout")
    assert attempt.duration_ms < 1500
    notification = Notification.objects.get()
    assert notification.status == NotificationStatus.PENDING
    assert notification.next_attempt_at is not None


def test_a_refused_connection_is_a_failed_attempt(allow_private):
    from tests.live import free_port

    order = OrderFactory(notify_url=f"http://127.0.0.1:{free_port()}/hook")
    apply(order, S.PAID)

    attempt = notification_deliver(notification_id=Notification.objects.get().pk)

    assert attempt is not None
    assert attempt.status_code is None
    assert attempt.error.startswith("connection failed")
    assert Notification.objects.get().status == NotificationStatus.PENDING


def test_retries_go_on_for_the_retry_window_then_give_up(receiver, allow_private, clock):
    receiver.reply(*[Reply(503)] * 40)
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()
    gave_up_before = counter("gave_up")

    while notification.status == NotificationStatus.PENDING:
        clock.move_to(notification.next_attempt_at)
        assert notification_deliver(notification_id=notification.pk) is not None
        notification.refresh_from_db()

    assert notification.status == NotificationStatus.FAILED
    assert notification.next_attempt_at is None
    attempts = list(notification.attempt_log.all())
    assert len(attempts) == notification.attempts == len(receiver.requests)
    assert 12 <= len(attempts) <= 15
    assert attempts[-1].attempted_at - notification.created_at >= dt.timedelta(hours=25)
    assert attempts[-2].attempted_at - notification.created_at < dt.timedelta(hours=25)
    assert counter("gave_up") == gave_up_before + 1
    assert notification_delivery_stats().failed == 1
    assert notification_deliver(notification_id=notification.pk) is None  # nothing more


def test_the_retry_window_is_a_setting(receiver, allow_private, clock, settings):
    settings.PAYSVC_CALLBACK_RETRY_HOURS = 0.01  # 36 s
    receiver.reply(*[Reply(500)] * 10)
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()

    notification_deliver(notification_id=notification.pk)  # t=0: retry in ~30 s
    clock.move_to(Notification.objects.get().next_attempt_at)
    notification_deliver(notification_id=notification.pk)  # t=~30 s: retry in ~60 s
    clock.move_to(Notification.objects.get().next_attempt_at)
    notification_deliver(notification_id=notification.pk)  # t>36 s: give up

    assert Notification.objects.get().status == NotificationStatus.FAILED
    assert len(receiver.requests) == 3


# -- idempotency and claims -----------------------------------------------------------------------
def test_a_duplicate_or_early_task_sends_nothing(receiver, allow_private, clock):
    receiver.reply(Reply(500))
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()

    assert notification_deliver(notification_id=notification.pk) is not None  # fails: 500
    assert notification_deliver(notification_id=notification.pk) is None  # not due yet
    clock.move_to(Notification.objects.get().next_attempt_at)
    assert notification_deliver(notification_id=notification.pk) is not None  # delivered
    assert notification_deliver(notification_id=notification.pk) is None  # already delivered
    assert notification_deliver(notification_id=987654321) is None  # unknown id

    assert len(receiver.requests) == 2


def test_a_notification_another_worker_is_sending_is_left_alone(receiver, allow_private, clock):
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(
        locked_until=clock.now + dt.timedelta(seconds=120)
    )

    assert notification_deliver(notification_id=notification.pk) is None
    assert receiver.requests == []

    clock.advance(seconds=121)  # that worker died: its lock expired
    assert notification_deliver(notification_id=notification.pk) is not None
    assert len(receiver.requests) == 1
    assert Notification.objects.get().locked_until is None


def test_dispatch_due_enqueues_each_due_notification_once(
    clock, settings, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued: list[int] = []
    monkeypatch.setattr(
        "notifications.tasks.deliver.apply_async", lambda args, **kw: enqueued.append(args[0])
    )
    due = notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    later = notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    busy = notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    Notification.objects.filter(pk=later.pk).update(
        next_attempt_at=clock.now + dt.timedelta(minutes=5)
    )
    Notification.objects.filter(pk=busy.pk).update(locked_until=clock.now + dt.timedelta(minutes=2))

    # Just created: notify() enqueued them already; a lost publish is covered after 60 s.
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 0
    clock.advance(seconds=61)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 1
        assert notifications_dispatch_due() == 0  # enqueued just now: not again

    assert enqueued == [due.pk]


def test_a_broker_outage_at_commit_is_logged_and_dispatch_due_sends_it_later(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr("notifications.tasks.deliver.apply_async", broker_down)
    order = OrderFactory(notify_url=MERCHANT_URL)

    with django_capture_on_commit_callbacks(execute=True):
        updated = apply(order, S.PAID)  # must not raise after the commit

    assert updated.status == S.PAID
    assert Notification.objects.get().dispatched_at is not None
    assert "dispatch_due will" in caplog.text


# -- staff redelivery -----------------------------------------------------------------------------
def test_redeliver_sends_the_same_event_again_and_records_who_asked(
    receiver, allow_private, eager, django_capture_on_commit_callbacks, django_user_model
):
    alice = django_user_model.objects.create_user(username="alice", is_staff=True)
    order = OrderFactory(notify_url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        apply(order, S.PAID)
    notification = Notification.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        notification_redeliver(notification=notification, by_user=alice)

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED
    assert notification.attempts == 2
    assert notification.redelivery_requested_by == ""
    assert [a.by for a in notification.attempt_log.all()] == ["system", "alice"]
    first, second = receiver.requests
    assert first.headers["Paysvc-Event-Id"] == second.headers["Paysvc-Event-Id"]
    assert first.body == second.body


def test_redeliver_restarts_a_failed_notification_with_a_fresh_window(
    receiver, allow_private, clock, django_user_model
):
    bob = django_user_model.objects.create_user(username="bob", is_staff=True)
    receiver.reply(Reply(500))
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()
    clock.advance(hours=30)
    notification_deliver(notification_id=notification.pk)  # past the window: gives up
    assert Notification.objects.get().status == NotificationStatus.FAILED

    clock.advance(hours=1)
    notification_redeliver(notification=notification, by_user=bob)
    receiver.reply(Reply(500))
    attempt = notification_deliver(notification_id=notification.pk)

    assert attempt is not None
    assert attempt.by == "bob"
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING  # a new 25 h window
    assert notification.retry_started_at == clock.now
    assert notification.next_attempt_at > clock.now


# -- state gauges ---------------------------------------------------------------------------------
def test_delivery_stats_count_pending_failed_and_the_oldest_wait(clock):
    first = notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    clock.advance(minutes=10)
    notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    Notification.objects.filter(pk=first.pk).update(
        status=NotificationStatus.FAILED, next_attempt_at=None
    )
    clock.advance(minutes=5)

    stats = notification_delivery_stats()

    assert (stats.pending, stats.failed) == (1, 1)
    assert stats.oldest_pending_age_seconds == 300


def test_the_state_gauges_are_exported(clock):
    from notifications.gauges import notification_gauges

    notify(event_type="order.paid", order=OrderFactory(notify_url=MERCHANT_URL))
    clock.advance(seconds=90)

    gauges = {name: value for name, _help, value in notification_gauges()}

    assert gauges == {
        "paysvc_callbacks_pending": 1,
        "paysvc_callbacks_failed": 0,
        "paysvc_callbacks_oldest_pending_age_seconds": 90,
    }


def test_logs_name_the_event_but_never_the_secret_signature_or_url_path(
    receiver, allow_private, caplog
):
    receiver.reply(Reply(500))
    order = OrderFactory(notify_url=receiver.url)
    apply(order, S.PAID)
    notification = Notification.objects.get()

    notification_deliver(notification_id=notification.pk)

    text = caplog.text
    assert notification.public_id in text
    assert order.merchant_trade_no in text
    assert "attempt=1 httpStatus=500" in text
    assert order.application.notification_secret not in text
    assert "v1=" not in text
    assert "/hooks/paysvc" not in text


@pytest.mark.django_db(transaction=True)
def test_workers_racing_on_one_notification_send_it_once(receiver, allow_private):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    receiver.reply(Reply(200, delay=0.3))
    order = OrderFactory(notify_url=receiver.url)
    notification = notify(event_type="order.paid", order=order)

    def worker(_: int):
        try:
            return notification_deliver(notification_id=notification.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))

    assert sum(result is not None for result in results) == 1
    assert len(receiver.requests) == 1
    assert NotificationAttempt.objects.count() == 1
    assert Notification.objects.get().status == NotificationStatus.DELIVERED
