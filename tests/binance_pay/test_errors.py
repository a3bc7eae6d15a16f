"""Error classes: code names, retryability, truncation, pickling."""

from __future__ import annotations

import copy

import pytest

from binance_pay import (
    ApiError,
    BinancePayError,
    MalformedNotification,
    RateLimitError,
    SignatureError,
    TransportError,
    code_name,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("400000", "UNKNOWN_ERROR"),
        ("400002", "INVALID_SIGNATURE"),
        ("400003", "INVALID_TIMESTAMP"),
        ("400201", "INVALID_MERCHANT_TRADE_NO"),
        ("400202", "ORDER_NOT_FOUND"),
        ("400204", "INVALID_ORDER_STATUS"),
        ("400303", "INVALID_REFUND_AMOUNT"),
        ("400702", "PAYMENT_INVALID_PARAM"),
        ("406301", "PAYMENT_DIRECT_DEBIT_CONTRACT_CODE_INVALID"),
        ("999999", "UNKNOWN"),
        ("HTTP403", "UNKNOWN"),
    ],
)
def test_api_error_names(code: str, name: str) -> None:
    assert code_name(code) == name
    assert ApiError(code, "msg").name == name


def test_only_unknown_error_is_retryable() -> None:
    assert ApiError("400000").retryable
    assert not ApiError("400201").retryable
    assert not ApiError("HTTP403").retryable


def test_hierarchy() -> None:
    assert issubclass(RateLimitError, TransportError)
    for cls in (TransportError, ApiError, SignatureError, MalformedNotification):
        assert issubclass(cls, BinancePayError)
    assert issubclass(MalformedNotification, ValueError)
    assert not issubclass(ApiError, TransportError)


def test_transport_error_body_is_truncated() -> None:
    error = TransportError("boom", status_code=502, body="x" * 10_000)
    assert error.body is not None
    assert len(error.body) < 600
    assert str(error) == "boom (HTTP 502)"


@pytest.mark.parametrize(
    "error",
    [
        TransportError("timeout", status_code=None, body=None),
        RateLimitError("slow down", body="b", retry_after=2.0),
        ApiError("400201", "duplicate", http_status=400),
        SignatureError("bad_signature"),
        MalformedNotification("invalid_field", "bizId", "expected an integer"),
    ],
)
def test_errors_survive_pickling(error: BinancePayError) -> None:
    # Celery result backends pickle exceptions; deepcopy drives the same __reduce__ protocol
    clone = copy.deepcopy(error)
    assert type(clone) is type(error)
    assert clone.__dict__ == error.__dict__
    assert str(clone) == str(error)
    assert clone.args == error.args
