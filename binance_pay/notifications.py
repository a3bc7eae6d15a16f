"""Parsing of Binance Pay webhook bodies (docs/binance-pay.md#webhook-envelope,
docs/binance-pay.md#biztype-and-bizstatus, docs/binance-pay.md#pay-data,
docs/binance-pay.md#refund-data, docs/binance-pay.md#share-account-data,
docs/binance-pay.md#other-notifications).

Parse only bytes whose signature was verified (``binance_pay.webhook.verify_signature``); parsing
never normalises or re-serialises the body.

``parse_notification`` is strict on the envelope, because paysvc dedupes on
``(bizType, bizIdStr, bizStatus)`` and must never act on an ambiguous body:

* the body is UTF-8 JSON, an object, nested at most ``MAX_DEPTH`` deep, without duplicate keys;
* ``bizType`` and ``bizStatus`` are non-empty strings;
* ``bizIdStr`` is a non-empty string. When it is absent (older payloads, e.g. the refund sample
  of docs/binance-pay.md#refund-data) it is derived as ``str(bizId)`` -- only when ``bizId`` is a
  JSON integer (or a string of digits, as one doc page types it). A ``bizId`` in any other form, or
  one that does not equal ``bizIdStr`` exactly (``str(bizId) == bizIdStr``), is rejected;
* ``data`` is a JSON string holding an object/array (parsed a second time with the same strict
  rules), an object (``MERCHANT_QR_CODE``, docs/binance-pay.md#other-notifications), or
  absent/``null``;
* no string anywhere -- key or value, envelope, ``data`` or ``refundInfo`` -- holds a NUL or a
  lone surrogate (``invalid_text``, naming the field): neither is text Binance sends, a surrogate
  cannot even be encoded, and PostgreSQL stores no NUL (docs/binance-pay.md#webhook-envelope).

Numbers are parsed with ``Decimal``/``int`` only (docs/binance-pay.md#gotcha-big-bizid,
docs/binance-pay.md#gotcha-amounts), never ``float``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from binance_pay._fields import FieldReader
from binance_pay._json import (
    DuplicateKeyError,
    JsonDepthError,
    may_hold_unusable_text,
    strict_loads,
    text_problem,
)
from binance_pay.errors import BinancePayError, MalformedNotification

__all__ = [
    "PayNotificationData",
    "RefundInfo",
    "RefundNotificationData",
    "ShareAccountNotificationData",
    "WebhookNotification",
    "parse_notification",
]

_CANONICAL_UINT_RE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class WebhookNotification:
    """The webhook envelope. ``data`` is the parsed payload; ``raw_data`` the value as received."""

    biz_type: str
    biz_id_str: str
    biz_status: str
    data: dict[str, Any] | list[Any] | None = field(hash=False)
    raw_data: str | dict[str, Any] | list[Any] | None = field(repr=False, hash=False)
    biz_id: int | None = None

    def _data_object(self) -> Mapping[str, Any]:
        if not isinstance(self.data, Mapping):
            raise MalformedNotification("invalid_field", "data", "expected an object")
        return self.data

    def pay_data(self) -> PayNotificationData:
        """``data`` of a ``PAY`` notification, typed."""
        return PayNotificationData.from_dict(self._data_object())

    def refund_data(self) -> RefundNotificationData:
        """``data`` of a ``PAY_REFUND`` notification, typed."""
        return RefundNotificationData.from_dict(self._data_object())

    def share_account_data(self) -> ShareAccountNotificationData:
        """``data`` of a ``SHARE_ACCOUNT_ID`` notification, typed."""
        return ShareAccountNotificationData.from_dict(self._data_object())


def _malformed(reason: str, name: str, detail: str) -> BinancePayError:
    code = {"missing": "missing_field", "invalid": "invalid_field"}.get(reason, reason)
    return MalformedNotification(code, name, detail)


def _loads(text: str | bytes, where: str) -> Any:
    """Parse one JSON text of a notification (``where``: ``body``, ``data``, ``data.refundInfo``),
    refusing unusable text in it (see the module docstring)."""
    try:
        parsed = strict_loads(text)
    except UnicodeDecodeError:
        raise MalformedNotification("not_utf8", where) from None
    except JsonDepthError:
        raise MalformedNotification("too_deep", where) from None
    except DuplicateKeyError as exc:
        raise MalformedNotification("duplicate_key", where, f"key {exc.key!r}") from None
    except ValueError as exc:  # json.JSONDecodeError and number errors
        raise MalformedNotification("not_json", where, str(exc)[:120]) from None
    found = text_problem(parsed) if may_hold_unusable_text(text) else None
    if found is not None:
        path, problem = found
        field = where if not path else path if where == "body" else f"{where}.{path}"
        raise MalformedNotification("invalid_text", field, problem)
    return parsed


def _required_text(envelope: Mapping[str, Any], key: str) -> str:
    value = envelope.get(key)
    if value is None:
        raise MalformedNotification("missing_field", key)
    if not isinstance(value, str) or not value:
        raise MalformedNotification("invalid_field", key, "expected a non-empty string")
    return value


def _biz_id(envelope: Mapping[str, Any]) -> int | None:
    value = envelope.get("bizId")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _CANONICAL_UINT_RE.fullmatch(value):
        return int(value)
    # A Decimal here (e.g. 2.19E+17) would mean the id went through floating point somewhere.
    raise MalformedNotification("invalid_field", "bizId", "expected an integer")


def _data(envelope: Mapping[str, Any]) -> tuple[Any, Any]:
    raw = envelope.get("data")
    if raw is None:
        return None, None
    if isinstance(raw, str):
        # docs/binance-pay.md#webhook-envelope, docs/binance-pay.md#gotcha-data-is-a-string: data is
        # a JSON *string* that needs a second parse.
        parsed = _loads(raw, "data")
        if not isinstance(parsed, dict | list):
            raise MalformedNotification("invalid_field", "data", "expected an object or array")
        return parsed, raw
    if isinstance(raw, dict | list):
        return raw, raw  # docs/binance-pay.md#other-notifications: MERCHANT_QR_CODE sends an object
    raise MalformedNotification("invalid_field", "data", "expected a JSON string or object")


def parse_notification(body: bytes) -> WebhookNotification:
    """Parse a raw webhook body; ``MalformedNotification`` (a ``ValueError``) when unusable."""
    envelope = _loads(body, "body")
    if not isinstance(envelope, dict):
        raise MalformedNotification("not_object", "body")
    biz_type = _required_text(envelope, "bizType")
    biz_status = _required_text(envelope, "bizStatus")
    biz_id = _biz_id(envelope)
    if envelope.get("bizIdStr") is None:
        if biz_id is None:
            raise MalformedNotification("missing_field", "bizIdStr")
        biz_id_str = str(biz_id)
    else:
        biz_id_str = _required_text(envelope, "bizIdStr")
        if biz_id is not None and str(biz_id) != biz_id_str:
            raise MalformedNotification("id_mismatch", "bizId", "bizId != bizIdStr")
    data, raw_data = _data(envelope)
    return WebhookNotification(
        biz_type=biz_type,
        biz_id_str=biz_id_str,
        biz_status=biz_status,
        data=data,
        raw_data=raw_data,
        biz_id=biz_id,
    )


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedNotification("invalid_field", name, "expected an object")
    return value


def _reader(data: Any, prefix: str = "data.") -> FieldReader:
    return FieldReader(_object(data, prefix.rstrip(".")), _malformed, prefix)


@dataclass(frozen=True, kw_only=True)
class PayNotificationData:
    """``data`` of ``PAY`` (``PAY_SUCCESS``/``PAY_CLOSED``), docs/binance-pay.md#pay-data.

    Required: ``merchantTradeNo``, ``totalFee``, ``currency`` -- what is needed to match the order.
    The other documented fields are optional here because the ``PAY_CLOSED`` shape is unconfirmed.
    """

    merchant_trade_no: str
    product_type: str | None
    product_name: str | None
    transact_time: int | None
    trade_type: str | None
    total_fee: Decimal
    currency: str
    transaction_id: str | None
    open_user_id: str | None
    pass_through_info: str | None
    commission: Decimal | None
    payment_info: dict[str, Any] | None = field(default=None, hash=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        r = _reader(data)
        return cls(
            merchant_trade_no=r.string("merchantTradeNo"),
            product_type=r.opt_string("productType"),
            product_name=r.opt_string("productName"),
            transact_time=r.opt_integer("transactTime"),
            trade_type=r.opt_string("tradeType"),
            total_fee=r.decimal("totalFee"),
            currency=r.string("currency"),
            transaction_id=r.opt_id_str("transactionId"),
            open_user_id=r.opt_string("openUserId"),
            pass_through_info=r.opt_string("passThroughInfo"),
            commission=r.opt_decimal("commission"),
            payment_info=r.opt_dict("paymentInfo"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class RefundInfo:
    """``data.refundInfo`` of ``PAY_REFUND`` (an object inside the data JSON,
    docs/binance-pay.md#refund-data)."""

    refund_request_id: str
    prepay_id: str
    order_amount: Decimal
    refunded_amount: Decimal
    refund_amount: Decimal
    remaining_attempts: int | None
    payer_open_id: str | None
    duplicate_request: bool | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        r = _reader(data, "data.refundInfo.")
        return cls(
            refund_request_id=r.id_str("refundRequestId"),
            prepay_id=r.id_str("prepayId"),
            order_amount=r.decimal("orderAmount"),
            refunded_amount=r.decimal("refundedAmount"),
            refund_amount=r.decimal("refundAmount"),
            remaining_attempts=r.opt_integer("remainingAttempts"),
            payer_open_id=r.opt_string("payerOpenId"),
            duplicate_request=r.opt_yes_no("duplicateRequest"),
        )


@dataclass(frozen=True, kw_only=True)
class RefundNotificationData:
    """``data`` of ``PAY_REFUND`` (``REFUND_SUCCESS``/``REFUND_REJECTED``),
    docs/binance-pay.md#refund-data."""

    merchant_trade_no: str
    total_fee: Decimal
    currency: str
    open_user_id: str | None
    refund_info: RefundInfo
    product_type: str | None = None
    product_name: str | None = None
    trade_type: str | None = None
    transact_time: int | None = None
    commission: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        r = _reader(data)
        refund_info = data.get("refundInfo")
        if isinstance(refund_info, str):
            # Docs type refundInfo as "string"; real payloads nest an object. Accept both.
            refund_info = _loads(refund_info, "data.refundInfo")
        if refund_info is None:
            raise MalformedNotification("missing_field", "data.refundInfo")
        return cls(
            merchant_trade_no=r.string("merchantTradeNo"),
            total_fee=r.decimal("totalFee"),
            currency=r.string("currency"),
            open_user_id=r.opt_string("openUserId"),
            refund_info=RefundInfo.from_dict(_object(refund_info, "data.refundInfo")),
            product_type=r.opt_string("productType"),
            product_name=r.opt_string("productName"),
            trade_type=r.opt_string("tradeType"),
            transact_time=r.opt_integer("transactTime"),
            commission=r.opt_decimal("commission"),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class ShareAccountNotificationData:
    """``data`` of ``SHARE_ACCOUNT_ID`` (docs/binance-pay.md#share-account-data); ``userName`` may
    be omitted."""

    request_id: str
    user_binance_id: str
    user_name: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        r = _reader(data)
        return cls(
            request_id=r.id_str("requestId"),
            user_binance_id=r.id_str("userBinanceId"),
            user_name=r.opt_string("userName"),
        )
