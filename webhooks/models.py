"""The raw inbox of Binance Pay webhooks.

A row is written only for a delivery whose signature verified, in the request that received it,
before the answer: SUCCESS means "stored". Processing happens later (webhooks.tasks) and records
its outcome on the row. Rows are never deleted by the application: they are the ledger of what
Binance told us.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventStatus(models.TextChoices):
    RECEIVED = "received", "stored, not processed yet"
    PROCESSED = "processed", "applied"
    IGNORED = "ignored", "stored; nothing to do for this type/status"
    ORPHAN = "orphan", "no matching order/refund/share yet; retried"
    FLAGGED = "flagged", "did not match the order (amount/currency); order flagged for staff"
    FAILED = "failed", "could not be processed; see last_error"


# The sweeper re-enqueues these; the others are final.
WAITING_STATUSES = (EventStatus.RECEIVED, EventStatus.ORPHAN)
FINAL_STATUSES = (
    EventStatus.PROCESSED,
    EventStatus.IGNORED,
    EventStatus.FLAGGED,
    EventStatus.FAILED,
)


class WebhookEvent(models.Model):
    """One verified Binance Pay notification, as received.

    ``dedupe_key`` is ``bizType:bizIdStr:bizStatus`` (docs/binance-pay.md#gotcha-duplicates), plus
    ``:refundRequestId`` for ``PAY_REFUND``, whose bizId is the order's prepayId
    (docs/binance-pay.md#biztype-and-bizstatus): two partial refunds of one order are two events.
    The unique constraint on it is what stops duplicates, also between concurrent deliveries.
    """

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    body = models.BinaryField(help_text="the raw request body, byte for byte")
    headers = models.JSONField(
        default=dict, help_text="Content-Type and the four BinancePay-* headers"
    )
    cert_serial = models.CharField(max_length=64)
    verification = models.CharField(max_length=16, default="verified")
    biz_type = models.CharField(max_length=64)
    biz_id_str = models.CharField(max_length=64, db_index=True)
    biz_status = models.CharField(max_length=64)
    merchant_trade_no = models.CharField(max_length=64, blank=True, db_index=True)
    dedupe_key = models.CharField(max_length=255, unique=True)

    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="when the sweeper may enqueue it again"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhook_status_received"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_status_next"),
        ]
        permissions = [("reprocess_webhookevent", "Can reprocess a webhook event")]

    def __str__(self) -> str:
        return f"{self.biz_type}/{self.biz_status} {self.biz_id_str} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES
