"""Typed results of Binance Pay calls (docs/binance-pay.md#create-order,
docs/binance-pay.md#query-order, docs/binance-pay.md#close-order, docs/binance-pay.md#refund-order,
docs/binance-pay.md#query-refund, docs/binance-pay.md#query-certificates,
docs/binance-pay.md#share-account-id).

Every result is a frozen, keyword-only dataclass with ``Decimal`` amounts, built by
``from_dict(data)`` from the envelope's ``data``. Unknown fields are tolerated and the whole dict
is kept in ``.raw``. A missing or mistyped *required* field raises
``TransportError("malformed response: missing X")``: Binance said SUCCESS but we cannot tell
what it did, so the outcome is unknown and must be queried (docs/conventions.md#rule-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from binance_pay._fields import FieldReader
from binance_pay.errors import BinancePayError, TransportError
from binance_pay.webhook import cert_serial

__all__ = [
    "Certificate",
    "OrderResult",
    "QueryOrderResult",
    "RefundQueryResult",
    "RefundResult",
    "ShareAccountResult",
]


def _malformed(reason: str, name: str, detail: str) -> BinancePayError:
    suffix = f" ({detail})" if detail else ""
    return TransportError(f"malformed response: {reason} {name}{suffix}")


def _reader(data: Any, what: str) -> FieldReader:
    if not isinstance(data, Mapping):
        raise TransportError(f"malformed response: {what} data is not an object")
    return FieldReader(data, _malformed)


@dataclass(frozen=True, kw_only=True)
class OrderResult:
    """Create Order v2 ``data`` (docs/binance-pay.md#create-order).

    Required: ``prepayId``, ``expireTime``, ``currency``, ``totalFee``, ``checkoutUrl``. The other
    link fields are documented as required too, but the order exists once ``prepayId`` is known,
    so their absence is tolerated (``None``) rather than turned into an "outcome unknown" error.
    """

    prepay_id: str
    terminal_type: str | None
    expire_time: int
    qrcode_link: str | None
    qr_content: str | None
    checkout_url: str
    deeplink: str | None
    universal_url: str | None
    currency: str
    total_fee: Decimal
    fiat_currency: str | None = None
    fiat_amount: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "order")
        return cls(
            prepay_id=r.id_str("prepayId"),
            terminal_type=r.opt_string("terminalType"),
            expire_time=r.integer("expireTime"),
            qrcode_link=r.opt_string("qrcodeLink"),
            qr_content=r.opt_string("qrContent"),
            checkout_url=r.string("checkoutUrl"),
            deeplink=r.opt_string("deeplink"),
            universal_url=r.opt_string("universalUrl"),
            currency=r.string("currency"),
            total_fee=r.decimal("totalFee"),
            fiat_currency=r.opt_string("fiatCurrency"),
            fiat_amount=r.opt_decimal("fiatAmount"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class QueryOrderResult:
    """Query Order v2 ``data`` (docs/binance-pay.md#query-order). ``status`` is kept as sent (e.g.
    ``PAID``)."""

    merchant_id: int
    prepay_id: str
    transaction_id: str | None
    merchant_trade_no: str
    status: str
    currency: str
    order_amount: Decimal
    open_user_id: str | None
    pass_through_info: str | None
    commission: Decimal | None
    transact_time: int | None
    create_time: int
    payment_info: dict[str, Any] | None = field(default=None, hash=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "query order")
        return cls(
            merchant_id=r.integer("merchantId"),
            prepay_id=r.id_str("prepayId"),
            transaction_id=r.opt_id_str("transactionId"),
            merchant_trade_no=r.string("merchantTradeNo"),
            status=r.string("status"),
            currency=r.string("currency"),
            order_amount=r.decimal("orderAmount"),
            open_user_id=r.opt_string("openUserId"),
            pass_through_info=r.opt_string("passThroughInfo"),
            commission=r.opt_decimal("commission"),
            transact_time=r.opt_integer("transactTime"),
            create_time=r.integer("createTime"),
            payment_info=r.opt_dict("paymentInfo"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class RefundResult:
    """Refund Order ``data`` (docs/binance-pay.md#refund-order): the request is acknowledged, not
    yet final.

    ``refund_id`` is kept as a string even when Binance sends a JSON number.
    ``duplicate_request`` is True when this ``refundRequestId`` was already seen (``"Y"``).
    """

    refund_id: str | None
    refund_request_id: str
    prepay_id: str
    order_amount: Decimal
    refunded_amount: Decimal
    refund_amount: Decimal
    remaining_attempts: int
    payer_open_id: str | None
    duplicate_request: bool
    refunded_commission: Decimal | None = None
    refund_commission: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "refund")
        return cls(
            refund_id=r.opt_id_str("refundId"),
            refund_request_id=r.id_str("refundRequestId"),
            prepay_id=r.id_str("prepayId"),
            order_amount=r.decimal("orderAmount"),
            refunded_amount=r.decimal("refundedAmount"),
            refund_amount=r.decimal("refundAmount"),
            remaining_attempts=r.integer("remainingAttempts"),
            payer_open_id=r.opt_string("payerOpenId"),
            duplicate_request=r.yes_no("duplicateRequest"),
            refunded_commission=r.opt_decimal("refundedCommission"),
            refund_commission=r.opt_decimal("refundCommission"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class RefundQueryResult:
    """Query Refund ``data`` (docs/binance-pay.md#query-refund).

    ``refund_status`` is ``REFUND_SUCCESS``, ``REFUND_FAIL`` or ``REFUND_PENDING`` (note: the
    webhook says ``REFUND_REJECTED``, docs/binance-pay.md#refund-statuses).
    ``duplicate_request`` is not documented for this endpoint and is ``None`` unless sent.
    """

    refund_id: str | None
    refund_request_id: str
    prepay_id: str
    order_amount: Decimal
    refunded_amount: Decimal
    refund_amount: Decimal
    remaining_attempts: int
    payer_open_id: str | None
    refund_status: str
    refunded_commission: Decimal | None = None
    refund_commission: Decimal | None = None
    duplicate_request: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "refund query")
        return cls(
            refund_id=r.opt_id_str("refundId"),
            refund_request_id=r.id_str("refundRequestId"),
            prepay_id=r.id_str("prepayId"),
            order_amount=r.decimal("orderAmount"),
            refunded_amount=r.decimal("refundedAmount"),
            refund_amount=r.decimal("refundAmount"),
            remaining_attempts=r.integer("remainingAttempts"),
            payer_open_id=r.opt_string("payerOpenId"),
            refund_status=r.string("refundStatus"),
            refunded_commission=r.opt_decimal("refundedCommission"),
            refund_commission=r.opt_decimal("refundCommission"),
            duplicate_request=r.opt_yes_no("duplicateRequest"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class Certificate:
    """One entry of Query Certificates (docs/binance-pay.md#query-certificates): ``certPublic`` is a
    PEM SPKI string."""

    cert_serial: str
    cert_public: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def serial_matches_public_key(self) -> bool:
        """docs/binance-pay.md#query-certificates: ``certSerial`` is the upper-hex MD5 of the exact
        ``certPublic``."""
        return cert_serial(self.cert_public) == self.cert_serial

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "certificate")
        return cls(
            cert_serial=r.string("certSerial"), cert_public=r.string("certPublic"), raw=dict(data)
        )


@dataclass(frozen=True, kw_only=True)
class ShareAccountResult:
    """Share Account Id ``data`` (docs/binance-pay.md#share-account-id). ``id`` later arrives as the
    webhook's bizIdStr."""

    merchant_id: int
    id: str
    request_id: str
    expire_time: int
    qrcode_content: str
    qrcode_url: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        r = _reader(data, "share account")
        return cls(
            merchant_id=r.integer("merchantId"),
            id=r.id_str("id"),
            request_id=r.id_str("requestId"),
            expire_time=r.integer("expireTime"),
            qrcode_content=r.string("qrcodeContent"),
            qrcode_url=r.string("qrcodeUrl"),
            raw=dict(data),
        )
