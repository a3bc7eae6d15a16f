"""Validation of merchant API input against Binance Pay's rules (docs/binance-pay.md#create-order),
before any call.

Public names are re-exported here; the modules are: ``serializers`` (request serializers),
``amounts`` (decimal(.8) money), ``text`` (length and character hygiene), ``urls`` (http(s) +
SSRF), ``fields`` (codes, booleans, IPs, epoch-ms times), ``refdata`` (code lists). The strict
serializer base is ``paysvc.serializers``; times are read from ``paysvc.clock`` (patched by tests).
"""

from orders.validation.amounts import (
    AMOUNT_LIMIT,
    AMOUNT_MIN,
    MAX_DECIMAL_PLACES,
    MAX_SIGNIFICANT_DIGITS,
    AmountError,
    AmountField,
    parse_amount,
)
from orders.validation.refdata import (
    GOODS_CATEGORIES,
    GOODS_TYPES,
    ISO_3166_ALPHA2,
    ORDER_STATUSES,
    OS_TYPES,
    SHIPPING_ADDRESS_TYPES,
    SUPPORTED_CRYPTO,
    SUPPORTED_FIAT,
    TERMINAL_TYPES,
)
from orders.validation.serializers import (
    AccountShareRequestSerializer,
    CreateOrderSerializer,
    OrderListFilterSerializer,
    RefundRequestSerializer,
)
from orders.validation.text import is_emoji, unsafe_text_message, utf16_length
from paysvc.serializers import UNKNOWN_FIELD, StrictSerializer

__all__ = [
    "AMOUNT_LIMIT",
    "AMOUNT_MIN",
    "GOODS_CATEGORIES",
    "GOODS_TYPES",
    "ISO_3166_ALPHA2",
    "MAX_DECIMAL_PLACES",
    "MAX_SIGNIFICANT_DIGITS",
    "ORDER_STATUSES",
    "OS_TYPES",
    "SHIPPING_ADDRESS_TYPES",
    "SUPPORTED_CRYPTO",
    "SUPPORTED_FIAT",
    "TERMINAL_TYPES",
    "UNKNOWN_FIELD",
    "AccountShareRequestSerializer",
    "AmountError",
    "AmountField",
    "CreateOrderSerializer",
    "OrderListFilterSerializer",
    "RefundRequestSerializer",
    "StrictSerializer",
    "is_emoji",
    "parse_amount",
    "unsafe_text_message",
    "utf16_length",
]
