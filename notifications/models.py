"""Merchant events, where they go, and how each delivery went.

- `Event`: one per event paysvc emitted for a client application (order.paid, refund.succeeded,
  ...), stored once and always, whatever its destinations; the events API lists them.
- `WebhookEndpoint`: a URL a client application registered for the event types it wants, with
  its own signing secret (rotatable with an overlap).
- `Notification`: one delivery of one event to one destination (an endpoint, or the order's
  ``notifyUrl`` / the application's default URL), retried until delivered or the retry window
  has passed.
- `NotificationAttempt`: one attempt of a delivery (append-only log).

Rows change only through `notifications.services`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class EventType(models.TextChoices):
    """The `type` of an event; the part before the dot names the resource in `data`."""

    ORDER_PAID = "order.paid"
    ORDER_PAID_AFTER_CLOSE = "order.paid_after_close"
    ORDER_CLOSED = "order.closed"
    ORDER_EXPIRED = "order.expired"
    ORDER_FAILED = "order.failed"
    ORDER_REFUNDED = "order.refunded"
    ORDER_FULLY_REFUNDED = "order.fully_refunded"
    ORDER_FLAGGED = "order.flagged"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_REJECTED = "refund.rejected"
    ACCOUNT_SHARE_COMPLETED = "account_share.completed"


# An endpoint subscribed to this receives every event type, present and future.
ALL_EVENTS = "*"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "pending (next attempt scheduled)"
    DELIVERED = "delivered", "delivered (the merchant answered 2xx)"
    FAILED = "failed", "failed (gave up after the retry window)"


SYSTEM_ACTOR = "system"


class DeliveryStatus(models.TextChoices):
    """An event's deliveries taken together (what `GET /api/v1/events?deliveryStatus=` filters)."""

    NONE = "none", "no destination"
    PENDING = "pending", "a delivery is still being attempted"
    DELIVERED = "delivered", "every destination answered 2xx"
    FAILED = "failed", "a delivery gave up"


class Event(models.Model):
    """One event for one client application, exactly as it is sent.

    `payload` is the event object (``{"id", "type", "createdAt", "data"}``): every delivery and
    every attempt sends its compact JSON with sorted keys (notifications.payloads.event_body), so
    the bytes never change. `data` is a snapshot of the resource when the event happened. The
    subject links (order, refund, account share) serve the admin's order timeline.
    """

    public_id = models.CharField(max_length=40, unique=True, help_text="evt_ and 32 hex digits")
    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="events"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField()
    payload = models.JSONField()
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merchant_events",
    )
    refund = models.ForeignKey(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merchant_events",
    )
    account_share = models.ForeignKey(
        "orders.AccountShare",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merchant_events",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["application", "-created_at", "-id"], name="event_app_created"),
            models.Index(
                fields=["application", "event_type", "-created_at"], name="event_app_type"
            ),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type}"


class WebhookEndpoint(models.Model):
    """A URL of a client application that receives the events it subscribed to.

    `secret` signs every delivery (``Paysvc-Signature: t=...,v1=...``). After a rotation the
    previous secret signs too, as a second ``v1=``, until `previous_secret_expires_at`: the
    merchant can switch its verifier at leisure. Secrets are kept in clear because they sign,
    and are shown once: when the endpoint is created and when its secret is rotated.
    """

    public_id = models.CharField(max_length=40, unique=True, help_text="we_ and 24 hex digits")
    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=512)
    description = models.CharField(max_length=255, blank=True)
    event_types = models.JSONField(default=list, help_text='event types, or ["*"] for all')
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting an endpoint keeps its row, so that its deliveries keep their history.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.url}"

    def wants(self, event_type: str) -> bool:
        """Whether a new `event_type` event is delivered here."""
        if not self.enabled or self.deleted_at is not None:
            return False
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class Notification(models.Model):
    """One delivery of `event` to one destination, at least once, to `url` (fixed when created).

    The destination is `endpoint` (signed with its secret), or, with no endpoint, the order's
    notifyUrl or the application's default URL (signed with the application's notification
    secret). Scheduling is durable: `next_attempt_at` says when the next attempt is due and the
    `notifications.dispatch_due` beat task enqueues it. `dispatched_at` (a task was enqueued) and
    `locked_until` (a worker is sending now) keep two workers from sending one attempt twice.
    """

    public_id = models.CharField(max_length=40, unique=True, help_text="dlv_ and 32 hex digits")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    url = models.URLField(max_length=512)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    retry_started_at = models.DateTimeField(
        help_text="start of the current retry window (creation, or the last redelivery)"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    redelivery_requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "merchant notification delivery"
        verbose_name_plural = "merchant notification deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="pending_notification_is_scheduled",
            ),
        ]
        permissions = [("redeliver_notification", "Can redeliver a merchant notification")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event.event_type} ({self.status})"

    @property
    def event_type(self) -> str:
        return self.event.event_type


class NotificationAttempt(models.Model):
    """One delivery attempt: what was sent where, what came back. Append-only."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField()
    url = models.URLField(max_length=512)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    by = models.CharField(
        max_length=150, default=SYSTEM_ACTOR, help_text="'system', or the staff user who asked"
    )

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [models.Index(fields=["notification", "attempted_at"])]

    def __str__(self) -> str:
        outcome = self.status_code if self.status_code is not None else self.error[:40]
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {outcome}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
