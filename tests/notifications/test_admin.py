"""notifications/admin.py: a read-only log; redelivery is an action that records who asked."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver
from tests.factories import OrderFactory
from tests.notifications.conftest import notify

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:notifications_notification_changelist")
EVENTS_URL = reverse("admin:notifications_event_changelist")


@pytest.fixture
def delivered(receiver, allow_private):
    order = OrderFactory(notify_url=receiver.url)
    notification = notify(event_type="order.paid", order=order)
    notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED
    return notification


def test_list_and_detail_show_the_log_but_never_the_secret_or_signature(admin_client, delivered):
    event = delivered.event
    secret = event.application.notification_secret

    pages = [
        admin_client.get(LIST_URL),
        admin_client.get(LIST_URL, {"q": event.public_id}),
        admin_client.get(reverse("admin:notifications_notification_change", args=[delivered.pk])),
        admin_client.get(EVENTS_URL, {"q": event.order.merchant_trade_no}),
        admin_client.get(reverse("admin:notifications_event_change", args=[event.pk])),
    ]

    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert event.public_id in text
        assert secret not in text
        assert "v1=" not in text
    assert "Redeliver selected" in pages[0].content.decode()
    assert delivered.public_id in pages[2].content.decode()
    assert "&quot;type&quot;: &quot;order.paid&quot;" in pages[4].content.decode()  # the payload


def test_the_log_cannot_be_edited_added_or_deleted(admin_client, delivered):
    change_url = reverse("admin:notifications_notification_change", args=[delivered.pk])

    admin_client.post(change_url, {"url": "https://evil.example.com/"})

    assert Notification.objects.get().url == delivered.url
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403
    delete_url = reverse("admin:notifications_notification_delete", args=[delivered.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Notification.objects.count() == 1


def test_the_redeliver_action_records_the_staff_user(
    admin_client, admin_user, delivered, receiver, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            LIST_URL, {"action": "redeliver", "_selected_action": [delivered.pk]}
        )

    assert response.status_code == 302
    delivered.refresh_from_db()
    assert delivered.status == NotificationStatus.DELIVERED
    assert [a.by for a in delivered.attempt_log.all()] == ["system", admin_user.username]
    assert len(receiver.requests) == 2


def test_redeliver_needs_its_permission(client, django_user_model, delivered, receiver):
    viewer = django_user_model.objects.create_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)

    page = client.get(LIST_URL)
    client.post(LIST_URL, {"action": "redeliver", "_selected_action": [delivered.pk]})

    assert page.status_code == 200
    assert "Redeliver selected" not in page.content.decode()
    delivered.refresh_from_db()
    assert delivered.redelivery_requested_by == ""
    assert delivered.attempts == 1
    assert len(receiver.requests) == 1


def test_the_admin_names_the_deliveries_in_plural(admin_client, delivered):
    index = admin_client.get(reverse("admin:index")).content.decode()
    listing = admin_client.get(LIST_URL).content.decode()
    assert "Merchant notification deliveries" in index
    assert "deliverys" not in index + listing
