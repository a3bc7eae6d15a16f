"""Events stored once, deliveries per destination, webhook endpoints per client application.

Until now a Notification was both the event and its one delivery. Each existing one becomes an
Event (same ``evt_`` id, payload, subject and time) with that Notification as its delivery
(renamed ``dlv_`` + the same hex), so nothing stored is lost and old event ids stay valid.
"""

import django.db.models.deletion
from django.db import migrations, models

DELIVERY_TO_EVENT_STATUS = {"pending": "pending", "delivered": "delivered", "failed": "failed"}


def split_events(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Event = apps.get_model("notifications", "Event")
    for notification in Notification.objects.all().iterator(chunk_size=500):
        event = Event.objects.create(
            public_id=notification.public_id,
            application_id=notification.application_id,
            event_type=notification.event_type,
            created_at=notification.created_at,
            payload=notification.payload,
            delivery_status=DELIVERY_TO_EVENT_STATUS[notification.status],
            order_id=notification.order_id,
            refund_id=notification.refund_id,
            account_share_id=notification.account_share_id,
        )
        notification.event = event
        notification.public_id = "dlv_" + notification.public_id.removeprefix("evt_")
        notification.save(update_fields=["event", "public_id"])


def join_events(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for notification in Notification.objects.select_related("event").iterator(chunk_size=500):
        event = notification.event
        notification.public_id = event.public_id
        notification.application_id = event.application_id
        notification.event_type = event.event_type
        notification.payload = event.payload
        notification.order_id = event.order_id
        notification.refund_id = event.refund_id
        notification.account_share_id = event.account_share_id
        notification.save()


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
        ("orders", "0003_permissions_and_indexes"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Event",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_id",
                    models.CharField(
                        help_text="evt_ and 32 hex digits", max_length=40, unique=True
                    ),
                ),
                (
                    "event_type",
                    models.CharField(
                        choices=[
                            ("order.paid", "Order Paid"),
                            ("order.paid_after_close", "Order Paid After Close"),
                            ("order.closed", "Order Closed"),
                            ("order.expired", "Order Expired"),
                            ("order.failed", "Order Failed"),
                            ("order.refunded", "Order Refunded"),
                            ("order.fully_refunded", "Order Fully Refunded"),
                            ("order.flagged", "Order Flagged"),
                            ("refund.succeeded", "Refund Succeeded"),
                            ("refund.rejected", "Refund Rejected"),
                            ("account_share.completed", "Account Share Completed"),
                        ],
                        max_length=40,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("payload", models.JSONField()),
                (
                    "delivery_status",
                    models.CharField(
                        choices=[
                            ("none", "no destination"),
                            ("pending", "a delivery is still being attempted"),
                            ("delivered", "every destination answered 2xx"),
                            ("failed", "a delivery gave up"),
                        ],
                        default="none",
                        max_length=10,
                    ),
                ),
                (
                    "account_share",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merchant_events",
                        to="orders.accountshare",
                    ),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="clients.clientapplication",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merchant_events",
                        to="orders.order",
                    ),
                ),
                (
                    "refund",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merchant_events",
                        to="orders.refund",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["application", "-created_at", "-id"], name="event_app_created"
                    ),
                    models.Index(
                        fields=["application", "event_type", "-created_at"],
                        name="event_app_type",
                    ),
                    models.Index(fields=["created_at"], name="event_created"),
                ],
            },
        ),
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_id",
                    models.CharField(help_text="we_ and 24 hex digits", max_length=40, unique=True),
                ),
                ("url", models.URLField(max_length=512)),
                ("description", models.CharField(blank=True, max_length=255)),
                (
                    "event_types",
                    models.JSONField(default=list, help_text='event types, or ["*"] for all'),
                ),
                ("enabled", models.BooleanField(default=True)),
                ("secret", models.CharField(editable=False, max_length=80)),
                ("previous_secret", models.CharField(blank=True, editable=False, max_length=80)),
                (
                    "previous_secret_expires_at",
                    models.DateTimeField(blank=True, editable=False, null=True),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("deleted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="webhook_endpoints",
                        to="clients.clientapplication",
                    ),
                ),
            ],
            options={"ordering": ["created_at", "id"]},
        ),
        migrations.AddField(
            model_name="notification",
            name="event",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="notifications.event",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="endpoint",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="notifications.webhookendpoint",
            ),
        ),
        migrations.RunPython(split_events, join_events),
        migrations.AlterField(
            model_name="notification",
            name="event",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="notifications.event",
            ),
        ),
        migrations.RemoveConstraint(model_name="notification", name="notification_has_a_subject"),
        migrations.RemoveField(model_name="notification", name="order"),
        migrations.RemoveField(model_name="notification", name="refund"),
        migrations.RemoveField(model_name="notification", name="account_share"),
        migrations.RemoveField(model_name="notification", name="payload"),
        migrations.RemoveField(model_name="notification", name="event_type"),
        migrations.RemoveField(model_name="notification", name="application"),
        migrations.AlterField(
            model_name="notification",
            name="public_id",
            field=models.CharField(help_text="dlv_ and 32 hex digits", max_length=40, unique=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="retry_started_at",
            field=models.DateTimeField(
                help_text="start of the current retry window (creation, or the last redelivery)"
            ),
        ),
        migrations.AlterModelOptions(
            name="notification",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("redeliver_notification", "Can redeliver a merchant notification")
                ],
                "verbose_name": "merchant notification delivery",
            },
        ),
    ]
