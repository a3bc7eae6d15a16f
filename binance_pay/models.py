"""Typed request models for Binance Pay calls (REFERENCE 2.1), and re-exports of the results.

Request models are frozen dataclasses with ``Decimal`` amounts. ``to_dict()`` produces Binance's
field names, omits ``None`` and renders amounts as plain-notation strings (``"25.17"``; REFERENCE
2.1 accepts numeric strings), so the dict is ready for ``encode_body`` or a JSON column.
``from_dict()`` is the inverse: it accepts a Binance-named dict (amounts as ``Decimal``, ``int``
or numeric string; never ``float``), rejects unknown keys and raises ``ValueError`` naming the
dotted field path.

Constructors check the invariants Binance documents and that commonly bite
(REFERENCE 4.8 ``merchantTradeNo`` charset; 2.1 amount pairs and 8 decimals).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

from binance_pay._fields import parse_decimal
from binance_pay._json import plain_decimal
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
    "PersonName",
    "QueryOrderResult",
    "RefundQueryResult",
    "RefundResult",
    "ShareAccountResult",
    "Shipping",
    "ShippingAddress",
    "check_amount",
]

# REFERENCE 2.1 / 4.8: letters and digits only, at most 32.
MERCHANT_TRADE_NO_RE = re.compile(r"[A-Za-z0-9]{1,32}")
MAX_DECIMALS = 8  # REFERENCE 2.1: decimal(.8), minimum 0.00000001


def check_amount(value: object, field: str) -> None:
    """Raise unless ``value`` is a positive finite ``Decimal`` with at most 8 decimals."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{field}: expected Decimal, got {type(value).__name__}")
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{field}: must be a positive finite amount, got {value}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise ValueError(f"{field}: more than {MAX_DECIMALS} decimal places: {value}")


def _require_text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: required non-empty string")


def _wire_value(value: Any) -> Any:
    if isinstance(value, _Wire):
        return value.to_dict()
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return value


def _convert(kind: object, value: Any, path: str) -> Any:
    """Convert one wire value for ``from_dict``; ``kind`` is a type tag or a model class."""
    if isinstance(kind, type) and issubclass(kind, _Wire):
        return kind.from_dict(value, path=f"{path}.")
    if kind == "decimal":
        try:
            return parse_decimal(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    expected: type = {"str": str, "int": int, "bool": bool}[str(kind)]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{path}: expected {expected.__name__}, got {type(value).__name__}")
    return value


class _Wire:
    """Mapping between dataclass attributes and Binance field names.

    ``_WIRE`` lists ``(attribute, binanceKey)`` in the order ``to_dict`` emits them; ``_KINDS``
    gives the ``from_dict`` conversion per attribute (default ``"str"``).
    """

    _WIRE: ClassVar[tuple[tuple[str, str], ...]] = ()
    _KINDS: ClassVar[Mapping[str, object]] = {}

    def to_dict(self) -> dict[str, Any]:
        """Binance-named dict without ``None`` values; amounts as plain strings."""
        out: dict[str, Any] = {}
        for attr, key in self._WIRE:
            value = getattr(self, attr)
            if value is not None:
                out[key] = _wire_value(value)
        return out

    @classmethod
    def _kwargs(cls, data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValueError(f"{path.rstrip('.') or cls.__name__}: expected an object")
        attrs = {key: attr for attr, key in cls._WIRE}
        unknown = sorted(str(key) for key in data if key not in attrs)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(path + key for key in unknown)}")
        kwargs = {
            attrs[key]: _convert(cls._KINDS.get(attrs[key], "str"), value, path + key)
            for key, value in data.items()
            if value is not None
        }
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING and f.name not in kwargs:
                key = dict(cls._WIRE)[f.name]
                raise ValueError(f"{path}{key}: required")
        return kwargs

    @classmethod
    def from_dict(cls, data: Any, *, path: str = "") -> Self:
        """Build from a Binance-named dict; ``ValueError`` naming the field on bad input."""
        try:
            return cls(**cls._kwargs(data, path))
        except TypeError as exc:
            raise ValueError(f"{path.rstrip('.') or cls.__name__}: {exc}") from None


@dataclass(frozen=True)
class Env(_Wire):
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
        _require_text(self.terminal_type, "env.terminalType")


@dataclass(frozen=True)
class GoodsUnitAmount(_Wire):
    currency: str
    amount: Decimal

    _WIRE = (("currency", "currency"), ("amount", "amount"))
    _KINDS = {"amount": "decimal"}

    def __post_init__(self) -> None:
        _require_text(self.currency, "goodsUnitAmount.currency")
        check_amount(self.amount, "goodsUnitAmount.amount")


@dataclass(frozen=True)
class Goods(_Wire):
    """``goods`` object: type ``01`` tangible / ``02`` virtual; category e.g. ``Z000``."""

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
            _require_text(getattr(self, attr), f"goods.{key}")


@dataclass(frozen=True)
class PersonName(_Wire):
    first_name: str
    last_name: str
    middle_name: str | None = None

    _WIRE = (("first_name", "firstName"), ("middle_name", "middleName"), ("last_name", "lastName"))


@dataclass(frozen=True)
class ShippingAddress(_Wire):
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
class Shipping(_Wire):
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
class Buyer(_Wire):
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


@dataclass(frozen=True)
class CreateOrderRequest(_Wire):
    """Create Order v2 body (REFERENCE 2.1).

    Give ``order_amount`` + ``currency`` (crypto) and/or ``fiat_amount`` + ``fiat_currency``.
    ``sub_merchant_id`` is sent as ``{"merchant": {"subMerchantId": ...}}`` and
    ``order_tags_if_profit_sharing`` as ``{"orderTags": {"ifProfitSharing": ...}}``.
    ``order_expire_time`` is passed through as given (epoch ms; REFERENCE 2.1 note).
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

    # Emission order matches the worked example of REFERENCE 1.6 for the common fields.
    _WIRE = (
        ("env", "env"),
        ("merchant_trade_no", "merchantTradeNo"),
        ("order_amount", "orderAmount"),
        ("currency", "currency"),
        ("fiat_amount", "fiatAmount"),
        ("fiat_currency", "fiatCurrency"),
        ("goods", "goods"),
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
    _KINDS = {
        "env": Env,
        "goods": Goods,
        "shipping": Shipping,
        "buyer": Buyer,
        "order_amount": "decimal",
        "fiat_amount": "decimal",
        "order_expire_time": "int",
        "order_tags_if_profit_sharing": "bool",
    }

    def __post_init__(self) -> None:
        if not isinstance(self.merchant_trade_no, str) or not MERCHANT_TRADE_NO_RE.fullmatch(
            self.merchant_trade_no
        ):
            raise ValueError("merchantTradeNo: 1-32 letters or digits required")
        if not isinstance(self.env, Env) or not isinstance(self.goods, Goods):
            raise TypeError("env must be an Env and goods a Goods")
        # REFERENCE 2.1: orderAmount goes with currency, fiatAmount with fiatCurrency, and
        # currency and fiatCurrency cannot both be null.
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
            raise ValueError("CreateOrderRequest: expected an object")
        flat = dict(data)
        flat["merchant"] = _unwrap(flat.get("merchant"), "subMerchantId", f"{path}merchant")
        flat["orderTags"] = _unwrap(flat.get("orderTags"), "ifProfitSharing", f"{path}orderTags")
        return super().from_dict(flat, path=path)


def _unwrap(value: Any, key: str, path: str) -> Any:
    """``{"key": v}`` -> ``v``; ``None`` stays ``None``; anything else is rejected."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected an object")
    extra = sorted(str(k) for k in value if k != key)
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(f'{path}.{k}' for k in extra)}")
    return value.get(key)
