"""Webhook endpoints: their API, where events go, and signing with rotating secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from paysvc_webhooks import NoMatchingSignatureError, construct_event, verify
from rest_framework.test import APIClient

from notifications.models import Event, Notification, NotificationStatus, WebhookEndpoint
from notifications.services import notification_deliver
from notifications.services.endpoints import MAX_ENDPOINTS_PER_APPLICATION
from orders.models import OrderStatus
from orders.services import order_status_apply
from tests.factories import ApplicationFactory, OrderFactory, api_key_factory
from tests.notifications.conftest import Reply, notify

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhook-endpoints"


@pytest.fixture
def application():
    return ApplicationFactory()


@pytest.fixture
def api(application) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(application=application)[1]}")
    return client


def create(api, url: str, event_types=("*",), **extra) -> dict:
    response = api.post(URL, {"url": url, "eventTypes": list(event_types), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def pay(order, capture) -> None:
    with capture(execute=True):
        order_status_apply(order_id=order.pk, status=OrderStatus.PAID, source="webhook")


# -- the API --------------------------------------------------------------------------------------
def test_create_shows_the_secret_once_then_never(api, allow_private, receiver):
    created = create(api, receiver.url, ["order.paid"], description="shop")

    assert created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert created["eventTypes"] == ["order.paid"]
    listed = api.get(URL).json()["results"]
    shown = api.get(f"{URL}/{created['id']}").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in shown and "secret" not in listed[0]
    assert created["secret"] not in api.get(URL).content.decode()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "http://127.0.0.1/hook", "eventTypes": ["*"]}, "url", "loopback"),
        ({"url": "http://10.0.0.7/hook", "eventTypes": ["*"]}, "url", "private"),
        ({"url": "javascript:alert(1)", "eventTypes": ["*"]}, "url", "http"),
        ({"url": "https://shop.example.com/h", "eventTypes": []}, "eventTypes", "empty"),
        (
            {"url": "https://shop.example.com/h", "eventTypes": ["order.pad"]},
            "eventTypes.0",
            "not an event type",
        ),
        (
            {"url": "https://shop.example.com/h", "eventTypes": ["*", "order.paid"]},
            "eventTypes",
            "alone",
        ),
        (
            {"url": "https://shop.example.com/h", "eventTypes": ["*"], "secret": "mine"},
            "secret",
            "unknown field",
        ),
        ({"eventTypes": ["*"]}, "url", "required"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(api, body, field, message):
    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    assert message in " ".join(fields[field]).lower()
    assert not WebhookEndpoint.objects.exists()


def test_another_applications_endpoint_is_404_for_every_method(api, allow_private, receiver):
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_factory()[1]}")
    endpoint = create(api, receiver.url)["id"]

    assert other.get(f"{URL}/{endpoint}").status_code == 404
    assert other.patch(f"{URL}/{endpoint}", {"enabled": False}, format="json").status_code == 404
    assert other.delete(f"{URL}/{endpoint}").status_code == 404
    assert other.post(f"{URL}/{endpoint}/rotate-secret", {}, format="json").status_code == 404
    assert WebhookEndpoint.objects.get().enabled


def test_patch_and_delete(api, allow_private, receiver):
    endpoint = create(api, receiver.url)["id"]

    changed = api.patch(f"{URL}/{endpoint}", {"eventTypes": ["refund.succeeded"]}, format="json")
    assert changed.status_code == 200
    assert changed.json()["eventTypes"] == ["refund.succeeded"]
    assert api.patch(f"{URL}/{endpoint}", {}, format="json").status_code == 400
    assert api.delete(f"{URL}/{endpoint}").status_code == 204
    assert api.get(f"{URL}/{endpoint}").status_code == 404
    assert api.get(URL).json()["results"] == []
    assert WebhookEndpoint.objects.get().deleted_at is not None  # kept for the history


def test_the_number_of_endpoints_is_limited(api, allow_private, receiver):
    for _ in range(MAX_ENDPOINTS_PER_APPLICATION):
        create(api, receiver.url)

    response = api.post(URL, {"url": receiver.url, "eventTypes": ["*"]}, format="json")

    assert response.status_code == 409
    assert WebhookEndpoint.objects.count() == MAX_ENDPOINTS_PER_APPLICATION


def test_a_key_without_the_scope_is_refused(application, allow_private, receiver):
    client = APIClient()
    raw = api_key_factory(application=application, scopes=["orders:read"])[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post(URL, {"url": receiver.url, "eventTypes": ["*"]}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["requiredScopes"] == ["webhook_endpoints:write"]


# -- deliveries to endpoints ----------------------------------------------------------------------
def test_an_event_goes_to_the_notify_url_and_every_subscribed_endpoint(
    api, application, allow_private, receiver, eager, django_capture_on_commit_callbacks
):
    everything = create(api, receiver.url.replace("shop=1", "shop=all"))
    paid_only = create(api, receiver.url.replace("shop=1", "shop=paid"), ["order.paid"])
    create(api, receiver.url.replace("shop=1", "shop=refunds"), ["refund.succeeded"])
    order = OrderFactory(application=application, notify_url=receiver.url)

    pay(order, django_capture_on_commit_callbacks)

    event = Event.objects.get()
    assert event.delivery_status == "delivered"
    paths = sorted(r.path for r in receiver.requests)
    assert paths == ["/hooks/paysvc?shop=1", "/hooks/paysvc?shop=all", "/hooks/paysvc?shop=paid"]
    assert len({r.body for r in receiver.requests}) == 1  # one event, the same bytes everywhere
    by_path = {r.path: r for r in receiver.requests}
    for path, secret in (
        ("/hooks/paysvc?shop=1", application.notification_secret),
        ("/hooks/paysvc?shop=all", everything["secret"]),
        ("/hooks/paysvc?shop=paid", paid_only["secret"]),
    ):
        request = by_path[path]
        assert construct_event(request.body, request.headers["Paysvc-Signature"], secret)["id"] == (
            event.public_id
        )
    with pytest.raises(NoMatchingSignatureError):  # an endpoint's secret signs only its own
        verify(
            by_path["/hooks/paysvc?shop=all"].body,
            by_path["/hooks/paysvc?shop=all"].headers["Paysvc-Signature"],
            paid_only["secret"],
        )


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new_one(
    api, application, allow_private, receiver, clock
):
    created = create(api, receiver.url)
    rotated = api.post(
        f"{URL}/{created['id']}/rotate-secret", {"overlapSeconds": 3600}, format="json"
    ).json()
    assert rotated["secret"] != created["secret"]
    assert rotated["secretRotation"] is not None

    order = OrderFactory(application=application, status=OrderStatus.PAID)
    notify(event_type="order.paid", order=order)
    delivery = Notification.objects.get(endpoint__public_id=created["id"])
    notification_deliver(notification_id=delivery.pk)
    during = receiver.requests[-1]
    header = during.headers["Paysvc-Signature"]
    assert header.count("v1=") == 2
    assert verify(during.body, header, created["secret"], tolerance=None)
    assert verify(during.body, header, rotated["secret"], tolerance=None)

    clock.advance(hours=2)
    receiver.reply(Reply(200))
    notify(event_type="order.paid", order=OrderFactory(application=application, status="PAID"))
    later = Notification.objects.filter(endpoint__public_id=created["id"]).latest("id")
    notification_deliver(notification_id=later.pk)
    after = receiver.requests[-1]
    assert after.headers["Paysvc-Signature"].count("v1=") == 1
    assert verify(after.body, after.headers["Paysvc-Signature"], rotated["secret"], tolerance=None)
    with pytest.raises(NoMatchingSignatureError):
        verify(after.body, after.headers["Paysvc-Signature"], created["secret"], tolerance=None)


def test_a_rotation_without_overlap_stops_the_old_secret_at_once(api, allow_private, receiver):
    created = create(api, receiver.url)
    rotate = f"{URL}/{created['id']}/rotate-secret"

    response = api.post(rotate, {"overlapSeconds": 0}, format="json")

    assert response.json()["secretRotation"] is None
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.previous_secret, endpoint.secret) == ("", response.json()["secret"])
    too_long = api.post(rotate, {"overlapSeconds": 8 * 86400}, format="json")
    assert too_long.status_code == 400
    assert "overlapSeconds" in too_long.json()["error"]["fields"]


def test_a_disabled_endpoint_receives_nothing_until_enabled_again(
    api, application, allow_private, receiver
):
    endpoint = create(api, receiver.url)["id"]
    notify(event_type="order.paid", order=OrderFactory(application=application, status="PAID"))
    delivery = Notification.objects.get()
    api.patch(f"{URL}/{endpoint}", {"enabled": False}, format="json")

    assert notification_deliver(notification_id=delivery.pk) is None
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.locked_until) == (NotificationStatus.PENDING, None)

    api.patch(f"{URL}/{endpoint}", {"enabled": True}, format="json")
    notification_deliver(notification_id=delivery.pk)
    assert len(receiver.requests) == 1


def test_deleting_an_endpoint_gives_up_its_pending_deliveries(api, application, allow_private):
    endpoint = create(api, "https://shop.example.com/hook")["id"]
    notify(event_type="order.paid", order=OrderFactory(application=application, status="PAID"))

    api.delete(f"{URL}/{endpoint}")

    delivery = Notification.objects.get()
    assert (delivery.status, delivery.last_error) == (NotificationStatus.FAILED, "endpoint deleted")
    assert Event.objects.get().delivery_status == "failed"
    # New events no longer go there.
    notify(event_type="order.paid", order=OrderFactory(application=application, status="PAID"))
    assert Notification.objects.count() == 1


def test_rotation_overlap_is_bounded():
    from notifications.services import webhook_endpoint_rotate_secret

    endpoint = WebhookEndpoint(secret="whsec_x")
    with pytest.raises(ValueError, match="overlap"):
        webhook_endpoint_rotate_secret(endpoint=endpoint, overlap=dt.timedelta(days=8))
