"""Request serializers for the merchant API: every Binance Create Order v2 rule
(docs/binance-pay.md#create-order), checked before anything is sent to Binance.

``validated_data`` is a plain dict in Binance's own (camelCase) names, ready to be sent: absent
optional fields are omitted, amounts are ``Decimal``, nested objects are dicts. Errors are nested
DRF error dicts, so ``paysvc.exceptions.flatten_errors`` gives dotted paths such as
``goods.goodsName``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.validators import EmailValidator
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from orders.validation.amounts import FIAT_AMOUNT_MIN, AmountField
from orders.validation.fields import (
    CodeField,
    IPAddressField,
    OrderExpireTimeField,
    PastTimeField,
    QuantityField,
    StrictBooleanField,
    one_of,
)
from orders.validation.refdata import (
    GOODS_CATEGORIES,
    GOODS_TYPES,
    ISO_3166_ALPHA2,
    MINI_PROGRAM,
    ORDER_STATUSES,
    OS_TYPES,
    SHIPPING_ADDRESS_TYPES,
    SUPPORTED_CRYPTO,
    SUPPORTED_FIAT,
    TERMINAL_TYPES,
)
from orders.validation.text import GOODS_DETAIL_RULE, GOODS_NAME_RULE, TextField
from orders.validation.urls import notify_url_field, redirect_url_field
from paysvc.serializers import COMMON_MESSAGES, StrictSerializer, json_type

# Binance "letter or digit" = [A-Za-z0-9] (docs/binance-pay.md#endpoints); the class is ASCII-only
# by construction.
LETTERS_DIGITS = re.compile(r"[A-Za-z0-9]+")
# Create Order v3 (docs/binance-pay-v3.md): the sandbox's limit, Binance documents none.
MAX_GOODS_DETAILS = 100
V2 = "v2"
V3_ONLY_FIELDS = ("description", "qrCodeReferId")
V2_REFUSAL = (
    "only v3 orders take it; this client application creates Create Order v2 orders (staff set "
    "the version per application)"
)
CUSTOMER_REF = re.compile(r"[A-Za-z0-9._:@-]+")
VISIBLE_ASCII = re.compile(r"[!-~]+")  # no spaces: ids, cookies, app ids
DIGITS = re.compile(r"[0-9]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*(?: ?(?:x|ext\.?) ?[0-9]{1,8})?", re.ASCII)
PHONE_COUNTRY_CODE = re.compile(r"\+?[0-9]{1,4}")
ZIP_CODE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")  # BCP 47 or Java "zh_CN"
CURRENCY_LIST = re.compile(r"[A-Z0-9]{1,20}(?:,[A-Z0-9]{1,20})*")  # 1-20: the sandbox's

NAME_MAX_LENGTH = 128  # Binance documents no limit for names; a generous bound of ours
ID_MAX_LENGTH = 64
COOKIE_ID_MAX_LENGTH = 256  # the sandbox's (Binance's) limit; signed session cookies exceed 64
ADDRESS_PART_MAX_LENGTH = 256  # state, city, address: the sandbox's (Binance's) limit

DATETIME_MESSAGES = {
    **COMMON_MESSAGES,
    "invalid": "must be an ISO-8601 datetime such as 2025-01-31T12:00:00Z",
}
INTEGER_MESSAGES = {
    **COMMON_MESSAGES,
    "invalid": "must be an integer",
    "min_value": "must be at least {min_value}",
    "max_value": "must be at most {max_value}",
}


def _letters_digits(field: str, max_length: int, *, binance_rule: bool, **kwargs: Any) -> TextField:
    message = "must contain only letters and digits"
    if binance_rule:
        message += f" (Binance: {field} is letter or digit)"
    return TextField(
        max_length=max_length, pattern=LETTERS_DIGITS, pattern_message=message, **kwargs
    )


def _visible_id(max_length: int = ID_MAX_LENGTH, **kwargs: Any) -> TextField:
    return TextField(
        max_length=max_length,
        pattern=VISIBLE_ASCII,
        pattern_message="must contain only visible ASCII characters, without spaces",
        **kwargs,
    )


def _customer_ref(**kwargs: Any) -> TextField:
    return TextField(
        max_length=64,
        pattern=CUSTOMER_REF,
        pattern_message="must contain only letters, digits and . _ : @ -",
        **kwargs,
    )


def _optional_text(max_length: int) -> TextField:
    return TextField(max_length=max_length, required=False, blank_means_absent=True)


def _phone(**kwargs: Any) -> TextField:
    return TextField(
        max_length=32,
        required=False,
        pattern=PHONE,
        pattern_message="must be a phone number: digits, spaces, + ( ) . / - and an optional "
        "extension (x123)",
        **kwargs,
    )


def _crypto_currency(**kwargs: Any) -> CodeField:
    return CodeField(
        SUPPORTED_CRYPTO,
        rule=one_of(sorted(SUPPORTED_CRYPTO), "Binance: order currency in upper case"),
        refused=SUPPORTED_FIAT,
        refused_message="must be a crypto currency; fiat is not accepted here (Binance: fiat NOT "
        "supported) -- use fiatAmount+fiatCurrency",
        **kwargs,
    )


def _fiat_currency(**kwargs: Any) -> CodeField:
    return CodeField(
        SUPPORTED_FIAT,
        rule="must be a supported fiat currency code in upper case (ISO 4217), e.g. USD, EUR, HKD",
        refused=SUPPORTED_CRYPTO,
        refused_message="must be a fiat currency; crypto is not accepted here -- use "
        "orderAmount+currency",
        **kwargs,
    )


class BinanceObject(StrictSerializer):
    """A Create Order object: an empty (or blank) string on an optional scalar field means absent,
    as ``null`` does, because Binance reads ``""`` as "not given" (the sandbox does, and
    tests/contract holds paysvc to it). Required fields still refuse it ("must not be blank"),
    and so do those in ``blank_is_a_value``; an object field still needs an object."""

    blank_is_a_value: frozenset[str] = frozenset()

    def _means_absent(self, key: str, value: Any) -> bool:
        field = self.fields.get(key)
        if (
            key not in self.blank_is_a_value
            and field is not None
            and not field.required
            and not isinstance(field, serializers.BaseSerializer)  # objects stay objects
            and isinstance(value, str)
            and not value.strip()
        ):
            return True
        return super()._means_absent(key, value)


class PersonNameSerializer(BinanceObject):
    """shippingName / buyerName (docs/binance-pay.md#create-order: firstName and lastName required
    inside)."""

    firstName = TextField(max_length=NAME_MAX_LENGTH)
    middleName = _optional_text(NAME_MAX_LENGTH)
    lastName = TextField(max_length=NAME_MAX_LENGTH)


class OrderEnvSerializer(BinanceObject):
    terminalType = CodeField(TERMINAL_TYPES, rule=one_of(TERMINAL_TYPES))
    osType = CodeField(OS_TYPES, rule=one_of(OS_TYPES), required=False)
    orderClientIp = IPAddressField(required=False)
    cookieId = _visible_id(COOKIE_ID_MAX_LENGTH, required=False)


class GoodsUnitAmountSerializer(BinanceObject):
    currency = CodeField(
        SUPPORTED_CRYPTO | SUPPORTED_FIAT,
        rule="must be a supported crypto or fiat currency code in upper case",
    )
    amount = AmountField()


class OrderGoodsSerializer(BinanceObject):
    goodsType = CodeField(GOODS_TYPES, rule=one_of(GOODS_TYPES, "01 tangible, 02 virtual"))
    goodsCategory = CodeField(GOODS_CATEGORIES, rule=one_of(GOODS_CATEGORIES))
    # docs/binance-pay.md#create-order gives no format for referenceGoodsId; paysvc requires 1..64
    # printable characters.
    referenceGoodsId = TextField(max_length=ID_MAX_LENGTH, printable=True)
    goodsName = TextField(max_length=256, rule=GOODS_NAME_RULE)
    goodsDetail = TextField(
        max_length=256, rule=GOODS_DETAIL_RULE, required=False, blank_means_absent=True
    )
    goodsUnitAmount = GoodsUnitAmountSerializer(required=False)
    goodsQuantity = QuantityField(required=False)


class ShippingAddressSerializer(BinanceObject):
    region = CodeField(
        ISO_3166_ALPHA2,
        rule="must be an ISO 3166-1 alpha-2 country/region code in upper case, e.g. US, DE, HK",
    )
    state = _optional_text(ADDRESS_PART_MAX_LENGTH)
    city = _optional_text(ADDRESS_PART_MAX_LENGTH)
    address = _optional_text(ADDRESS_PART_MAX_LENGTH)
    zipCode = TextField(
        max_length=32,
        required=False,
        pattern=ZIP_CODE,
        pattern_message="must contain only letters, digits, spaces and hyphens",
    )
    shippingAddressType = CodeField(
        SHIPPING_ADDRESS_TYPES,
        rule=one_of(SHIPPING_ADDRESS_TYPES, "office, home, public box, others"),
        required=False,
    )


class OrderShippingSerializer(BinanceObject):
    shippingName = PersonNameSerializer(required=False)
    shippingAddress = ShippingAddressSerializer(required=False)
    shippingPhoneNo = _phone()


class OrderBuyerSerializer(BinanceObject):
    referenceBuyerId = _visible_id(required=False)
    buyerName = PersonNameSerializer(required=False)
    buyerPhoneCountryCode = TextField(
        max_length=5,
        required=False,
        pattern=PHONE_COUNTRY_CODE,
        pattern_message='must be a calling code of 1 to 4 digits, optionally after "+"',
    )
    buyerPhoneNo = _phone()
    buyerEmail = TextField(
        max_length=254,  # RFC 5321 path limit
        required=False,
        validators=[EmailValidator(message="must be a valid email address")],
    )
    buyerRegistrationTime = PastTimeField(required=False)
    buyerBrowserLanguage = TextField(
        max_length=35,
        required=False,
        pattern=LANGUAGE_TAG,
        pattern_message='must be a language tag such as "en", "en-US" or "zh_CN"',
    )


class OrderMerchantSerializer(BinanceObject):
    subMerchantId = TextField(
        max_length=19,
        required=False,
        pattern=DIGITS,
        pattern_message="must contain only digits (Binance sub-merchant id)",
    )


class OrderTagsSerializer(BinanceObject):
    ifProfitSharing = StrictBooleanField(required=False)


class GoodsDetailsField(serializers.ListSerializer):
    """``goodsDetails`` (Create Order v3): 1 to MAX_GOODS_DETAILS goods objects. Errors about the
    list itself are reported at ``goodsDetails``, an item's at ``goodsDetails.<i>.<field>``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=OrderGoodsSerializer(), **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is not empty and data is not None:
            if not isinstance(data, list):
                raise serializers.ValidationError(
                    [f"must be an array of goods objects, not {json_type(data)}"]
                )
            if not data:
                raise serializers.ValidationError(["must list at least one goods item"])
            if len(data) > MAX_GOODS_DETAILS:
                raise serializers.ValidationError(
                    [f"must list at most {MAX_GOODS_DETAILS} goods items"]
                )
        return super().run_validation(data)


class CreateOrderSerializer(BinanceObject):
    """POST /api/v1/orders: Binance Create Order fields plus paysvc's notifyUrl, customerRef.

    One body for both Binance versions; the client application's ``order_api_version`` (in the
    serializer context as ``api_version``) decides which endpoint paysvc calls, and the version's
    own rules apply: the goods come as ``goods`` (one object) or ``goodsDetails`` (a list; v2
    takes one item); ``description`` and ``qrCodeReferId`` exist only on v3
    (docs/binance-pay-v3.md#3-what-is-new-in-v3). A v3 order without ``description`` gets its
    first goods name (Binance requires one).

    Cross-field rules (reported with the field errors, at the most specific path):
    - exactly one of orderAmount+currency / fiatAmount+fiatCurrency: a missing half is reported
      at the missing field; both pairs at ``fiatCurrency`` (or ``fiatAmount``); neither at
      ``currency`` ("one of orderAmount+currency or fiatAmount+fiatCurrency is required");
    - ``appId`` is required when ``env.terminalType`` is MINI_PROGRAM;
    - exactly one of ``goods`` / ``goodsDetails``.
    ``webhookUrl`` is not accepted: paysvc sets it from settings. ``fiatAmount`` is at least
    ``FIAT_AMOUNT_MIN`` (so it cannot convert to less than Binance's minimum).
    """

    # An empty merchantTradeNo is a merchant bug, not "generate one"; the others are ours.
    blank_is_a_value = frozenset({"merchantTradeNo", "notifyUrl", "customerRef"})
    unknown_field_hints = {
        "webhookUrl": "webhookUrl is set by paysvc from its settings; use notifyUrl for your "
        "own status callbacks",
        "directDebitContract": "direct debit contracts are not supported by paysvc",
    }

    env = OrderEnvSerializer()
    merchantTradeNo = _letters_digits("merchantTradeNo", 32, binance_rule=True, required=False)
    orderAmount = AmountField(required=False)
    currency = _crypto_currency(required=False)
    fiatAmount = AmountField(required=False)
    fiatCurrency = _fiat_currency(required=False)
    goods = OrderGoodsSerializer(required=False)
    goodsDetails = GoodsDetailsField(required=False)
    description = TextField(max_length=256, required=False, blank_means_absent=True)
    qrCodeReferId = TextField(
        max_length=19,
        required=False,
        pattern=DIGITS,
        pattern_message="must be digits: the referId of a merchant QR code scan",
    )
    shipping = OrderShippingSerializer(required=False)
    buyer = OrderBuyerSerializer(required=False)
    merchant = OrderMerchantSerializer(required=False)
    returnUrl = redirect_url_field()
    cancelUrl = redirect_url_field()
    notifyUrl = notify_url_field()
    customerRef = _customer_ref(required=False)
    orderExpireTime = OrderExpireTimeField(required=False)
    supportPayCurrency = TextField(
        max_length=1024,
        required=False,
        pattern=CURRENCY_LIST,
        pattern_message="must be comma-separated upper-case currency codes without spaces, e.g. "
        '"BUSD,BNB" (Binance supportPayCurrency)',
    )
    appId = _visible_id(required=False)
    universalUrlAttach = _visible_id(120, required=False)
    passThroughInfo = TextField(max_length=512, required=False)
    orderTags = OrderTagsSerializer(required=False)

    def presence_errors(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        crypto = [key for key in ("orderAmount", "currency") if key in data]
        fiat = [key for key in ("fiatAmount", "fiatCurrency") if key in data]
        if crypto and fiat:
            errors[fiat[-1]] = [
                "must not be combined with orderAmount+currency: give either "
                "orderAmount+currency or fiatAmount+fiatCurrency"
            ]
        elif not crypto and not fiat:
            errors["currency"] = [
                "one of orderAmount+currency or fiatAmount+fiatCurrency is required"
            ]
        else:
            pair = ("orderAmount", "currency") if crypto else ("fiatAmount", "fiatCurrency")
            for mine, other in (pair, pair[::-1]):
                if mine not in data:
                    errors[mine] = [f"is required together with {other}"]
        env = data.get("env")
        if (
            isinstance(env, Mapping)
            and env.get("terminalType") == MINI_PROGRAM
            and ("appId" not in data)
        ):
            errors["appId"] = ["is required when env.terminalType is MINI_PROGRAM (Binance rule)"]
        if "goods" in data and "goodsDetails" in data:
            errors["goodsDetails"] = ["must not be combined with goods: give one of them"]
        elif "goods" not in data and "goodsDetails" not in data:
            errors["goods"] = ["is required (or goodsDetails, a list of goods items)"]
        if self.context.get("api_version") == V2:
            for field in V3_ONLY_FIELDS:
                if field in data:
                    errors.setdefault(field, []).append(V2_REFUSAL)
            items = data.get("goodsDetails")
            if isinstance(items, list) and len(items) > 1:
                errors.setdefault("goodsDetails", []).append(
                    f"must list one item on a v2 order ({V2_REFUSAL})"
                )
        return errors

    def validate_fiatAmount(self, value: Decimal) -> Decimal:
        if value < FIAT_AMOUNT_MIN:
            raise serializers.ValidationError(
                f"must be at least {FIAT_AMOUNT_MIN} (smaller fiat amounts can convert to less "
                "than Binance's minimum of 0.00000001 USDT)"
            )
        return value

    def validate_supportPayCurrency(self, value: str) -> str:
        codes = value.split(",")
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("must not list a currency twice")
        return value


class RefundRequestSerializer(StrictSerializer):
    """POST /api/v1/orders/{merchantTradeNo}/refunds (Binance Refund:
    docs/binance-pay.md#refund-order)."""

    refundAmount = AmountField()
    refundReason = TextField(max_length=256, required=False, blank_means_absent=True)
    # Binance: string(64]; paysvc keeps it to letters and digits like its other ids.
    refundRequestId = _letters_digits("refundRequestId", 64, binance_rule=False, required=False)


class AccountShareRequestSerializer(StrictSerializer):
    """POST /api/v1/account-shares (Binance Share Account Id:
    docs/binance-pay.md#share-account-id)."""

    customerRef = _customer_ref()
    requestId = _letters_digits("requestId", 32, binance_rule=True, required=False)


@extend_schema_field({"type": "string", "example": "PAID,EXPIRED"})
class StatusListField(serializers.Field):
    """Comma-separated order statuses -> list of str (duplicates dropped, order kept)."""

    default_error_messages = COMMON_MESSAGES

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, not {json_type(data)}")
        statuses: list[str] = []
        for item in data.split(","):
            status = item.strip()
            if status not in ORDER_STATUSES:
                raise serializers.ValidationError(
                    f"{one_of(ORDER_STATUSES)}, or a comma-separated list of them"
                )
            if status not in statuses:
                statuses.append(status)
        return statuses

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


class OrderListFilterSerializer(StrictSerializer):
    """GET /api/v1/orders query parameters; each may be given once.

    ``status`` is one status or a comma-separated list (validated as a list of str);
    ``createdFrom`` <= ``createdTo`` (ISO-8601; a value without offset is read in the server's
    time zone); ``pageSize`` (1..100) and ``page`` are validated here for the paginator.
    """

    status = StatusListField(required=False)
    customerRef = _customer_ref(required=False)
    createdFrom = serializers.DateTimeField(required=False, error_messages=DATETIME_MESSAGES)
    createdTo = serializers.DateTimeField(required=False, error_messages=DATETIME_MESSAGES)
    pageSize = serializers.IntegerField(
        min_value=1, max_value=100, required=False, error_messages=INTEGER_MESSAGES
    )
    page = serializers.IntegerField(min_value=1, required=False, error_messages=INTEGER_MESSAGES)

    def to_internal_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        repeated: dict[str, list[str]] = {}
        if isinstance(data, QueryDict):
            repeated = {
                key: ["must be given once; use a comma-separated list"]
                for key, values in data.lists()
                if len(values) > 1
            }
            data = {key: value for key, value in data.dict().items() if key not in repeated}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**repeated, **exc.detail}) from None
        if repeated:
            raise serializers.ValidationError(repeated)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("createdFrom"), attrs.get("createdTo")
        if start and end and start > end:
            raise serializers.ValidationError({"createdTo": ["must not be before createdFrom"]})
        return attrs
