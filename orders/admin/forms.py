"""The staff refund confirmation form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxLengthValidator


class RefundForm(forms.Form):
    """The staff refund confirmation. Limits are Binance's (docs/binance-pay.md#refund-order); the
    amount rules (what remains, 10 attempts, the last attempt) are checked by
    `orders.services.refund_create`.
    """

    refund_amount = forms.DecimalField(
        label="Refund amount",
        max_digits=28,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
    )
    refund_reason = forms.CharField(
        label="Reason",
        required=False,
        validators=[MaxLengthValidator(256)],
        widget=forms.TextInput(attrs={"size": 60, "maxlength": 256}),
    )
    # Fixed when the page is shown: submitting twice (double click, reload) cannot refund twice,
    # Binance refunds one refundRequestId at most once.
    refund_request_id = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput, error_messages={"invalid": "stale form"}
    )
