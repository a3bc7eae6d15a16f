"""`GET /api/v1/events`, `GET /api/v1/events/{id}`, `POST .../redeliver`; retention; the migration
that split events from their deliveries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Event, Notification, NotificationAttempt, NotificationStatus
from notifications.services import events_prune, notification_deliver
from orders.models import OrderStatus
from orders.services import order_status_apply
from orders.services.flags import order_flag
from tests.factories import ApplicationFactory, OrderFactory, RefundFactory, api_key_factory
from tests.notifications.conftest import Reply, notify

pytestmark = pytest.mark.django_db
URL = "/api/v1/events"


@pytest.fixture
def application():
    return ApplicationFactory()


@pytest.fixture
def api(application) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(application=application)[1]}")
    return client


def paid(application, **fields):
    order = OrderFactory(application=application, **fields)
    return order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source="webhook")


def test_every_event_is_listed_even_without_a_destination(api, application):
    order = paid(application)
    order_status_apply(order_id=order.pk, status=OrderStatus.REFUNDED, source="webhook")

    page = api.get(URL).json()

    assert [e["type"] for e in page["results"]] == ["order.refunded", "order.paid"]
    first = page["results"][1]
    assert set(first) == {"id", "type", "createdAt", "deliveryStatus", "data"}
    assert first["deliveryStatus"] == "none"
    assert first["data"]["merchantTradeNo"] == order.merchant_trade_no
    assert first["data"]["status"] == "PAID"  # the snapshot, not the order now


def test_filters_by_type_time_and_delivery_status(api, application):
    paid(application)
    refund_order = paid(application, notify_url="https://shop.example.com/hook")
    notify(event_type="refund.succeeded", refund=RefundFactory(order=refund_order))
    Event.objects.filter(event_type="order.paid").update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )

    def types(**query):
        response = api.get(URL, query)
        assert response.status_code == 200, response.content
        return sorted(e["type"] for e in response.json()["results"])

    assert types(type="refund.succeeded") == ["refund.succeeded"]
    assert types(type="order.paid,refund.succeeded") == [
        "order.paid",
        "order.paid",
        "refund.succeeded",
    ]
    assert types(createdFrom=(timezone.now() - dt.timedelta(days=1)).isoformat()) == [
        "refund.succeeded"
    ]
    assert types(createdTo=(timezone.now() - dt.timedelta(days=1)).isoformat()) == [
        "order.paid",
        "order.paid",
    ]
    assert types(deliveryStatus="pending") == ["order.paid", "refund.succeeded"]
    assert types(deliveryStatus="none") == ["order.paid"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "order.pad"}, "type"),
        ({"deliveryStatus": "lost"}, "deliveryStatus"),
        ({"createdFrom": "yesterday"}, "createdFrom"),
        ({"createdFrom": "2025-02-01T00:00:00Z", "createdTo": "2025-01-01T00:00:00Z"}, "createdTo"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_filters_name_the_field(api, query, field):
    response = api.get(URL, query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_cursor_pages_cover_every_event_once_newest_first(api, application):
    for _ in range(7):
        paid(application)

    seen, url = [], f"{URL}?pageSize=3"
    while url:
        page = api.get(url).json()
        assert len(page["results"]) <= 3
        seen += [e["id"] for e in page["results"]]
        url = page["next"]

    expected = list(
        Event.objects.order_by("-created_at", "-id").values_list("public_id", flat=True)
    )
    assert seen == expected and len(seen) == 7


def test_another_applications_events_are_invisible(api, application):
    theirs = paid(ApplicationFactory())
    event = Event.objects.get(order=theirs)

    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}/{event.public_id}").status_code == 404
    assert api.post(f"{URL}/{event.public_id}/redeliver", {}, format="json").status_code == 404


def test_an_event_shows_its_deliveries_and_attempts(api, application, allow_private, receiver):
    receiver.reply(Reply(503, b"busy"))
    notification = notify(
        event_type="order.paid",
        order=OrderFactory(application=application, notify_url=receiver.url, status="PAID"),
    )
    notification_deliver(notification_id=notification.pk)

    shown = api.get(f"{URL}/{notification.event.public_id}").json()

    [delivery] = shown["deliveries"]
    assert delivery["id"] == notification.public_id
    assert (delivery["endpoint"], delivery["url"]) == (None, receiver.url)
    assert delivery["status"] == "pending"
    assert [a["statusCode"] for a in delivery["attemptLog"]] == [503]
    assert shown["deliveryStatus"] == "pending"


def test_redeliver_sends_the_same_event_again_and_records_who(
    api, application, allow_private, receiver, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        paid(application, notify_url=receiver.url)
    event = Event.objects.get()
    assert event.delivery_status == "delivered"

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}/{event.public_id}/redeliver", {}, format="json")

    assert response.status_code == 202
    assert response.json()["deliveryStatus"] == "pending"  # sent once the request committed
    event.refresh_from_db()
    assert event.delivery_status == "delivered"
    assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
    [first, second] = NotificationAttempt.objects.order_by("id")
    assert (first.by, second.by) == ("system", f"api:{api_key_prefix(application)}")


def test_an_event_that_had_no_destination_is_delivered_to_one_added_since(
    api, application, allow_private, receiver, eager, django_capture_on_commit_callbacks
):
    paid(application)  # no notifyUrl, no endpoint: stored only
    event = Event.objects.get()
    endpoint = api.post(
        "/api/v1/webhook-endpoints", {"url": receiver.url, "eventTypes": ["*"]}, format="json"
    ).json()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{URL}/{event.public_id}/redeliver", {"endpoint": endpoint["id"]}, format="json"
        )

    assert response.status_code == 202
    [delivery] = response.json()["deliveries"]
    assert (delivery["endpoint"], delivery["status"]) == (endpoint["id"], "pending")
    assert Notification.objects.get().status == NotificationStatus.DELIVERED
    assert receiver.requests[0].headers["Paysvc-Event-Id"] == event.public_id


def test_redeliver_to_an_unknown_endpoint_names_the_field(api, application):
    paid(application)
    event = Event.objects.get()

    response = api.post(f"{URL}/{event.public_id}/redeliver", {"endpoint": "we_x"}, format="json")

    assert response.status_code == 400
    assert "endpoint" in response.json()["error"]["fields"]
    assert not Notification.objects.exists()


def test_flagging_an_order_emits_order_flagged_once(application):
    order = OrderFactory(application=application)

    for _ in range(2):
        order_flag(order_id=order.pk, reason="amount mismatch", source="webhook")

    [event] = Event.objects.all()
    assert event.event_type == "order.flagged"
    assert event.payload["data"]["flagged"] is True


def test_old_events_are_pruned_unless_a_delivery_is_still_pending(settings, application):
    settings.PAYSVC_EVENT_RETENTION_DAYS = 30
    old = paid(application)
    pending = paid(application, notify_url="https://shop.example.com/hook")
    recent = paid(application)
    Event.objects.filter(order__in=[old, pending]).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )

    assert events_prune() == 1

    assert set(Event.objects.values_list("order_id", flat=True)) == {pending.pk, recent.pk}
    Notification.objects.update(status=NotificationStatus.FAILED, next_attempt_at=None)
    assert events_prune() == 1
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_each_old_notification_an_event_with_one_delivery():
    """notifications 0002: nothing stored before is lost; old event ids stay valid."""
    before = ("notifications", "0001_initial")
    after = ("notifications", "0002_events_and_endpoints")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    # The other apps stay at their latest state: only notifications goes back.
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "notifications"]
    old = executor.loader.project_state([before, *others]).apps
    application = old.get_model("clients", "ClientApplication").objects.create(
        name="migrated-shop", notification_secret="s"
    )
    order = old.get_model("orders", "Order").objects.create(
        application=application, merchant_trade_no="m1", terminal_type="WEB",
        order_amount="1", currency="USDT",
    )  # fmt: skip
    now = timezone.now()
    old.get_model("notifications", "Notification").objects.create(
        public_id="evt_" + "a" * 32, application=application, order=order,
        event_type="order.paid", url="https://shop.example.com/hook",
        payload={"id": "evt_" + "a" * 32, "type": "order.paid", "data": {"status": "PAID"}},
        status="delivered", retry_started_at=now, created_at=now,
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate([after])

    event = Event.objects.get()
    delivery = Notification.objects.get()
    assert event.public_id == "evt_" + "a" * 32
    assert (event.order_id, event.application_id) == (order.pk, application.pk)
    assert (event.event_type, event.delivery_status) == ("order.paid", "delivered")
    assert event.payload["data"] == {"status": "PAID"}
    assert (delivery.event_id, delivery.public_id) == (event.pk, "dlv_" + "a" * 32)
    assert (delivery.url, delivery.status) == ("https://shop.example.com/hook", "delivered")


def api_key_prefix(application) -> str:
    return application.api_keys.get().prefix
