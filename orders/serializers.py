"""Output shapes of the merchant API. Field names are Binance's where Binance has one.

Amounts are decimal strings without trailing zeros ("25.17"), never JSON numbers; times are
ISO 8601 in UTC.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import AccountShare, Order, OrderEvent, Refund
from orders.validation.serializers import (
    OrderBuyerSerializer,
    OrderEnvSerializer,
    OrderGoodsSerializer,
    OrderShippingSerializer,
)
from paysvc.openapi import documented_json_field
from paysvc.serializers import Reused


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]+(\.[0-9]+)?$",
        "example": "25.17",
        "description": "A decimal string without trailing zeros (never a JSON number).",
    }
)
class AmountField(serializers.Field):
    """A Decimal as a plain decimal string: 25.17000000 -> "25.17"; None stays null."""

    def to_representation(self, value: Decimal) -> str:
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    def to_internal_value(self, data: object) -> Decimal:  # pragma: no cover - output only
        raise NotImplementedError


class RefundSerializer(serializers.ModelSerializer):
    refundRequestId = serializers.CharField(source="refund_request_id")
    refundAmount = AmountField(source="refund_amount")
    refundReason = serializers.CharField(source="refund_reason")
    refundId = serializers.CharField(source="refund_id")
    refundedAmount = AmountField(source="refunded_amount", allow_null=True)
    remainingAttempts = serializers.IntegerField(source="remaining_attempts", allow_null=True)
    failureCode = serializers.CharField(source="failure_code")
    failureMessage = serializers.CharField(source="failure_message")
    createdAt = serializers.DateTimeField(source="created_at")
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)

    class Meta:
        model = Refund
        fields = [
            "refundRequestId", "status", "refundAmount", "refundReason", "refundId",
            "refundedAmount", "remainingAttempts", "failureCode", "failureMessage",
            "createdAt", "completedAt",
        ]  # fmt: skip


# Context key: the refunds of the order being rendered, when the caller knows them without a
# query (a new or unpaid order has none). Absent: the order's own refunds are read.
KNOWN_REFUNDS = "refunds"


class OrderRefundsSerializer(serializers.ListSerializer):
    """An order's refunds: those in the context under `KNOWN_REFUNDS`, else the order's."""

    def get_attribute(self, instance: Order) -> object:
        known = self.context.get(KNOWN_REFUNDS)
        return known if known is not None else super().get_attribute(instance)


class OrderEventSerializer(serializers.ModelSerializer):
    createdAt = serializers.DateTimeField(source="created_at")
    fromStatus = serializers.CharField(source="from_status")
    toStatus = serializers.CharField(source="to_status")

    class Meta:
        model = OrderEvent
        fields = ["createdAt", "kind", "source", "summary", "fromStatus", "toStatus"]


class OrderSerializer(serializers.ModelSerializer):
    merchantTradeNo = serializers.CharField(source="merchant_trade_no")
    prepayId = serializers.CharField(source="prepay_id", allow_null=True)
    orderAmount = AmountField(source="order_amount", allow_null=True)
    totalFee = AmountField(source="total_fee", allow_null=True)
    fiatAmount = AmountField(source="fiat_amount", allow_null=True)
    fiatCurrency = serializers.CharField(source="fiat_currency")
    checkoutUrl = serializers.CharField(source="checkout_url")
    qrcodeLink = serializers.CharField(source="qrcode_link")
    qrContent = serializers.CharField(source="qr_content")
    universalUrl = serializers.CharField(source="universal_url")
    # JSON columns holding the validated request objects, answered as stored.
    env = documented_json_field(OrderEnvSerializer)
    goods = documented_json_field(OrderGoodsSerializer)
    goodsDetails = serializers.SerializerMethodField(
        help_text="Every goods item (one for a v2 order)."
    )
    apiVersion = serializers.CharField(
        source="api_version", help_text="The Binance Create Order version that created it."
    )
    shipping = documented_json_field(OrderShippingSerializer, allow_null=True)
    buyer = documented_json_field(OrderBuyerSerializer, allow_null=True)
    expireTime = serializers.DateTimeField(source="expire_time", allow_null=True)
    transactionId = serializers.CharField(source="transaction_id")
    openUserId = serializers.CharField(source="open_user_id")
    customerRef = serializers.CharField(source="customer_ref")
    returnUrl = serializers.CharField(source="return_url")
    cancelUrl = serializers.CharField(source="cancel_url")
    notifyUrl = serializers.CharField(source="notify_url")
    failureCode = serializers.CharField(source="failure_code")
    failureMessage = serializers.CharField(source="failure_message")
    createdAt = serializers.DateTimeField(source="created_at")
    paidAt = serializers.DateTimeField(source="paid_at", allow_null=True)
    refunds = OrderRefundsSerializer(child=RefundSerializer())

    class Meta:
        model = Order
        fields = [
            "merchantTradeNo", "prepayId", "status", "customerRef", "currency", "orderAmount",
            "totalFee", "fiatAmount", "fiatCurrency", "checkoutUrl", "qrcodeLink", "qrContent",
            "deeplink", "universalUrl", "expireTime", "transactionId", "openUserId", "env",
            "apiVersion", "description", "goods", "goodsDetails", "shipping", "buyer",
            "returnUrl", "cancelUrl", "notifyUrl", "flagged",
            "failureCode", "failureMessage", "createdAt", "paidAt", "refunds",
        ]  # fmt: skip

    @extend_schema_field(OrderGoodsSerializer(many=True))
    def get_goodsDetails(self, order: Order) -> list[dict]:
        return order.goods_details if order.goods_details is not None else [order.goods]


class OrderDetailSerializer(OrderSerializer):
    timeline = OrderEventSerializer(source="events", many=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "timeline"]


class AccountShareSerializer(serializers.ModelSerializer):
    requestId = serializers.CharField(source="request_id")
    customerRef = serializers.CharField(source="customer_ref")
    qrcodeContent = serializers.CharField(source="qrcode_content")
    qrcodeUrl = serializers.CharField(source="qrcode_url")
    expireTime = serializers.DateTimeField(source="expire_time", allow_null=True)
    binanceId = serializers.CharField(source="user_binance_id")
    createdAt = serializers.DateTimeField(source="created_at")
    sharedAt = serializers.DateTimeField(source="shared_at", allow_null=True)

    class Meta:
        model = AccountShare
        fields = [
            "requestId", "customerRef", "status", "qrcodeContent", "qrcodeUrl", "expireTime",
            "binanceId", "createdAt", "sharedAt",
        ]  # fmt: skip


# The order as the API shows it, from kept serializer instances (paysvc.serializers.Reused): the
# order endpoints and every merchant event about an order (orders.services.events) render it.
ORDER_REPRESENTATION: Reused[OrderSerializer] = Reused(OrderSerializer)
