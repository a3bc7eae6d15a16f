"""Typed request models for Binance Pay calls (docs/binance-pay.md#create-order), and re-exports of
the results.

Request models are frozen dataclasses with ``Decimal`` amounts. ``to_dict()`` produces Binance's
field names, omits ``None`` and renders amounts as plain-notation strings (``"25.17"``; Create
Order accepts numeric strings: docs/binance-pay.md#create-order), so the dict is ready for
``encode_body`` or a JSON column.
``from_dict()`` is the inverse: it accepts a Binance-named dict (amounts as ``Decimal``, ``int``
or numeric string; never ``float``), rejects unknown keys and raises ``ValueError`` naming the
dotted field path (the machinery is in ``_wire``).

Constructors check the invariants Binance documents and that commonly bite
(``merchantTradeNo`` charset: docs/binance-pay.md#gotcha-merchanttradeno; amount pairs and 8
decimals: docs/binance-pay.md#create-order). The order-level rules live in ``OrderRules`` so that
Create Order v2 (here) and v3 (``order_v3``) share them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

from binance_pay._wire import Wire, unwrap
from binance_pay.results import (
    Certificate,
    OrderResult,
    QueryOrderResult,
    RefundQueryResult,
    RefundResult,
    ShareAccountResult,
)

__all__ = [
    "Buyer",
    "Certificate",
    "CreateOrderRequest",
    "Env",
    "Goods",
    "GoodsUnitAmount",
    "OrderResult",
    "OrderRules",
    "PersonName",
    "QueryOrderResult",
    "RefundQueryResult",
    "RefundResult",
    "ShareAccountResult",
    "Shipping",
    "ShippingAddress",
    "check_amount",
]

# docs/binance-pay.md#create-order, docs/binance-pay.md#gotcha-merchanttradeno: letters and digits
# only, at most 32.
MERCHANT_TRADE_NO_RE = re.compile(r"[A-Za-z0-9]{1,32}")
MAX_DECIMALS = 8  # docs/binance-pay.md#create-order: decimal(.8), minimum 0.00000001


def check_amount(value: object, field: str) -> None:
    """Raise unless ``value`` is a positive finite ``Decimal`` with at most 8 decimals."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{field}: expected Decimal, got {type(value).__name__}")
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{field}: must be a positive finite amount, got {value}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise ValueError(f"{field}: more than {MAX_DECIMALS} decimal places: {value}")


def require_text(value: object, field: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: required non-empty string")


@dataclass(frozen=True)
class Env(Wire):
    """``env`` object; ``terminal_type`` is APP, WEB, WAP, MINI_PROGRAM or OTHERS."""

    terminal_type: str
    os_type: str | None = None
    order_client_ip: str | None = None
    cookie_id: str | None = None

    _WIRE = (
        ("terminal_type", "terminalType"),
        ("os_type", "osType"),
        ("order_client_ip", "orderClientIp"),
        ("cookie_id", "cookieId"),
    )

    def __post_init__(self) -> None:
        require_text(self.terminal_type, "terminalType")


@dataclass(frozen=True)
class GoodsUnitAmount(Wire):
    currency: str
    amount: Decimal

    _WIRE = (("currency", "currency"), ("amount", "amount"))
    _KINDS = {"amount": "decimal"}

    def __post_init__(self) -> None:
        require_text(self.currency, "currency")
        check_amount(self.amount, "amount")


@dataclass(frozen=True)
class Goods(Wire):
    """A goods object: v2 ``goods``, and each item of v3 ``goodsDetails``
    (docs/binance-pay-v3.md section 3.1). Type ``01`` tangible / ``02`` virtual; category e.g.
    ``Z000``."""

    goods_type: str
    goods_category: str
    reference_goods_id: str
    goods_name: str
    goods_detail: str | None = None
    goods_unit_amount: GoodsUnitAmount | None = None
    goods_quantity: str | None = None

    _WIRE = (
        ("goods_type", "goodsType"),
        ("goods_category", "goodsCategory"),
        ("reference_goods_id", "referenceGoodsId"),
        ("goods_name", "goodsName"),
        ("goods_detail", "goodsDetail"),
        ("goods_unit_amount", "goodsUnitAmount"),
        ("goods_quantity", "goodsQuantity"),
    )
    _KINDS = {"goods_unit_amount": GoodsUnitAmount}

    def __post_init__(self) -> None:
        for attr, key in self._WIRE[:4]:
            require_text(getattr(self, attr), key)


@dataclass(frozen=True)
class PersonName(Wire):
    first_name: str
    last_name: str
    middle_name: str | None = None

    _WIRE = (("first_name", "firstName"), ("middle_name", "middleName"), ("last_name", "lastName"))


@dataclass(frozen=True)
class ShippingAddress(Wire):
    """``region`` is an ISO 3166 alpha-2 code; address type ``01``-``04``."""

    region: str
    state: str | None = None
    city: str | None = None
    address: str | None = None
    zip_code: str | None = None
    shipping_address_type: str | None = None

    _WIRE = (
        ("region", "region"),
        ("state", "state"),
        ("city", "city"),
        ("address", "address"),
        ("zip_code", "zipCode"),
        ("shipping_address_type", "shippingAddressType"),
    )


@dataclass(frozen=True)
class Shipping(Wire):
    shipping_name: PersonName | None = None
    shipping_address: ShippingAddress | None = None
    shipping_phone_no: str | None = None

    _WIRE = (
        ("shipping_name", "shippingName"),
        ("shipping_address", "shippingAddress"),
        ("shipping_phone_no", "shippingPhoneNo"),
    )
    _KINDS = {"shipping_name": PersonName, "shipping_address": ShippingAddress}


@dataclass(frozen=True)
class Buyer(Wire):
    reference_buyer_id: str | None = None
    buyer_name: PersonName | None = None
    buyer_phone_country_code: str | None = None
    buyer_phone_no: str | None = None
    buyer_email: str | None = None
    buyer_registration_time: int | None = None  # epoch ms
    buyer_browser_language: str | None = None

    _WIRE = (
        ("reference_buyer_id", "referenceBuyerId"),
        ("buyer_name", "buyerName"),
        ("buyer_phone_country_code", "buyerPhoneCountryCode"),
        ("buyer_phone_no", "buyerPhoneNo"),
        ("buyer_email", "buyerEmail"),
        ("buyer_registration_time", "buyerRegistrationTime"),
        ("buyer_browser_language", "buyerBrowserLanguage"),
    )
    _KINDS = {"buyer_name": PersonName, "buyer_registration_time": "int"}


class OrderRules(Wire):
    """What Create Order v2 and v3 have in common besides their fields
    (docs/binance-pay.md#create-order; docs/binance-pay-v3.md section 4): the
    ``merchantTradeNo``/``env``/amount invariants and the one-key wrappers
    ``merchant.subMerchantId`` and ``orderTags.ifProfitSharing``, which the models flatten to
    ``sub_merchant_id`` and ``order_tags_if_profit_sharing``."""

    merchant_trade_no: str
    env: Env
    order_amount: Decimal | None
    currency: str | None
    fiat_amount: Decimal | None
    fiat_currency: str | None
    sub_merchant_id: str | None
    order_tags_if_profit_sharing: bool | None

    def _check_order(self) -> None:
        if not isinstance(self.merchant_trade_no, str) or not MERCHANT_TRADE_NO_RE.fullmatch(
            self.merchant_trade_no
        ):
            raise ValueError("merchantTradeNo: 1-32 letters or digits required")
        if not isinstance(self.env, Env):
            raise TypeError("env must be an Env")
        # docs/binance-pay.md#create-order: orderAmount goes with currency, fiatAmount with
        # fiatCurrency, and currency and fiatCurrency cannot both be null.
        if (self.order_amount is None) != (self.currency is None):
            raise ValueError("orderAmount and currency must be given together")
        if (self.fiat_amount is None) != (self.fiat_currency is None):
            raise ValueError("fiatAmount and fiatCurrency must be given together")
        if self.currency is None and self.fiat_currency is None:
            raise ValueError("one of currency or fiatCurrency is required")
        if self.order_amount is not None:
            check_amount(self.order_amount, "orderAmount")
        if self.fiat_amount is not None:
            check_amount(self.fiat_amount, "fiatAmount")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.sub_merchant_id is not None:
            out["merchant"] = {"subMerchantId": self.sub_merchant_id}
        if self.order_tags_if_profit_sharing is not None:
            out["orderTags"] = {"ifProfitSharing": self.order_tags_if_profit_sharing}
        return out

    @classmethod
    def from_dict(cls, data: Any, *, path: str = "") -> Self:
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.__name__}: expected an object")
        flat = dict(data)
        flat["merchant"] = unwrap(flat.get("merchant"), "subMerchantId", f"{path}merchant")
        flat["orderTags"] = unwrap(flat.get("orderTags"), "ifProfitSharing", f"{path}orderTags")
        return super().from_dict(flat, path=path)


# Wire layout shared by v2 and v3: emission order matches the worked example of
# docs/binance-pay.md#signing-example for the common fields; each version puts its goods fields
# between ORDER_HEAD and ORDER_TAIL.
ORDER_HEAD_WIRE: tuple[tuple[str, str], ...] = (
    ("env", "env"),
    ("merchant_trade_no", "merchantTradeNo"),
    ("order_amount", "orderAmount"),
    ("currency", "currency"),
    ("fiat_amount", "fiatAmount"),
    ("fiat_currency", "fiatCurrency"),
)
ORDER_TAIL_WIRE: tuple[tuple[str, str], ...] = (
    ("shipping", "shipping"),
    ("buyer", "buyer"),
    ("sub_merchant_id", "merchant"),
    ("return_url", "returnUrl"),
    ("cancel_url", "cancelUrl"),
    ("order_expire_time", "orderExpireTime"),
    ("support_pay_currency", "supportPayCurrency"),
    ("app_id", "appId"),
    ("universal_url_attach", "universalUrlAttach"),
    ("pass_through_info", "passThroughInfo"),
    ("webhook_url", "webhookUrl"),
    ("order_tags_if_profit_sharing", "orderTags"),
)
ORDER_KINDS: Mapping[str, object] = {
    "env": Env,
    "shipping": Shipping,
    "buyer": Buyer,
    "order_amount": "decimal",
    "fiat_amount": "decimal",
    "order_expire_time": "int",
    "order_tags_if_profit_sharing": "bool",
}


@dataclass(frozen=True)
class CreateOrderRequest(OrderRules):
    """Create Order v2 body (docs/binance-pay.md#create-order).

    Give ``order_amount`` + ``currency`` (crypto) and/or ``fiat_amount`` + ``fiat_currency``.
    ``sub_merchant_id`` is sent as ``{"merchant": {"subMerchantId": ...}}`` and
    ``order_tags_if_profit_sharing`` as ``{"orderTags": {"ifProfitSharing": ...}}``.
    ``order_expire_time`` is passed through as given (epoch ms; see the note in
    docs/binance-pay.md#create-order).
    """

    merchant_trade_no: str
    env: Env
    goods: Goods
    order_amount: Decimal | None = None
    currency: str | None = None
    fiat_amount: Decimal | None = None
    fiat_currency: str | None = None
    shipping: Shipping | None = None
    buyer: Buyer | None = None
    sub_merchant_id: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    order_expire_time: int | None = None
    support_pay_currency: str | None = None
    app_id: str | None = None
    universal_url_attach: str | None = None
    pass_through_info: str | None = None
    webhook_url: str | None = None
    order_tags_if_profit_sharing: bool | None = None

    _WIRE = (*ORDER_HEAD_WIRE, ("goods", "goods"), *ORDER_TAIL_WIRE)
    _KINDS = {**ORDER_KINDS, "goods": Goods}

    def __post_init__(self) -> None:
        self._check_order()
        if not isinstance(self.goods, Goods):
            raise TypeError("goods must be a Goods")
