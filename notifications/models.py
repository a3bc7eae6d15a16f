"""Merchant notifications (one row per event) and their delivery attempts (append-only log).

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
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_REJECTED = "refund.rejected"
    ACCOUNT_SHARE_COMPLETED = "account_share.completed"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "pending (next attempt scheduled)"
    DELIVERED = "delivered", "delivered (the merchant answered 2xx)"
    FAILED = "failed", "failed (gave up after the retry window)"


SYSTEM_ACTOR = "system"


class Notification(models.Model):
    """One event for one merchant, delivered at least once to `url` (fixed when it was created).

    `payload` is the exact event object; the body sent is its compact JSON (sorted keys), so every
    attempt and every redelivery sends the same bytes. Scheduling is durable: `next_attempt_at`
    says when the next attempt is due and the `notifications.dispatch_due` beat task enqueues it.
    `dispatched_at` (a task was enqueued) and `locked_until` (a worker is sending now) keep two
    workers from sending one attempt twice.
    """

    public_id = models.CharField(max_length=40, unique=True, help_text="evt_<32 hex>")
    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="notifications"
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    refund = models.ForeignKey(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    account_share = models.ForeignKey(
        "orders.AccountShare",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    url = models.URLField(max_length=512)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    retry_started_at = models.DateTimeField(
        help_text="start of the current retry window (creation, or the last staff redelivery)"
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
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False)
                | Q(refund__isnull=False)
                | Q(account_share__isnull=False),
                name="notification_has_a_subject",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="pending_notification_is_scheduled",
            ),
        ]
        permissions = [("redeliver_notification", "Can redeliver a merchant notification")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type} ({self.status})"


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
