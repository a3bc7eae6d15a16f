"""paysvc_webhooks (the merchant SDK, sdk/paysvc-webhooks/) verifies what notifications/ sends.

Events are made by the real services (an order status change -> event_emit -> notification_deliver)
and POSTed over HTTP to a receiver thread on 127.0.0.1; the SDK checks the bytes and the header
as they arrived, the way a merchant's endpoint would.
"""

from __future__ import annotations

import json
import time

import pytest
from paysvc_webhooks import (
    NoMatchingSignatureError,
    TimestampOutsideToleranceError,
    construct_event,
    verify,
)

from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver, notification_redeliver
from orders.models import OrderStatus, RefundStatus
from orders.services import order_status_apply
from tests.factories import ApplicationFactory, OrderFactory, RefundFactory
from tests.notifications.conftest import Received, Reply, notify

pytestmark = pytest.mark.django_db


def paid_delivery(receiver, capture) -> tuple[Notification, Received]:
    """Pay an order whose notifyUrl is the receiver; the worker (eager) delivers on commit."""
    order = OrderFactory(notify_url=receiver.url)
    with capture(execute=True):
        order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source="webhook")
    notification = Notification.objects.select_related("event").get(event__order=order)
    assert notification.status == NotificationStatus.DELIVERED
    [request] = receiver.requests
    return notification, request


def signature(request: Received) -> str:
    return request.headers["Paysvc-Signature"]


def test_a_real_delivery_verifies_and_constructs_the_event(
    receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    notification, request = paid_delivery(receiver, django_capture_on_commit_callbacks)
    secret = notification.event.application.notification_secret

    event = construct_event(request.body, signature(request), secret)

    assert verify(request.body, signature(request), secret) is True
    assert event == notification.event.payload
    assert event["id"] == request.headers["Paysvc-Event-Id"] == notification.event.public_id
    assert event["type"] == request.headers["Paysvc-Event-Type"] == "order.paid"
    assert event["data"]["merchantTradeNo"] == notification.event.order.merchant_trade_no
    assert event["data"]["status"] == "PAID"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: body.replace(b'"PAID"', b'"FULL_REFUNDED"'),
        lambda body: body.replace(b"25.17", b"2517.00"),
        lambda body: json.dumps(json.loads(body), indent=1).encode(),  # parsed and re-serialised
        lambda body: body + b"\n",
        lambda body: body[:-1],
    ],
    ids=["status", "amount", "reserialised", "newline", "truncated"],
)
def test_a_tampered_body_is_refused(
    tamper, receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    notification, request = paid_delivery(receiver, django_capture_on_commit_callbacks)
    secret = notification.event.application.notification_secret
    tampered = tamper(request.body)
    assert tampered != request.body

    with pytest.raises(NoMatchingSignatureError):
        construct_event(tampered, signature(request), secret)


def test_another_applications_secret_is_refused_unless_the_right_one_is_also_held(
    receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    notification, request = paid_delivery(receiver, django_capture_on_commit_callbacks)
    other = ApplicationFactory().notification_secret
    secret = notification.event.application.notification_secret
    assert other != secret

    with pytest.raises(NoMatchingSignatureError):
        verify(request.body, signature(request), other)
    # A merchant in the middle of a rotation holds both: the right one anywhere in the list wins.
    assert verify(request.body, signature(request), [other, secret])


def test_a_captured_delivery_replayed_later_is_refused(
    receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    notification, request = paid_delivery(receiver, django_capture_on_commit_callbacks)
    secret = notification.event.application.notification_secret
    later = time.time() + 301

    with pytest.raises(TimestampOutsideToleranceError):
        verify(request.body, signature(request), secret, now=later)
    assert verify(request.body, signature(request), secret, tolerance=None, now=later)


def test_every_attempt_and_a_staff_redelivery_verify(
    receiver, allow_private, clock, django_user_model
):
    receiver.reply(Reply(500, b"try later"))
    order = OrderFactory(notify_url=receiver.url, status=OrderStatus.PAID)
    notification = notify(event_type="order.paid", order=order)
    assert notification is not None

    notification_deliver(notification_id=notification.pk)  # 500: retried later
    clock.move_to(Notification.objects.get().next_attempt_at)
    notification_deliver(notification_id=notification.pk)  # 200
    staff = django_user_model.objects.create_user(username="carol", is_staff=True)
    notification_redeliver(notification=notification, by_user=staff)
    notification_deliver(notification_id=notification.pk)  # what the enqueued task does

    assert len(receiver.requests) == 3
    secret = order.application.notification_secret
    events = [construct_event(r.body, signature(r), secret) for r in receiver.requests]
    assert {e["id"] for e in events} == {notification.event.public_id}  # merchants dedupe on this
    assert len({r.body for r in receiver.requests}) == 1


def test_a_refund_event_verifies(
    receiver, allow_private, eager, django_capture_on_commit_callbacks
):
    order = OrderFactory(notify_url=receiver.url, status=OrderStatus.REFUNDED)
    refund = RefundFactory(order=order, status=RefundStatus.SUCCESS)

    with django_capture_on_commit_callbacks(execute=True):
        notify(event_type="refund.succeeded", refund=refund)

    [request] = receiver.requests
    event = construct_event(request.body, signature(request), order.application.notification_secret)
    assert event["type"] == "refund.succeeded"
    assert event["data"]["refundRequestId"] == refund.refund_request_id
    assert event["data"]["merchantTradeNo"] == order.merchant_trade_no
    with pytest.raises(NoMatchingSignatureError):
        construct_event(request.body, signature(request), ApplicationFactory().notification_secret)
