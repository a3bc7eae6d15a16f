"""Request and response bodies of the merchant identifiers API (Binance-style camelCase names)."""

from __future__ import annotations

import re

from rest_framework import serializers

from campaigns.models import IdentifierKind
from orders.validation import StrictSerializer
from orders.validation.serializers import CUSTOMER_REF, VISIBLE_ASCII
from orders.validation.text import TextField

CHAIN = re.compile(r"[A-Za-z0-9._-]+")


class CustomerRefSerializer(StrictSerializer):
    """The `customerRef` path segment, checked like the orders API's `customerRef`."""

    customerRef = TextField(
        max_length=64,
        pattern=CUSTOMER_REF,
        pattern_message="must contain only letters, digits and . _ : @ -",
    )


class IdentifierCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=IdentifierKind.choices,
        help_text="`wallet` (an address; 0x EVM addresses match in any letter case) or `other` "
        "(any other id Binance may send as the user's unified id; matched exactly).",
    )
    value = TextField(
        max_length=128,
        pattern=VISIBLE_ASCII,
        pattern_message="must be visible ASCII characters without spaces",
        help_text="The address or id. Stored trimmed; EVM addresses in lower case.",
    )
    chain = TextField(
        max_length=32,
        required=False,
        blank_means_absent=True,
        pattern=CHAIN,
        pattern_message="must contain only letters, digits and . _ -",
        help_text="Optional, informative (e.g. `BSC`, `ETH`).",
    )


class CustomerIdentifierSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["wallet", "other", "binance_id", "open_user_id"],
        help_text="`wallet`/`other`: registered by you; `binance_id`: from a SHARED account "
        "share; `open_user_id`: the payer of one of the customer's orders.",
    )
    value = serializers.CharField()
    chain = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=["registered", "account_share", "order"])
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True)


class CustomerIdentifierListSerializer(serializers.Serializer):
    customerRef = serializers.CharField()
    identifiers = CustomerIdentifierSerializer(many=True)
