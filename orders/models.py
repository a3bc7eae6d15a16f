"""Orders, refunds, account-ID shares and the order timeline.

Models hold data and local invariants only (choices, constraints, the pure transition table);
every write goes through `orders.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce

AMOUNT = {"max_digits": 28, "decimal_places": 8}


class OrderStatus(models.TextChoices):
    """Binance's Query Order v2 statuses (docs/binance-pay.md#order-statuses), plus
    PAID_AFTER_CLOSE.

    PAID_AFTER_CLOSE is ours: a payment that arrived after we saw the order closed or expired.
    It is kept and flagged for staff, never dropped (docs/reliability.md#13-paid-after-close).
    """

    INITIAL = "INITIAL"
    PENDING = "PENDING"
    PAID = "PAID"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    ERROR = "ERROR"
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"
    FULL_REFUNDED = "FULL_REFUNDED"
    PAID_AFTER_CLOSE = "PAID_AFTER_CLOSE"


S = OrderStatus
# Status only moves forward. REFUNDING -> PAID/REFUNDED covers a rejected refund (the order
# returns to what it was) and REFUNDED -> REFUNDING a further partial refund.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.INITIAL: frozenset({S.PENDING, S.PAID, S.CANCELED, S.EXPIRED, S.ERROR}),
    S.PENDING: frozenset({S.PAID, S.CANCELED, S.EXPIRED, S.ERROR}),
    S.PAID: frozenset({S.REFUNDING, S.REFUNDED, S.FULL_REFUNDED}),
    S.REFUNDING: frozenset({S.PAID, S.REFUNDED, S.FULL_REFUNDED}),
    S.REFUNDED: frozenset({S.REFUNDING, S.FULL_REFUNDED}),
    S.CANCELED: frozenset({S.PAID_AFTER_CLOSE}),
    S.EXPIRED: frozenset({S.PAID_AFTER_CLOSE}),
    S.PAID_AFTER_CLOSE: frozenset({S.REFUNDING, S.REFUNDED, S.FULL_REFUNDED}),
    S.ERROR: frozenset(),
    S.FULL_REFUNDED: frozenset(),
}
OPEN_STATUSES = frozenset({S.INITIAL, S.PENDING})
PAID_STATUSES = frozenset({S.PAID, S.PAID_AFTER_CLOSE, S.REFUNDING, S.REFUNDED})
FINAL_STATUSES = frozenset({S.CANCELED, S.EXPIRED, S.ERROR, S.FULL_REFUNDED})
# Orders that can be refunded (partly refunded ones again, up to the paid amount).
REFUNDABLE_STATUSES = frozenset({S.PAID, S.REFUNDED, S.REFUNDING, S.PAID_AFTER_CLOSE})
# Binance's limit of refund attempts per order (docs/binance-pay.md#refund-order).
MAX_REFUNDS_PER_ORDER = 10


class CreateState(models.TextChoices):
    """Where the Create Order call to Binance stands."""

    PENDING = "pending", "stored, Binance not called yet"
    UNKNOWN = "unknown", "called, outcome unknown (timeout or 5xx); resolving by query"
    CREATED = "created", "Binance created the order"
    REJECTED = "rejected", "Binance refused the order"
    LINKS_LOST = "links_lost", "Binance created it but its answer was lost; closed"


# `Order.paid_amount` as a query expression (aggregates, annotations).
PAID_AMOUNT = Coalesce("total_fee", "order_amount")


class Order(models.Model):
    """One Binance Pay order, created through the merchant API by one client application."""

    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="orders"
    )
    merchant_trade_no = models.CharField(max_length=32, unique=True)
    customer_ref = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=S.INITIAL)
    create_state = models.CharField(
        max_length=12, choices=CreateState.choices, default=CreateState.PENDING
    )

    # Which Binance endpoint created it (clients.OrderApiVersion); every later call is the same.
    api_version = models.CharField(max_length=2, default="v2")
    # What the merchant asked for (Binance's names kept in the JSON parts).
    terminal_type = models.CharField(max_length=16)
    order_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    fiat_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    fiat_currency = models.CharField(max_length=10, blank=True)
    goods = models.JSONField(default=dict, help_text="the (first) goods item")
    goods_details = models.JSONField(
        null=True, blank=True, help_text="v3: every goods item (goodsDetails)"
    )
    description = models.CharField(max_length=256, blank=True, help_text="v3: description")
    env = models.JSONField(default=dict)
    shipping = models.JSONField(null=True, blank=True)
    buyer = models.JSONField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="other v2 request fields")
    return_url = models.URLField(max_length=256, blank=True)
    cancel_url = models.URLField(max_length=256, blank=True)
    notify_url = models.URLField(max_length=512, blank=True)
    request_payload = models.JSONField(default=dict, help_text="the body sent to Binance")

    # What Binance answered.
    prepay_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    total_fee = models.DecimalField(**AMOUNT, null=True, blank=True)
    checkout_url = models.URLField(max_length=512, blank=True)
    qrcode_link = models.URLField(max_length=512, blank=True)
    qr_content = models.CharField(max_length=512, blank=True)
    deeplink = models.CharField(max_length=512, blank=True)
    universal_url = models.CharField(max_length=1024, blank=True)
    expire_time = models.DateTimeField(null=True, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True, db_index=True)
    open_user_id = models.CharField(max_length=64, blank=True, db_index=True)
    payment_info = models.JSONField(null=True, blank=True)
    commission = models.DecimalField(**AMOUNT, null=True, blank=True)
    failure_code = models.CharField(max_length=16, blank=True)
    failure_message = models.CharField(max_length=512, blank=True)

    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation with Query Order (orders.reconciliation): when to look next; empty means
    # "on the schedule counted from created_at".
    next_reconcile_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reconcile_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["application", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            # Web3 task completion: one customer's paid orders.
            models.Index(
                fields=["application", "customer_ref", "status", "paid_at"],
                name="order_customer_status_paid",
            ),
            # Admin dashboard: flagged orders.
            models.Index(fields=["-created_at"], name="order_flagged", condition=Q(flagged=True)),
        ]
        permissions = [
            ("sync_order", "Can sync an order with Binance"),
            ("close_order", "Can close an order at Binance"),
            ("refund_order", "Can refund an order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(order_amount__isnull=False) | Q(fiat_amount__isnull=False),
                name="order_has_an_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_trade_no} ({self.status})"

    def can_transition_to(self, status: str) -> bool:
        """True when moving from the current status to `status` is a legal forward move."""
        return status in ALLOWED_TRANSITIONS.get(self.status, frozenset())

    @property
    def is_fiat(self) -> bool:
        return bool(self.fiat_currency)

    @property
    def paid_amount(self) -> Decimal | None:
        """What the payer pays, in the order's crypto `currency`: Binance's totalFee from Create
        Order's answer, else the amount asked (crypto orders). None for a fiat order whose answer
        (with the crypto amount) has not arrived. SQL: `PAID_AMOUNT`."""
        return self.total_fee if self.total_fee is not None else self.order_amount


class RefundStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "stored, Binance not (yet) confirmed"
    PENDING = "REFUND_PENDING", "accepted by Binance, in progress"
    SUCCESS = "REFUND_SUCCESS", "refunded"
    REJECTED = "REFUND_REJECTED", "rejected by Binance after acceptance"
    ERROR = "ERROR", "refused by Binance at request time"


# Refunds in these states hold part of the paid amount.
REFUND_HOLDING_STATUSES = (RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.SUCCESS)


class Refund(models.Model):
    """A (partial) refund of a paid order. `refund_request_id` is Binance's idempotency key."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    refund_request_id = models.CharField(max_length=64, unique=True)
    refund_amount = models.DecimalField(**AMOUNT)
    refund_reason = models.CharField(max_length=256, blank=True)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    refund_id = models.CharField(max_length=32, blank=True)
    refunded_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    remaining_attempts = models.IntegerField(null=True, blank=True)
    failure_code = models.CharField(max_length=16, blank=True)
    failure_message = models.CharField(max_length=512, blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation with Query Refund (orders.reconciliation), as for orders.
    next_reconcile_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reconcile_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__gt=Decimal("0")), name="refund_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        # The amount as Binance writes it (5, not 5.00000000): this is what the admin shows.
        return f"{self.refund_request_id} {self.refund_amount.normalize():f} ({self.status})"


class AccountShareStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "stored, Binance not (yet) confirmed"
    PENDING = "PENDING", "waiting for the user's consent"
    SHARED = "SHARED", "the user shared their Binance ID"
    EXPIRED = "EXPIRED", "no consent before expiry"
    ERROR = "ERROR", "refused by Binance"


class AccountShare(models.Model):
    """A request to a customer to share their Binance account ID
    (docs/binance-pay.md#share-account-id, docs/binance-pay.md#share-account-data)."""

    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="account_shares"
    )
    customer_ref = models.CharField(max_length=64, db_index=True)
    request_id = models.CharField(max_length=32, unique=True)
    status = models.CharField(
        max_length=10, choices=AccountShareStatus.choices, default=AccountShareStatus.REQUESTED
    )
    share_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    qrcode_content = models.CharField(max_length=512, blank=True)
    qrcode_url = models.CharField(max_length=512, blank=True)
    expire_time = models.DateTimeField(null=True, blank=True)
    user_binance_id = models.CharField(max_length=32, blank=True, db_index=True)
    user_name = models.CharField(max_length=128, blank=True)
    failure_code = models.CharField(max_length=16, blank=True)
    failure_message = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shared_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.request_id} ({self.status})"


class EventSource(models.TextChoices):
    API = "api"
    WEBHOOK = "webhook"
    RECONCILIATION = "reconciliation"
    STAFF = "staff"
    SYSTEM = "system"


class EventKind(models.TextChoices):
    BINANCE_CALL = "binance_call"
    STATUS_CHANGE = "status_change"
    REFUND = "refund"
    NOTE = "note"


class OrderEvent(models.Model):
    """One line of an order's timeline: a call to Binance and its answer, a status change with
    its source, a refund step, or a note. Append-only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    source = models.CharField(max_length=16, choices=EventSource.choices)
    actor = models.CharField(max_length=150, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    summary = models.CharField(max_length=255)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["order", "created_at"]),
            # Admin filter and dashboard: payments found by polling instead of by webhook.
            models.Index(
                fields=["order"],
                name="orderevent_paid_by_polling",
                condition=Q(
                    kind="status_change",
                    source="reconciliation",
                    to_status__in=["PAID", "PAID_AFTER_CLOSE"],
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.summary}"


class IdempotencyRecord(models.Model):
    """The first response to an `Idempotency-Key`, replayed for every repeat of the same request.

    The unique constraint decides which of many concurrent requests runs. While it runs it holds
    a lease (``locked_until``, renewed while computing, ``lease_token`` naming the holder); a
    repeat meanwhile is answered 409 at once. A lease that expired means its request died: the
    next repeat takes the record over and resumes the work from ``resource_ref`` (for an order,
    the merchantTradeNo fixed before the order was stored). A repeat with another body is
    refused (409). Records expire after ``PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS``
    (orders/services/idempotency.py; docs/architecture.md#order-creation).
    """

    application = models.ForeignKey("clients.ClientApplication", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="lease of the request computing the answer (none: free)"
    )
    lease_token = models.CharField(max_length=32, blank=True, help_text="who holds the lease")
    resource_ref = models.CharField(
        max_length=64,
        blank=True,
        help_text="what the request works on (an order's merchantTradeNo)",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key
