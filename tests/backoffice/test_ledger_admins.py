"""The other admins staff use: webhook events (raw body pretty-printed, signature hidden,
reprocess for Finance only), merchant callbacks (read-only, redeliver for Finance only), API keys
and applications (no hash, no secret), Web3 tasks, TOTP devices (no key)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.services import totp_device_create_confirmed
from campaigns.models import CustomerIdentifier, Task
from clients.models import ApiKey
from notifications.models import Event, Notification, NotificationAttempt
from orders.models import Refund
from tests.backoffice.factories import paid_order, staff_user
from tests.factories import ApplicationFactory, api_key_factory
from webhooks.models import EventStatus, WebhookEvent

pytestmark = pytest.mark.django_db
SIGNATURE = "Zm9yZ2VkLXNpZ25hdHVyZS12YWx1ZQ" * 8
WEBHOOKS = reverse("admin:webhooks_webhookevent_changelist")


def webhook(status: str = EventStatus.FAILED, biz_type: str = "PAY_UNKNOWN_KIND") -> WebhookEvent:
    key = uuid.uuid4().hex
    body = (
        '{"bizType":"BIZ","data":"{\\"merchantTradeNo\\":\\"abc\\",\\"totalFee\\":25.17}",'
        '"bizIdStr":"29383937493038367","bizId":29383937493038367,"bizStatus":"PAY_SUCCESS"}'
    ).replace("BIZ", biz_type)
    return WebhookEvent.objects.create(
        body=body.encode(),
        headers={
            "Content-Type": "application/json",
            "BinancePay-Timestamp": "1700000000000",
            "BinancePay-Nonce": "n" * 32,
            "BinancePay-Certificate-SN": "ABCDEF",
            "BinancePay-Signature": SIGNATURE,
        },
        cert_serial="ABCDEF",
        biz_type=biz_type,
        biz_id_str="29383937493038367",
        biz_status="PAY_SUCCESS",
        merchant_trade_no="abc",
        dedupe_key=key,
        status=status,
        last_error="no handler yet" if status == EventStatus.FAILED else "",
    )


def test_a_webhook_event_page_shows_the_body_pretty_and_hides_the_signature(support):
    event = webhook()
    page = support.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))
    text = page.content.decode()

    assert page.status_code == 200
    assert SIGNATURE not in text and SIGNATURE[:20] not in text
    assert f"present ({len(SIGNATURE)} chars)" in text
    assert "&quot;bizType&quot;: &quot;PAY_UNKNOWN_KIND&quot;" in text  # indented JSON
    assert "verified" in text and "no handler yet" in text
    assert 'name="_save"' not in text


def test_the_webhook_list_never_reads_the_raw_body(support):
    webhook()
    with CaptureQueriesContext(connection) as queries:
        assert support.get(WEBHOOKS).status_code == 200
    selects = [q["sql"] for q in queries if 'FROM "webhooks_webhookevent"' in q["sql"]]
    assert selects and not any('"body"' in sql for sql in selects)


def test_webhook_events_cannot_be_added_edited_or_deleted(root):
    event = webhook()
    assert root.get(reverse("admin:webhooks_webhookevent_add")).status_code == 403
    delete = reverse("admin:webhooks_webhookevent_delete", args=[event.pk])
    assert root.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


def test_finance_reprocesses_a_failed_event_and_support_cannot(support, finance):
    event = webhook()
    assert 'value="reprocess"' not in support.get(WEBHOOKS).content.decode()
    support.post(WEBHOOKS, {"action": "reprocess", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 0)

    assert 'value="reprocess"' in finance.get(WEBHOOKS).content.decode()
    finance.post(WEBHOOKS, {"action": "reprocess", "_selected_action": [event.pk]})

    event.refresh_from_db()
    assert event.status == EventStatus.IGNORED and event.attempts == 1
    log = LogEntry.objects.get(object_id=str(event.pk))
    assert log.user.username == "finance" and "Reprocessed: ignored" in log.get_change_message()


def _callback() -> Notification:
    order = paid_order()
    now = timezone.now()
    event = Event.objects.create(
        public_id=f"evt_{uuid.uuid4().hex}",
        application=order.application,
        order=order,
        event_type="order.paid",
        payload={"type": "order.paid"},
        delivery_status="failed",
        created_at=now,
    )
    notification = Notification.objects.create(
        public_id=f"dlv_{uuid.uuid4().hex}",
        event=event,
        url="https://shop.example.com/hook",
        status="failed",
        retry_started_at=now,
        created_at=now,
    )
    NotificationAttempt.objects.create(
        notification=notification,
        attempted_at=now - dt.timedelta(minutes=1),
        url=notification.url,
        status_code=500,
        duration_ms=10,
    )
    return notification


def test_callbacks_are_read_only_and_only_finance_may_redeliver(support, finance):
    notification = _callback()
    listing = reverse("admin:notifications_notification_changelist")
    page = support.get(reverse("admin:notifications_notification_change", args=[notification.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert "500" in page.content.decode()  # the attempt, inline
    assert 'value="redeliver"' not in support.get(listing).content.decode()
    support.post(listing, {"action": "redeliver", "_selected_action": [notification.pk]})
    notification.refresh_from_db()
    assert notification.status == "failed"

    finance.post(listing, {"action": "redeliver", "_selected_action": [notification.pk]})

    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.redelivery_requested_by == "finance"


def test_api_keys_and_applications_never_show_the_hash_or_the_secret(root):
    application = ApplicationFactory(name="secretive")
    key, raw = api_key_factory(application=application)
    pages = [
        root.get(reverse("admin:clients_apikey_changelist")),
        root.get(reverse("admin:clients_apikey_change", args=[key.pk])),
        root.get(reverse("admin:clients_clientapplication_changelist")),
        root.get(reverse("admin:clients_clientapplication_change", args=[application.pk])),
    ]
    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200
        assert key.key_hash not in text and raw not in text
        assert application.notification_secret not in text
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_web3_tasks_are_editable_by_admins_with_validation_and_identifiers_are_not(root, support):
    application = ApplicationFactory(name="campaign")
    add = reverse("admin:campaigns_task_add")
    refused = root.post(
        add,
        {
            "task_id": "pay_10",
            "application": application.pk,
            "kind": "paid_amount_total",
            "threshold": "10",
            "currency": "",
            "is_active": "on",
        },
    )
    assert refused.status_code == 200 and not Task.objects.exists()
    CustomerIdentifier.objects.create(
        application=application, customer_ref="c1", kind="wallet", value="0x" + "a" * 40
    )
    assert root.get(reverse("admin:campaigns_customeridentifier_add")).status_code == 403
    assert support.get(add).status_code == 403  # Support only views


def test_totp_devices_are_listed_without_their_key(root):
    device = totp_device_create_confirmed(user=staff_user("ops"))
    for url in (
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
    ):
        text = root.get(url).content.decode()
        assert device.key not in text and "secret=" not in text
    assert root.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403


def test_refund_list_facets_and_date_range_work_together(root):
    order = paid_order()
    refund_url = reverse("admin:orders_refund_changelist")
    Refund.objects.create(
        order=order, refund_request_id=uuid.uuid4().hex, refund_amount=1, status="REFUND_SUCCESS"
    )
    today = timezone.now().date().isoformat()
    response = root.get(refund_url, {"_facets": "True", "created_at__from": today})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
