"""Schemas of the small endpoints: Query/Close Order, Refund, Query Refund, Share Account Id."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox import errors as E
from sandbox.validation.fields import alnum, decimal_field, fail, req_text, text, url_field


@dataclass(frozen=True)
class OrderRef:
    prepay_id: str | None
    merchant_trade_no: str | None


def parse_order_ref(body: dict[str, Any]) -> OrderRef:
    """Query Order v2 / Close Order: prepayId or merchantTradeNo; prepayId wins
    (docs/binance-pay.md#query-order)."""
    code = E.INVALID_PARAM_WRONG_LENGTH
    prepay = alnum(body, "prepayId", "prepayId", max_len=19, code=code, required=False)
    trade_no = alnum(
        body, "merchantTradeNo", "merchantTradeNo", max_len=32, code=code, required=False
    )
    if prepay is None and trade_no is None:
        raise fail(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "prepayId",
            "prepayId or merchantTradeNo is required",
        )
    return OrderRef(prepay, None if prepay else trade_no)


@dataclass(frozen=True)
class RefundRequest:
    refund_request_id: str
    prepay_id: str
    amount: Decimal
    reason: str | None
    webhook_url: str | None


def parse_refund(body: dict[str, Any]) -> RefundRequest:
    """Refund Order (docs/binance-pay.md#refund-order)."""
    request_id = req_text(body, "refundRequestId", "refundRequestId", max_len=64)
    prepay = alnum(
        body, "prepayId", "prepayId", max_len=19, code=E.INVALID_PARAM_WRONG_LENGTH, required=True
    )
    amount = decimal_field(body, "refundAmount", "refundAmount", required=True) or Decimal(0)
    reason = text(body, "refundReason", "refundReason", max_len=256)
    webhook = url_field(body, "webhookUrl", "webhookUrl", one_param=False)
    return RefundRequest(request_id, prepay or "", amount, reason, webhook)


def parse_refund_query(body: dict[str, Any]) -> str:
    """Query Refund (docs/binance-pay.md#query-refund): the refundRequestId."""
    return req_text(body, "refundRequestId", "refundRequestId", max_len=64)


@dataclass(frozen=True)
class ShareRequest:
    request_id: str
    sub_merchant_id: str | None
    webhook_url: str | None


def parse_share(body: dict[str, Any]) -> ShareRequest:
    """Share Account Id (docs/binance-pay.md#share-account-id)."""
    request_id = alnum(
        body,
        "requestId",
        "requestId",
        max_len=32,
        code=E.REQUEST_ID_INVALID_OR_DUPLICATED,
        required=True,
    )
    sub = text(body, "subMerchantId", "subMerchantId", max_len=19)
    webhook = url_field(body, "webhookUrl", "webhookUrl", one_param=False)
    return ShareRequest(request_id or "", sub, webhook)
