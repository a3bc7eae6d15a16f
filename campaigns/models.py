"""Web3 task definitions and the identifiers merchants register for their customers.

Models hold data and local invariants only; writes go through `campaigns.services`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

AMOUNT = {"max_digits": 28, "decimal_places": 8}

# An EVM address: the same account whatever the letter case (EIP-55 only adds a checksum).
EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
CURRENCY = re.compile(r"[A-Z0-9]{2,10}")


def identifier_normalise(value: str) -> str:
    """The stored/compared form of an identifier: trimmed; EVM addresses in lower case.

    Everything else (Binance IDs, openUserIds, base58/bech32 addresses) is compared exactly.
    """
    value = value.strip()
    return value.lower() if EVM_ADDRESS.fullmatch(value) else value


class TaskKind(models.TextChoices):
    PAID_ORDER_COUNT = "paid_order_count", "paid orders (count)"
    PAID_AMOUNT_TOTAL = "paid_amount_total", "paid amount (total in one currency)"
    ACCOUNT_SHARED = "account_shared", "shared their Binance ID"


# Kinds judged against `threshold` (with the 95% rule).
NUMERIC_KINDS = frozenset({TaskKind.PAID_ORDER_COUNT, TaskKind.PAID_AMOUNT_TOTAL})


class Task(models.Model):
    """A task Binance can ask about (`task` parameter of /v1/task/completion).

    Belongs to one client application: the unified id is resolved to that application's
    customers only. Only events inside [starts_at, ends_at) count; either end may be open.
    """

    task_id = models.SlugField(
        max_length=64,
        unique=True,
        help_text="The id Binance sends, descriptive (e.g. 'pay_10_usdt_2025q1'): letters, "
        "digits, - and _. Never change it while a campaign uses it.",
    )
    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="web3_tasks"
    )
    kind = models.CharField(max_length=24, choices=TaskKind.choices)
    threshold = models.DecimalField(
        **AMOUNT,
        null=True,
        blank=True,
        help_text="Orders (count) or amount (total) required; met at 95% (Binance's rule).",
    )
    currency = models.CharField(
        max_length=10,
        blank=True,
        help_text="Required for a paid amount; optional for a count (then only orders in it).",
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Inclusive; empty = open.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty = open.")
    is_active = models.BooleanField(
        default=True, help_text="Inactive tasks are unknown to Binance (000006)."
    )
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task_id"]
        indexes = [models.Index(fields=["is_active", "task_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gt=Decimal("0")),
                name="campaigns_task_threshold_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=sorted(NUMERIC_KINDS)) | Q(threshold__isnull=False),
                name="campaigns_task_numeric_has_threshold",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TaskKind.PAID_AMOUNT_TOTAL) | ~Q(currency=""),
                name="campaigns_task_amount_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="campaigns_task_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.task_id

    def clean(self) -> None:
        """The rules of each kind (the admin form shows these next to their fields)."""
        errors: dict[str, str] = {}
        self.currency = (self.currency or "").strip().upper()
        if self.kind in NUMERIC_KINDS:
            if self.threshold is None or self.threshold <= 0:
                errors["threshold"] = "A positive threshold is required for this kind."
            elif self.kind == TaskKind.PAID_ORDER_COUNT and self.threshold != int(self.threshold):
                errors["threshold"] = "A number of orders is a whole number."
        elif self.threshold is not None:
            errors["threshold"] = "This kind has no threshold; leave it empty."
        if self.kind == TaskKind.PAID_AMOUNT_TOTAL and not self.currency:
            errors["currency"] = "A paid amount is counted in one currency, e.g. USDT."
        if self.kind == TaskKind.ACCOUNT_SHARED and self.currency:
            errors["currency"] = "This kind has no currency; leave it empty."
        if self.currency and not CURRENCY.fullmatch(self.currency):
            errors["currency"] = "A currency code: letters and digits, e.g. USDT."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The window must end after it starts."
        if errors:
            raise ValidationError(errors)


class IdentifierKind(models.TextChoices):
    WALLET = "wallet", "wallet address"
    OTHER = "other", "other id"


class CustomerIdentifier(models.Model):
    """An id a merchant registered for one of its customers (a wallet address, another id).

    Binance IDs (account sharing) and openUserIds (payments) are not copied here: they are
    looked up where they are recorded (`selectors.completion_facts`), so they can never be
    stale. `value` is stored normalised (`identifier_normalise`).
    """

    application = models.ForeignKey(
        "clients.ClientApplication", on_delete=models.PROTECT, related_name="customer_identifiers"
    )
    customer_ref = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    value = models.CharField(max_length=128)
    chain = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "value"], name="campaigns_identifier_unique"
            )
        ]
        indexes = [
            models.Index(fields=["value"]),
            models.Index(fields=["application", "customer_ref"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value} -> {self.customer_ref}"
