"""Live: paysvc's deliveries reach the sandbox's demo receiver and verify there, the loop that
`make run` shows (an application's notify URL at /receiver/<name>, its secret registered through
the sandbox's control API)."""

from __future__ import annotations

import uuid

import pytest

from notifications.models import Notification, NotificationStatus
from orders.models import OrderStatus
from orders.services import order_status_apply
from tests.factories import ApplicationFactory, OrderFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db]


def receiver_url(live_sandbox, name: str) -> str:
    return f"{live_sandbox.url}/receiver/{name}"


def register(live_sandbox, name: str, *secrets: str) -> None:
    status, answer = live_sandbox.control(
        "PUT", f"/receiver/{name}/secrets", {"secrets": list(secrets)}
    )
    assert (status, answer) == (200, {"name": name, "secrets": len(secrets)})


def received(live_sandbox, name: str) -> list[dict]:
    status, answer = live_sandbox.control("GET", f"/receiver/events?name={name}")
    assert status == 200, answer
    return answer["events"]


def pay(order, capture) -> Notification:
    with capture(execute=True):
        order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source="webhook")
    notification = Notification.objects.get(event__order=order)
    assert notification.status == NotificationStatus.DELIVERED, notification.last_error
    return notification


def test_a_delivery_to_the_default_notify_url_arrives_verified(
    live_sandbox, allow_private, eager, django_capture_on_commit_callbacks
):
    name = f"shop-{uuid.uuid4().hex[:10]}"
    application = ApplicationFactory(default_notify_url=receiver_url(live_sandbox, name))
    register(live_sandbox, name, application.notification_secret)
    order = OrderFactory(application=application)

    notification = pay(order, django_capture_on_commit_callbacks)

    [event] = received(live_sandbox, name)
    assert event["result"] == "signature verified"
    assert event["eventId"] == notification.event.public_id
    assert event["eventType"] == "order.paid"
    assert event["merchantTradeNo"] == order.merchant_trade_no
    assert event["headers"]["User-Agent"] == "paysvc-notifications/1"
    [attempt] = notification.attempt_log.all()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == '{"received": true}'


def test_without_the_right_secret_the_receiver_says_why(
    live_sandbox, allow_private, eager, django_capture_on_commit_callbacks
):
    unregistered = f"shop-{uuid.uuid4().hex[:10]}"
    wrong = f"shop-{uuid.uuid4().hex[:10]}"
    register(live_sandbox, wrong, ApplicationFactory().notification_secret)  # another app's

    pay(
        OrderFactory(notify_url=receiver_url(live_sandbox, unregistered)),
        django_capture_on_commit_callbacks,
    )
    pay(
        OrderFactory(notify_url=receiver_url(live_sandbox, wrong)),
        django_capture_on_commit_callbacks,
    )

    [no_secret] = received(live_sandbox, unregistered)
    [mismatch] = received(live_sandbox, wrong)
    assert no_secret["result"] == "not verified: no secret registered"
    assert mismatch["result"] == "not verified: no v1 signature matches the body with the secret"
